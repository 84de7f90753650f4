// What the onyx::nn worked examples (tools/examples/nn_*.cc) share, kept here once so each
// example shows only its own point: a main that reports errors in one line, `--name value`
// options, seeded random inputs, and Fashion-MNIST from Debian's package (batches of images
// and labels, test-set accuracy).
#pragma once

#include <algorithm>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "runtime/common/error.h"
#include "runtime/common/portable_random.h"
#include "training/data/dataset.h"
#include "training/nn/nn.h"

namespace onyx::examples {

namespace data = training::data;

inline const char* const kFashionMnistFolder = "/usr/share/datasets/fashion-mnist";

// The value after `name` on the command line, or `fallback`.
inline std::string option(int argc, char** argv, const char* name, std::string fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}

// A float tensor of standard normal values drawn from `engine`.
inline Tensor random_normal(const Shape& shape, portable_random::Engine& engine) {
  Tensor x(DataType::kFloat, shape);
  float* out = x.mutable_data<float>();
  for (int64_t i = 0; i < x.element_count(); ++i) out[i] = static_cast<float>(portable_random::normal(engine, 0, 1));
  return x;
}

struct FashionMnist {
  data::Dataset train;  // 60000 images [N, 28, 28] in [0, 1] ("input") and int64 labels ("label")
  data::Dataset test;   // 10000 of them
};

inline FashionMnist load_fashion_mnist(const std::string& folder) {
  return {data::load_dataset(folder + "/train", {}), data::load_dataset(folder + "/t10k", {})};
}

// The images and labels of samples order[begin, end).
inline Tensor images_of(const data::Dataset& set, const std::vector<int64_t>& order, int64_t begin, int64_t end) {
  return data::make_batch(set, order, begin, end).at("input").tensor();
}
inline Tensor labels_of(const data::Dataset& set, const std::vector<int64_t>& order, int64_t begin, int64_t end) {
  return data::make_batch(set, order, begin, end).at("label").tensor();
}

// The classifier's accuracy over the whole test set, in eval mode (the model stays in it).
inline double test_accuracy(nn::Module& model, const data::Dataset& test) {
  model.eval();
  nn::BuiltinMetric accuracy("accuracy");
  std::vector<int64_t> all(test.size());
  for (int64_t i = 0; i < test.size(); ++i) all[i] = i;
  for (int64_t begin = 0; begin < test.size(); begin += 1000) {
    const int64_t end = std::min(test.size(), begin + 1000);
    accuracy.update_state(model.call({images_of(test, all, begin, end)})[0], labels_of(test, all, begin, end));
  }
  return accuracy.result();
}

// Runs an example's body; an error becomes one line on stderr and exit status 1.
template <typename Body>
int run_example(Body&& body) {
  try {
    return body();
  } catch (const std::exception& error) {
    std::cerr << "error: " << user_message(error) << "\n";
    return 1;
  }
}

}  // namespace onyx::examples
