// IDX data (the MNIST / Fashion-MNIST format): a folder of PREFIX-images-idx3-ubyte[.gz] and
// PREFIX-labels-idx1-ubyte[.gz] files.
#include <cstring>
#include <set>

#include <re2/re2.h>

#include "runtime/common/error.h"
#include "training/data/archives.h"
#include "training/data/dataset_formats.h"

namespace onyx::training::data {

namespace fs = std::filesystem;

namespace {

struct IdxPair {
  fs::path images, labels;
};

// PREFIX -> files, for every "PREFIX-images-idxN-ubyte[.gz]" / "-labels-" in `folder`
// (MNIST's original names use a dot: "train-images.idx3-ubyte").
std::map<std::string, IdxPair> idx_files(const fs::path& folder) {
  static const RE2 pattern(R"((.*)-(images|labels)[-.]idx[0-9]-ubyte(?:\.gz)?)");
  std::map<std::string, IdxPair> pairs;
  for (const auto& entry : fs::directory_iterator(folder)) {
    std::string prefix, kind;
    if (!RE2::FullMatch(entry.path().filename().string(), pattern, &prefix, &kind)) continue;
    IdxPair& pair = pairs[prefix];
    (kind == "images" ? pair.images : pair.labels) = entry.path();
  }
  return pairs;
}

uint64_t big_endian(const std::string& bytes, size_t offset, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) value = value << 8 | static_cast<unsigned char>(bytes[offset + i]);
  return value;
}

}  // namespace

Tensor read_idx_file(const fs::path& path) {
  const std::string bytes = read_maybe_gzipped(path);
  const std::string source = path.string();
  ONYX_CHECK(bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0, ErrorCode::kInvalidArgument, source,
             " is not an IDX file");
  DataType dtype = DataType::kUndefined;
  switch (static_cast<unsigned char>(bytes[2])) {
    case 0x08: dtype = DataType::kUInt8; break;
    case 0x09: dtype = DataType::kInt8; break;
    case 0x0B: dtype = DataType::kInt16; break;
    case 0x0C: dtype = DataType::kInt32; break;
    case 0x0D: dtype = DataType::kFloat; break;
    case 0x0E: dtype = DataType::kDouble; break;
    default: throw_error(ErrorCode::kInvalidArgument, source, " is not an IDX file (unknown type code ",
                         static_cast<int>(static_cast<unsigned char>(bytes[2])), ")");
  }
  const size_t rank = static_cast<unsigned char>(bytes[3]);
  ONYX_CHECK(rank >= 1 && bytes.size() >= 4 + 4 * rank, ErrorCode::kInvalidArgument, source, ": truncated IDX header");
  Shape shape;
  for (size_t d = 0; d < rank; ++d) shape.push_back(static_cast<int64_t>(big_endian(bytes, 4 + 4 * d, 4)));
  // The header's dims are compared with the bytes present before anything is allocated: a
  // header claiming 2^32 x 2^32 images must not allocate them (fuzz regressions
  // data_readers/idx-huge-dims, data_readers/idx-claims-gigabytes).
  const size_t data_bytes = bytes.size() - 4 - 4 * rank;
  std::optional<int64_t> count = 1;
  for (int64_t d : shape) count = count ? multiply_dims(*count, d) : std::nullopt;
  std::optional<size_t> needed = count ? storage_bytes(dtype, *count) : std::nullopt;
  ONYX_CHECK(needed && *needed == data_bytes, ErrorCode::kInvalidArgument, source, ": IDX data has ", data_bytes,
             " bytes, shape ", shape_to_string(shape), " needs ", exact_storage_bytes(dtype, shape));
  Tensor tensor(dtype, shape);
  const size_t width = dtype_storage_bytes(dtype, 1);
  auto* out = static_cast<unsigned char*>(tensor.mutable_raw_data());
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data() + 4 + 4 * rank);
  // IDX stores multi-byte values big-endian.
  for (size_t i = 0; i < tensor.byte_size(); i += width) {
    for (size_t b = 0; b < width; ++b) out[i + b] = in[i + width - 1 - b];
  }
  return tensor;
}

Dataset read_idx_dataset(const fs::path& spec, const LoadOptions& options) {
  fs::path folder = spec;
  std::string prefix;
  if (!fs::is_directory(spec)) {
    folder = spec.parent_path().empty() ? fs::path(".") : spec.parent_path();
    prefix = spec.filename().string();
    ONYX_CHECK(fs::is_directory(folder) && !fs::exists(spec), ErrorCode::kInvalidArgument, "cannot read data '",
               spec.string(), "': ", fs::exists(spec) ? "unknown format (use .npz, .npy, .csv or a folder of IDX files)"
                                                      : "no such file or folder");
  }
  std::map<std::string, IdxPair> pairs = idx_files(folder);
  ONYX_CHECK(!pairs.empty() || fs::is_directory(spec), ErrorCode::kInvalidArgument, "cannot read data '",
             spec.string(), "': no such file or folder");
  std::string names;
  for (const auto& [name, pair] : pairs) names += (names.empty() ? "" : ", ") + name;
  if (prefix.empty()) {
    ONYX_CHECK(!pairs.empty(), ErrorCode::kInvalidArgument, "folder ", folder.string(),
               " holds no IDX files (PREFIX-images-idx3-ubyte[.gz] and PREFIX-labels-idx1-ubyte[.gz])");
    if (pairs.size() == 1) {
      prefix = pairs.begin()->first;
    } else {
      ONYX_CHECK(pairs.count("train"), ErrorCode::kInvalidArgument, "folder ", folder.string(),
                 " holds several IDX sets (", names, "); name one as ", (folder / pairs.begin()->first).string());
      prefix = "train";
    }
  }
  auto found = pairs.find(prefix);
  ONYX_CHECK(found != pairs.end(), ErrorCode::kInvalidArgument, "cannot read data '", spec.string(),
             "': no such file or folder, and ", folder.string(), " holds no IDX set '", prefix, "'",
             names.empty() ? std::string() : " (it has: " + names + ")");
  ONYX_CHECK(!found->second.images.empty() && !found->second.labels.empty(), ErrorCode::kInvalidArgument,
             "IDX set '", prefix, "' in ", folder.string(), " lacks its ",
             found->second.images.empty() ? "images" : "labels", " file");
  Tensor images = read_idx_file(found->second.images);
  Tensor labels = read_idx_file(found->second.labels);
  ONYX_CHECK(labels.rank() == 1, ErrorCode::kInvalidArgument, found->second.labels.string(),
             ": labels should be one number per sample, got shape ", shape_to_string(labels.shape()));
  Dataset dataset;
  if (images.dtype() == DataType::kUInt8) {
    // Pixels to [0, 1], as torchvision's ToTensor does.
    Tensor scaled(DataType::kFloat, images.shape());
    const uint8_t* in = images.data<uint8_t>();
    float* out = scaled.mutable_data<float>();
    for (int64_t i = 0; i < images.element_count(); ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
    images = std::move(scaled);
  }
  dataset.arrays[options.features] = std::move(images);
  dataset.arrays[options.label] = convert_array(labels, DataType::kInt64, found->second.labels.string());
  return dataset;
}

}  // namespace onyx::training::data
