// Finite-difference checks of the elementwise and activation gradient rules (double precision).
#include <gtest/gtest.h>

#include "runtime/ir/attribute_builders.h"
#include "tests/training/gradient_check.h"

namespace onyx::testing {
namespace {

InputSpec in(std::string name, Shape shape, double low = -1.0, double high = 1.0) {
  return {std::move(name), std::move(shape), true, std::nullopt, low, high};
}

void unary(const std::string& op, double low = -1.0, double high = 1.0,
           std::vector<Attribute> attributes = {}, int64_t opset = 18) {
  SCOPED_TRACE(op);
  check_op_gradient({.op = op, .inputs = {in("x", {2, 3}, low, high)}, .attributes = attributes,
                     .opset = opset});
}

TEST(GradientRulesElementwise, BinaryOpsWithBroadcasting) {
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    SCOPED_TRACE(op);
    check_op_gradient({.op = op, .inputs = {in("a", {2, 3, 4}, 0.5, 1.5), in("b", {3, 1}, 0.5, 1.5)}});
    check_op_gradient({.op = op, .inputs = {in("a", {4}, 0.5, 1.5), in("b", {2, 1, 4}, 0.5, 1.5)}});
  }
}

TEST(GradientRulesElementwise, BinaryOpsBeforeOpset13UseAxesAttributes) {
  check_op_gradient({.op = "Mul", .inputs = {in("a", {2, 3}), in("b", {3})}, .opset = 11});
}

TEST(GradientRulesElementwise, Pow) {
  check_op_gradient({.op = "Pow", .inputs = {in("a", {2, 3}, 0.5, 2.0), in("b", {3}, -1.0, 2.0)}});
}

TEST(GradientRulesElementwise, PowWithIntegerExponent) {
  check_op_gradient({.op = "Pow",
                     .inputs = {in("a", {2, 3}, 0.5, 2.0),
                                {"b", {}, false, int64_tensor({}, {3})}}});
}

TEST(GradientRulesElementwise, UnaryMath) {
  for (const char* op : {"Neg", "Abs", "Exp", "Sin", "Cos", "Tan", "Atan", "Sinh", "Cosh", "Tanh",
                         "Sigmoid", "Erf", "Identity"}) {
    unary(op);
  }
  for (const char* op : {"Log", "Sqrt", "Reciprocal"}) unary(op, 0.5, 2.0);
}

TEST(GradientRulesElementwise, PiecewiseConstantOpsHaveZeroGradient) {
  for (const char* op : {"Floor", "Ceil", "Round", "Sign"}) unary(op, -3.0, 3.0);
}

TEST(GradientRulesElementwise, Activations) {
  for (const char* op : {"Relu", "Elu", "Selu", "Celu", "Softplus", "Softsign", "HardSigmoid",
                         "HardSwish", "Mish"}) {
    unary(op, -4.0, 4.0);
  }
  unary("LeakyRelu", -1.0, 1.0, {make_attribute("alpha", 0.2f)});
  unary("ThresholdedRelu", -2.0, 2.0, {make_attribute("alpha", 0.5f)});
  unary("Gelu", -3.0, 3.0, {}, 20);
  unary("Swish", -3.0, 3.0, {make_attribute("alpha", 0.7f)}, 24);
  unary("Gelu", -3.0, 3.0, {make_attribute("approximate", "tanh")}, 20);
  // TrainingSession's form of Relu's gradient: one com.onyx.training::ReluGrad (float in
  // OnyxTrainingOps.*).
  SCOPED_TRACE("ReluGrad");
  check_op_gradient({.op = "Relu", .inputs = {in("x", {3, 4}, -4.0, 4.0)}, .onyx_ops = true});
}

TEST(GradientRulesElementwise, PRelu) {
  check_op_gradient({.op = "PRelu", .inputs = {in("x", {2, 3, 2}), in("slope", {3, 1})}});
}

TEST(GradientRulesElementwise, SoftmaxAndLogSoftmax) {
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    SCOPED_TRACE(op);
    check_op_gradient({.op = op, .inputs = {in("x", {2, 3, 4})}});
    check_op_gradient({.op = op, .inputs = {in("x", {2, 3, 4})}, .attributes = {make_attribute("axis", int64_t{1})}});
    // Opset 11: normalizes over every axis from `axis` on.
    check_op_gradient({.op = op, .inputs = {in("x", {2, 3, 4})}, .attributes = {make_attribute("axis", int64_t{1})},
                       .opset = 11});
  }
}

TEST(GradientRulesElementwise, VariadicSumMeanMaxMin) {
  for (const char* op : {"Sum", "Mean", "Max", "Min"}) {
    SCOPED_TRACE(op);
    check_op_gradient({.op = op, .inputs = {in("a", {2, 3}), in("b", {3}), in("c", {2, 1})}});
  }
}

TEST(GradientRulesElementwise, Where) {
  Tensor cond = Tensor::from_vector<bool>({2, 3}, {true, false, true, false, false, true});
  check_op_gradient({.op = "Where",
                     .inputs = {{"cond", {2, 3}, false, cond}, in("a", {2, 3}), in("b", {3})}});
}

TEST(GradientRulesElementwise, ClipWithBoundsAsInputsAndAttributes) {
  check_op_gradient({.op = "Clip", .inputs = {in("x", {3, 4}, -2.0, 2.0), in("lo", {}, -1.0, -0.5),
                                              in("hi", {}, 0.5, 1.0)}});
  check_op_gradient({.op = "Clip", .inputs = {in("x", {3, 4}, -2.0, 2.0), {"", {}}, in("hi", {}, 0.5, 1.0)}});
}

TEST(GradientRulesElementwise, CastLike) {
  check_op_gradient({.op = "CastLike", .inputs = {in("x", {2, 3}), {"like", {1}, false, Tensor::from_vector<double>({1}, {0.0})}},
                     .dtype = DataType::kFloat, .tolerance = 1e-5});
}

TEST(GradientRulesElementwise, CastBetweenFloatTypes) {
  // float in, double out: the loss is double and Cast is linear, so float steps are exact.
  check_op_gradient({.op = "Cast", .inputs = {in("x", {2, 3})},
                     .attributes = {make_attribute("to", static_cast<int64_t>(DataType::kDouble))},
                     .dtype = DataType::kFloat, .tolerance = 1e-5});
}

}  // namespace
}  // namespace onyx::testing
