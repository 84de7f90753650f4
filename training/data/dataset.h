// Training data in memory, the formats `onyx train` reads, and what a training loop does with a
// data set: shuffle it per epoch (reproducibly from a seed), split off a validation part, cut
// batches (the last one partial), and check and convert its arrays against the model's declared
// input types and shapes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "runtime/ir/type_info.h"
#include "runtime/tensor/value.h"

namespace onyx::training::data {

// Named arrays whose dim 0 is the sample index (every array has the same number of samples).
struct Dataset {
  std::map<std::string, Tensor> arrays;
  std::string source;  // the data as the user named it, for messages
  int64_t size() const { return arrays.empty() ? 0 : arrays.begin()->second.dim(0); }
};

struct LoadOptions {
  // Name for the unnamed features array: CSV's feature columns, IDX images, a pair's first .npy.
  std::string features = "input";
  // Name of the labels: CSV's label column, IDX labels, a pair's second .npy, an .npz key.
  std::string label = "label";
};

// Reads a data set; the format follows from `spec`:
//   FILE.npz                 arrays by their numpy.savez names (stored or compressed)
//   X.npy,Y.npy              features and labels; NAME=FILE.npy,... names each array itself
//   FILE.csv                 a header row; the `label` column is the label, the other columns
//                            (numbers) the float32 features [samples, columns]
//   DIR or DIR/PREFIX        IDX files (MNIST's format, gzipped or not): DIR/PREFIX-images-*
//                            and DIR/PREFIX-labels-*; plain DIR takes its only pair, or "train".
//                            Images become float32 in [0, 1] (pixel / 255, like torchvision's
//                            ToTensor), labels int64.
// Throws one onyx::Error naming the file for a missing file, a corrupt one, a missing label
// column, or arrays whose sample counts differ.
Dataset load_dataset(const std::string& spec, const LoadOptions& options);

// The samples at `indices`, in that order.
Dataset take_samples(const Dataset& dataset, std::span<const int64_t> indices);
// (train, validation): a seeded random `fraction` of the samples is held out (0 < fraction < 1).
std::pair<Dataset, Dataset> split_dataset(const Dataset& dataset, double fraction, uint64_t seed);
// The order of the samples in `epoch`: a permutation that depends only on (seed, epoch), so a
// run resumed mid-epoch sees the same order.
std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch);
// Samples order[begin, end) as feeds, by array name.
std::map<std::string, Value> make_batch(const Dataset& dataset, const std::vector<int64_t>& order, int64_t begin,
                                        int64_t end);

// What the model needs of one array: its element type and the dims after the batch dim (a dim
// with no known value matches anything).
struct ArrayRequirement {
  std::string name;
  DataType dtype = DataType::kFloat;
  std::optional<std::vector<Dim>> sample_dims;  // nullopt: any shape
  std::string role;                              // "model input", "label for cross_entropy", ...
};

// Makes `dataset` feed the model: each required array must be present; it is converted to the
// required type (floats and integers between each other; floats to integers only when every
// value is whole, as class labels must be) and reshaped when its per-sample element count
// matches. Arrays nothing requires are dropped. Throws naming the array, what the data holds
// and what the model declares.
void conform_dataset(Dataset& dataset, const std::vector<ArrayRequirement>& requirements);

// Converts a numeric tensor to `dtype` (see conform_dataset); `what` names it in errors.
Tensor convert_array(const Tensor& array, DataType dtype, const std::string& what);

}  // namespace onyx::training::data
