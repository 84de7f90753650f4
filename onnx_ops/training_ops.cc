// Optimizer ops of ai.onnx.preview.training (opset 1): Adagrad, Momentum, Adam. Each node
// updates n tensors at once; inputs are R, T, then n-tensor groups (X, G, and the optimizer
// state), outputs are the new X and the new state groups, each typed like its input.
#include "onnx_ops/op_schema.h"
#include "onnx_ops/training_ops.h"

namespace onyx {

OptimizerLayout optimizer_layout(const std::string& op_type) {
  if (op_type == "Adam") return {4, {0, 2, 3}};
  // Adagrad: [X, G, H] -> [X, H]; Momentum: [X, G, V] -> [X, V].
  return {3, {0, 2}};
}

int64_t optimizer_tensor_count(const Node& node, size_t input_count, size_t output_count) {
  const OptimizerLayout layout = optimizer_layout(node.op_type);
  const int64_t groups = static_cast<int64_t>(layout.input_groups);
  const int64_t out_groups = static_cast<int64_t>(layout.output_groups.size());
  const int64_t rest = static_cast<int64_t>(input_count) - 2;
  ONYX_CHECK(rest > 0 && rest % groups == 0, ErrorCode::kInvalidModel, node.describe(),
             ": expected 2 + ", groups, " * n inputs (R, T, then n tensors per group), got ",
             input_count);
  const int64_t n = rest / groups;
  ONYX_CHECK(static_cast<int64_t>(output_count) == out_groups * n, ErrorCode::kInvalidModel,
             node.describe(), ": expected ", out_groups * n, " outputs for ", n,
             " optimized tensors, got ", output_count);
  return n;
}

namespace {

void optimizer_rule(InferenceContext& ctx) {
  const int64_t n = optimizer_tensor_count(ctx.node(), ctx.input_count(), ctx.output_count());
  const OptimizerLayout layout = optimizer_layout(ctx.node().op_type);
  for (size_t g = 0; g < layout.output_groups.size(); ++g) {
    for (int64_t i = 0; i < n; ++i) {
      const size_t out = g * n + i;
      const size_t in = 2 + layout.output_groups[g] * n + i;
      ctx.set_output_type(out, ctx.input_type(in));
    }
  }
}

ONYX_REGISTER_SHAPE_RULE("ai.onnx.preview.training", "Adagrad", optimizer_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.preview.training", "Momentum", optimizer_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.preview.training", "Adam", optimizer_rule);

}  // namespace
}  // namespace onyx
