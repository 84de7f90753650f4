#include "training/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <random>
#include <sstream>

#include "runtime/common/error.h"
#include "training/data/dataset_formats.h"

namespace onyx::training::data {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_sample_counts(const Dataset& dataset) {
  ONYX_CHECK(!dataset.arrays.empty(), ErrorCode::kInvalidArgument, dataset.source, " holds no arrays");
  const auto& [first_name, first] = *dataset.arrays.begin();
  for (const auto& [name, array] : dataset.arrays) {
    ONYX_CHECK(array.rank() >= 1, ErrorCode::kInvalidArgument, dataset.source, ": array '", name,
               "' is a scalar; every array needs the samples along its first dim");
    ONYX_CHECK(array.dim(0) == first.dim(0), ErrorCode::kInvalidArgument, dataset.source, ": array '", name, "' has ",
               array.dim(0), " samples, '", first_name, "' has ", first.dim(0));
  }
  ONYX_CHECK(first.dim(0) > 0, ErrorCode::kInvalidArgument, dataset.source, " holds no samples");
}

// Element-wise conversion through double (exact for every integer a label can be, and for the
// float types data sets use).
template <typename To>
void convert_into(const Tensor& from, Tensor& to) {
  To* out = to.mutable_data<To>();
  const int64_t count = from.element_count();
  switch (from.dtype()) {
#define ONYX_CONVERT_FROM(CppType, Code)                                          \
  case DataType::Code: {                                                          \
    const CppType* in = from.data<CppType>();                                     \
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<To>(in[i]);          \
    return;                                                                       \
  }
    ONYX_CONVERT_FROM(float, kFloat)
    ONYX_CONVERT_FROM(double, kDouble)
    ONYX_CONVERT_FROM(int8_t, kInt8)
    ONYX_CONVERT_FROM(int16_t, kInt16)
    ONYX_CONVERT_FROM(int32_t, kInt32)
    ONYX_CONVERT_FROM(int64_t, kInt64)
    ONYX_CONVERT_FROM(uint8_t, kUInt8)
    ONYX_CONVERT_FROM(uint16_t, kUInt16)
    ONYX_CONVERT_FROM(uint32_t, kUInt32)
    ONYX_CONVERT_FROM(uint64_t, kUInt64)
    ONYX_CONVERT_FROM(bool, kBool)
#undef ONYX_CONVERT_FROM
    default:
      for (int64_t i = 0; i < count; ++i) out[i] = static_cast<To>(from.element_as_double(i));
  }
}

std::string describe_dims(const std::optional<std::vector<Dim>>& dims) {
  if (!dims) return "any shape";
  std::ostringstream text;
  text << "[batch";
  for (const Dim& dim : *dims) {
    text << ",";
    if (dim.is_known()) {
      text << dim.value;
    } else {
      text << (dim.symbol.empty() ? "?" : dim.symbol);
    }
  }
  text << "]";
  return text.str();
}

// "[60000 samples,28,28]" (ostringstream: GCC 12 warns falsely on chains of string +).
std::string describe_sample_shape(const Shape& shape) {
  std::ostringstream text;
  text << "[" << shape[0] << " samples";
  for (size_t i = 1; i < shape.size(); ++i) text << "," << shape[i];
  text << "]";
  return text.str();
}

// A zero-byte file (a failed download or export) gets one plain message rather than its
// format's parse error.
void check_files_not_empty(const std::string& spec) {
  for (size_t start = 0; start <= spec.size();) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    std::string item = spec.substr(start, comma - start);
    start = comma + 1;
    if (const size_t equals = item.find('='); equals != std::string::npos) item = item.substr(equals + 1);
    std::error_code error;
    if (!item.empty() && fs::is_regular_file(item, error) && fs::file_size(item, error) == 0 && !error) {
      throw_error(ErrorCode::kInvalidArgument, item, " is empty (0 bytes): no data to train on");
    }
  }
}

}  // namespace

Dataset load_dataset(const std::string& spec, const LoadOptions& options) {
  ONYX_CHECK(!spec.empty(), ErrorCode::kInvalidArgument, "empty data path");
  check_files_not_empty(spec);
  Dataset dataset;
  if (spec.find(',') != std::string::npos || spec.find('=') != std::string::npos || ends_with(spec, ".npy")) {
    dataset = read_npy_dataset(spec, options);
  } else if (ends_with(spec, ".npz")) {
    dataset = read_npz_dataset(spec);
  } else if (ends_with(spec, ".csv")) {
    dataset = read_csv_dataset(spec, options);
  } else {
    dataset = read_idx_dataset(spec, options);
  }
  dataset.source = spec;
  check_sample_counts(dataset);
  return dataset;
}

Dataset take_samples(const Dataset& dataset, std::span<const int64_t> indices) {
  Dataset taken;
  taken.source = dataset.source;
  const int64_t count = static_cast<int64_t>(indices.size());
  for (const auto& [name, array] : dataset.arrays) {
    Shape shape = array.shape();
    shape[0] = count;
    Tensor out(array.dtype(), shape);
    const size_t row_bytes = array.dim(0) ? array.byte_size() / static_cast<size_t>(array.dim(0)) : 0;
    const auto* in = static_cast<const char*>(array.raw_data());
    auto* to = static_cast<char*>(out.mutable_raw_data());
    for (int64_t i = 0; i < count; ++i) {
      std::memcpy(to + static_cast<size_t>(i) * row_bytes, in + static_cast<size_t>(indices[i]) * row_bytes, row_bytes);
    }
    taken.arrays.emplace(name, std::move(out));
  }
  return taken;
}

