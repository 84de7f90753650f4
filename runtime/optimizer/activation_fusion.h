// Which activations a fused kernel (com.onyx NhwcConv, FusedMatMul) can apply to its output,
// and the attributes that tell the kernel: "activation" (the op type), "alpha" (LeakyRelu's
// slope) and "clip_min"/"clip_max" (a Clip's constant bounds). One list for every fusion, so
// a kernel never meets an activation the pass could not describe.
#pragma once

#include <vector>

#include "runtime/ir/graph.h"

namespace onyx {

// The attributes that make a fused kernel apply `node` (read as of `opset`), or false when it
// is not an activation a fused kernel runs (or a Clip whose bounds are not constant floats).
// Gelu counts when it is ONNX's (opset 20 on) or the com.onyx one runtime/optimizer/gelu_fusion.h
// makes. `with_sigmoid_family` also admits Sigmoid and Tanh (oneDNN eltwise post-ops every kernel
// has; the channels-last pass keeps those for its SiLU pattern).
bool fused_activation_attributes(const Node& node, const Graph& graph, int64_t opset, bool with_sigmoid_family,
                                 std::vector<Attribute>& attributes);

}  // namespace onyx
