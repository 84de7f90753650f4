// Input/output layout of the ai.onnx.preview.training optimizer ops, shared by their shape
// rules and kernels.
#pragma once

#include <string>
#include <vector>

#include "runtime/ir/graph.h"

namespace onyx {

struct OptimizerLayout {
  size_t input_groups;               // groups of n inputs after R and T
  std::vector<size_t> output_groups;  // for each output group, the input group it updates
};

OptimizerLayout optimizer_layout(const std::string& op_type);
// n, the number of tensors the node optimizes; throws kInvalidModel on a bad arity.
int64_t optimizer_tensor_count(const Node& node, size_t input_count, size_t output_count);

}  // namespace onyx
