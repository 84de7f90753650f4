// The readers behind load_dataset, one per format (dataset.h documents the spellings).
#pragma once

#include <filesystem>
#include <string>

#include "training/data/dataset.h"

namespace onyx::training::data {

Dataset read_npz_dataset(const std::filesystem::path& path);
// "X.npy,Y.npy" or "NAME=X.npy,NAME=Y.npy".
Dataset read_npy_dataset(const std::string& spec, const LoadOptions& options);
Dataset read_csv_dataset(const std::filesystem::path& path, const LoadOptions& options);
// DIR or DIR/PREFIX (see load_dataset).
Dataset read_idx_dataset(const std::filesystem::path& spec, const LoadOptions& options);
// One IDX file (magic 0x0000 <type> <rank>, big-endian dims, data), gzipped or not.
Tensor read_idx_file(const std::filesystem::path& path);

}  // namespace onyx::training::data
