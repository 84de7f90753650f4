// NumPy data: .npz archives (arrays by name) and .npy files (a features/labels pair or named).
#include <vector>

#include "runtime/common/error.h"
#include "runtime/ir/value_files.h"
#include "training/data/archives.h"
#include "training/data/dataset_formats.h"

namespace onyx::training::data {

Dataset read_npz_dataset(const std::filesystem::path& path) {
  Dataset dataset;
  for (const auto& [entry, bytes] : read_zip_archive(path)) {
    std::string name = entry;
    if (name.size() > 4 && name.ends_with(".npy")) name.resize(name.size() - 4);
    dataset.arrays[name] = parse_npy(bytes, path.string() + ":" + entry);
  }
  return dataset;
}

Dataset read_npy_dataset(const std::string& spec, const LoadOptions& options) {
  std::vector<std::string> items;
  for (size_t start = 0; start <= spec.size();) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    if (comma > start) items.push_back(spec.substr(start, comma - start));
    start = comma + 1;
  }
  Dataset dataset;
  std::vector<std::string> bare;
  for (const std::string& item : items) {
    const size_t equals = item.find('=');
    if (equals == std::string::npos) {
      bare.push_back(item);
      continue;
    }
    ONYX_CHECK(equals > 0 && equals + 1 < item.size(), ErrorCode::kInvalidArgument,
               "data item '", item, "' should be NAME=FILE.npy");
    dataset.arrays[item.substr(0, equals)] = read_npy(item.substr(equals + 1));
  }
  // Unnamed files: the features, then the labels (an "X.npy,Y.npy" pair).
  ONYX_CHECK(bare.size() <= 2, ErrorCode::kInvalidArgument, "data '", spec,
             "' lists more than two unnamed .npy files; name them as NAME=FILE.npy");
  const std::string* names[] = {&options.features, &options.label};
  for (size_t i = 0; i < bare.size(); ++i) dataset.arrays[*names[i]] = read_npy(bare[i]);
  return dataset;
}

}  // namespace onyx::training::data
