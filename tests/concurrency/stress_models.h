// Models for the concurrent-run stress test, one per family whose kernels keep state across
// runs (oneDNN primitives, packed weights, work buffers, compiled subgraphs, plug-in kernels),
// each with a recipe for feeds that differ per seed. Sizes are big enough that oneDNN uses
// scratch memory and the kernels split work over intra-op threads, small enough that
// 4 threads x 25 runs of every model stay well within the test's time budget.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/ir/graph.h"
#include "runtime/tensor/value.h"

namespace onyx::stress {

using Feeds = std::map<std::string, Value>;

struct StressModel {
  std::string name;
  Model model;
  std::function<Feeds(unsigned seed)> feeds;  // different seeds give different values
  std::vector<std::filesystem::path> custom_op_libraries;
};

// Uniform values in [-scale, scale), the same for the same seed.
Tensor random_tensor(Shape shape, unsigned seed, float scale = 1.0f);

StressModel mlp_model();          // Gemm (constant B, packed) + Relu + Gemm + Softmax, batch 64
StressModel matmul_model();       // a batched MatMul of two fed operands, and one with a constant B
StressModel cnn_model();          // Conv, BatchNormalization, Relu, MaxPool, depthwise Conv, pools, Gemm
StressModel recurrent_model(const std::string& op_type);  // "RNN", "GRU" or "LSTM"
StressModel loop_model();         // Loop whose body runs MatMul + Tanh, with a scan output
StressModel if_model();           // If whose branches convolve with outer-scope (unpacked) weights
StressModel custom_op_model(const std::filesystem::path& example_library);  // com.example ops

}  // namespace onyx::stress
