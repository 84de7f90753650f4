// Meaning of the loss ops SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss, shared by
// their shape rules (onnx_ops/loss.cc) and CPU kernels (providers/cpu/loss/): the reduction
// attribute and the shape contract input [N, C, d1..], target [N, d1..], weight [C].
#pragma once

#include <string_view>

#include "onnx_ops/node_attributes.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

enum class LossReduction { kNone, kSum, kMean };

// The `reduction` attribute (default "mean"); kInvalidModel naming the node for other values.
LossReduction loss_reduction(const NodeAttributes& attributes);

// Checks the input/target/weight shapes (weight may be null); kInvalidArgument naming `op`
// and the shapes otherwise.
void check_loss_shapes(std::string_view op, const Shape& input, const Shape& target,
                       const Shape* weight);

// Shape of the loss output: the target's shape for reduction none, a scalar otherwise.
Shape loss_output_shape(const Shape& target, LossReduction reduction);

}  // namespace onyx
