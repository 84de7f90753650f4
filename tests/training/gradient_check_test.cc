// The finite-difference harness itself: it must fail on a wrong rule, or every rule test
// passing would prove nothing.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "tests/training/gradient_check.h"
#include "training/gradient_rule.h"

namespace onyx::testing {
namespace {

TEST(GradientCheckHarness, FailsOnAWrongRule) {
  auto& registry = training::GradientRuleRegistry::global();
  training::GradientRule original = *registry.find("", "Sigmoid");
  registry.remove("", "Sigmoid");
  // Wrong on purpose: the identity instead of y (1 - y).
  registry.add("", "Sigmoid", [](training::GradientRuleContext& ctx) {
    ctx.set_input_gradient(0, ctx.output_gradient(0));
  });
  EXPECT_NONFATAL_FAILURE(
      check_op_gradient({.op = "Sigmoid", .inputs = {{"x", {2, 3}}}}), "analytic");
  registry.remove("", "Sigmoid");
  registry.add("", "Sigmoid", original);
  check_op_gradient({.op = "Sigmoid", .inputs = {{"x", {2, 3}}}});
}

}  // namespace
}  // namespace onyx::testing

namespace onyx::testing {
namespace {

// The ops issue 5 names (and the loss ops' building blocks) keep their rules; each is checked
// by finite differences in the GradientRules* suites.
TEST(GradientRuleRegistry, CoversTheOpsCommonModelsUse) {
  const char* ops[] = {
      "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Abs", "Exp", "Log", "Sqrt", "Reciprocal", "Sin", "Cos",
      "Tanh", "Sigmoid", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Softplus", "Softsign",
      "HardSigmoid", "HardSwish", "Gelu", "Erf", "Mish", "Clip", "Sum", "Mean", "Max", "Min", "MatMul",
      "Gemm", "Einsum", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool",
      "GlobalMaxPool", "BatchNormalization", "Dropout", "LayerNormalization", "InstanceNormalization",
      "GroupNormalization", "RMSNormalization", "Softmax", "LogSoftmax", "Reshape", "Flatten",
      "Transpose", "Concat", "Split", "Slice", "Gather", "GatherElements", "Squeeze", "Unsqueeze",
      "Expand", "Pad", "Tile", "Where", "Cast", "CastLike", "Identity", "ReduceSum", "ReduceMean",
      "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
      "ReduceLogSum", "ReduceLogSumExp", "Resize", "If", "SoftmaxCrossEntropyLoss",
      "NegativeLogLikelihoodLoss", "CumSum", "TopK", "ScatterElements", "ScatterND", "Trilu",
      "DepthToSpace", "SpaceToDepth"};
  for (const char* op : ops) {
    EXPECT_NE(training::GradientRuleRegistry::global().find("", op), nullptr) << op;
  }
  EXPECT_NE(training::GradientRuleRegistry::global().find("ai.onnx", "Relu"), nullptr);  // one domain
}

}  // namespace
}  // namespace onyx::testing