std::pair<Dataset, Dataset> split_dataset(const Dataset& dataset, double fraction, uint64_t seed) {
  ONYX_CHECK(fraction > 0 && fraction < 1, ErrorCode::kInvalidArgument, "--val-split must be between 0 and 1, got ",
             fraction);
  const int64_t size = dataset.size();
  const int64_t held_out = static_cast<int64_t>(std::llround(fraction * static_cast<double>(size)));
  ONYX_CHECK(held_out >= 1 && held_out < size, ErrorCode::kInvalidArgument, "--val-split ", fraction, " of ", size,
             " samples leaves an empty training or validation set");
  // A fixed permutation (epoch -1), so every run and every resume holds out the same samples.
  std::vector<int64_t> order = epoch_order(size, seed, -1);
  std::span<const int64_t> all(order);
  Dataset train = take_samples(dataset, all.subspan(0, static_cast<size_t>(size - held_out)));
  Dataset validation = take_samples(dataset, all.subspan(static_cast<size_t>(size - held_out)));
  validation.source = dataset.source + " (validation split)";
  return {std::move(train), std::move(validation)};
}

std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(size));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::seed_seq sequence{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                         static_cast<uint32_t>(epoch), static_cast<uint32_t>(static_cast<uint64_t>(epoch) >> 32)};
  std::mt19937_64 generator(sequence);
  // Fisher-Yates with our own index draws: std::shuffle's sequence is library-specific.
  for (int64_t i = size - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(generator() % static_cast<uint64_t>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

std::map<std::string, Value> make_batch(const Dataset& dataset, const std::vector<int64_t>& order, int64_t begin,
                                        int64_t end) {
  std::span<const int64_t> indices(order.data() + begin, static_cast<size_t>(end - begin));
  Dataset batch = take_samples(dataset, indices);
  std::map<std::string, Value> feeds;
  for (auto& [name, array] : batch.arrays) feeds.emplace(name, Value(std::move(array)));
  return feeds;
}

Tensor convert_array(const Tensor& array, DataType dtype, const std::string& what) {
  if (array.dtype() == dtype) return array;
  const bool from_number = dtype_is_float(array.dtype()) || dtype_is_integer(array.dtype()) ||
                           array.dtype() == DataType::kBool;
  ONYX_CHECK(from_number && (dtype_is_float(dtype) || dtype_is_integer(dtype)), ErrorCode::kInvalidArgument, what,
             " is ", dtype_name(array.dtype()), ", the model needs ", dtype_name(dtype));
  if (dtype_is_integer(dtype) && dtype_is_float(array.dtype())) {
    for (int64_t i = 0; i < array.element_count(); ++i) {
      const double value = array.element_as_double(i);
      ONYX_CHECK(std::isfinite(value) && value == std::floor(value), ErrorCode::kInvalidArgument, what, " holds ",
                 value, " at element ", i, ", but the model needs ", dtype_name(dtype),
                 " (whole numbers, such as class indices)");
    }
  }
  Tensor out(dtype, array.shape());
  switch (dtype) {
    case DataType::kFloat: convert_into<float>(array, out); break;
    case DataType::kDouble: convert_into<double>(array, out); break;
    case DataType::kInt64: convert_into<int64_t>(array, out); break;
    case DataType::kInt32: convert_into<int32_t>(array, out); break;
    case DataType::kUInt8: convert_into<uint8_t>(array, out); break;
    default:
      throw_error(ErrorCode::kNotImplemented, what, " is ", dtype_name(array.dtype()), " and the model needs ",
                  dtype_name(dtype), ": onyx train converts data only to float, double, int64, int32 and uint8");
  }
  return out;
}

void conform_dataset(Dataset& dataset, const std::vector<ArrayRequirement>& requirements) {
  std::map<std::string, Tensor> conformed;
  for (const ArrayRequirement& required : requirements) {
    auto found = dataset.arrays.find(required.name);
    if (found == dataset.arrays.end()) {
      std::string names;
      for (const auto& [name, array] : dataset.arrays) names += (names.empty() ? "'" : ", '") + name + "'";
      throw_error(ErrorCode::kInvalidArgument, dataset.source, " has no array '", required.name, "' (the ",
                  required.role, "); it holds ", names);
    }
    const std::string what = dataset.source + ": '" + required.name + "' (the " + required.role + ")";
    Tensor array = found->second;
    if (required.sample_dims) {
      const std::vector<Dim>& dims = *required.sample_dims;
      bool matches = array.rank() == dims.size() + 1;
      for (size_t d = 0; matches && d < dims.size(); ++d) {
        matches = !dims[d].is_known() || dims[d].value == array.dim(d + 1);
      }
      if (!matches) {
        // Same elements per sample in another layout (784 pixels for a [1,28,28] input): reshape.
        int64_t wanted = 1;
        bool known = true;
        for (const Dim& dim : dims) known = known && dim.is_known(), wanted *= dim.is_known() ? dim.value : 1;
        const int64_t per_sample = array.dim(0) ? array.element_count() / array.dim(0) : 0;
        ONYX_CHECK(known && wanted == per_sample, ErrorCode::kInvalidArgument, what, " has shape ",
                   describe_sample_shape(array.shape()), ", the model declares ", describe_dims(required.sample_dims));
        Shape shape{array.dim(0)};
        for (const Dim& dim : dims) shape.push_back(dim.value);
        array = array.reshaped(shape);
      }
    }
    conformed[required.name] = convert_array(array, required.dtype, what);
  }
  dataset.arrays = std::move(conformed);
}

}  // namespace onyx::training::data
