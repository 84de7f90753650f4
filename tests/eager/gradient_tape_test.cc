// GradientTape with rules from the one gradient-rule registry: gradients checked against
// finite differences, accumulation over several uses, chains, unconnected sources, and the
// same tape code traced into a graph. The ops here are test-domain ops registered in this file
// with their kernels and rules, so the test does not depend on which ONNX rules exist.
#include <gtest/gtest.h>

#include <cmath>

#include "onnx_ops/op_schema.h"
#include "providers/kernel_registry.h"
#include "runtime/eager/eager.h"
#include "training/gradient_rule.h"
#include "tests/eager/eager_test_util.h"

namespace onyx {
namespace {

template <typename Fn>
class UnaryKernel final : public Kernel {
 public:
  explicit UnaryKernel(const KernelInfo&) {}
  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    Tensor& y = context.output(0, DataType::kDouble, x.shape());
    for (int64_t i = 0; i < x.element_count(); ++i) y.mutable_data<double>()[i] = Fn{}(x.data<double>()[i]);
  }
};
struct CubeFn {
  double operator()(double x) const { return x * x * x; }
};
struct SinFn {
  double operator()(double x) const { return std::sin(x); }
};
ONYX_REGISTER_KERNEL("CPU", "test.tape", "Cube", 1, kOpsetOpenEnded, UnaryKernel<CubeFn>);
class TimesKernel final : public Kernel {
 public:
  explicit TimesKernel(const KernelInfo&) {}
  void compute(KernelContext& context) override {
    const Tensor& a = context.input(0);
    const Tensor& b = context.input(1);
    Tensor& y = context.output(0, DataType::kDouble, a.shape());
    for (int64_t i = 0; i < a.element_count(); ++i) {
      y.mutable_data<double>()[i] = a.data<double>()[i] * b.data<double>()[i];
    }
  }
};
ONYX_REGISTER_KERNEL("CPU", "test.tape", "Times", 1, kOpsetOpenEnded, TimesKernel);
ONYX_REGISTER_KERNEL("CPU", "test.tape", "Sine", 1, kOpsetOpenEnded, UnaryKernel<SinFn>);
ONYX_REGISTER_KERNEL("CPU", "test.tape", "SineWithoutRule", 1, kOpsetOpenEnded, UnaryKernel<SinFn>);

// Shape rules, so the ops trace with typed outputs, as a custom op would register them.
void same_as_input(InferenceContext& ctx) { ctx.set_output_type(0, ctx.input_type(0)); }
ONYX_REGISTER_SHAPE_RULE("test.tape", "Cube", same_as_input);
ONYX_REGISTER_SHAPE_RULE("test.tape", "Times", same_as_input);

// Rules written as ONNX nodes, as production rules are.
void cube_rule(training::GradientRuleContext& ctx) {
  std::string x = ctx.input(0);
  std::string three = ctx.add_constant(Tensor::scalar<double>(3.0));
  std::string derivative = ctx.add("Mul", {three, ctx.add("Mul", {x, x})});
  ctx.set_input_gradient(0, ctx.add("Mul", {ctx.output_gradient(0), derivative}));
}
void sine_rule(training::GradientRuleContext& ctx) {
  ctx.set_input_gradient(0, ctx.add("Mul", {ctx.output_gradient(0), ctx.add("Cos", {ctx.input(0)})}));
}
void times_rule(training::GradientRuleContext& ctx) {
  ctx.set_input_gradient(0, ctx.add("Mul", {ctx.output_gradient(0), ctx.input(1)}));
  ctx.set_input_gradient(1, ctx.add("Mul", {ctx.output_gradient(0), ctx.input(0)}));
}
ONYX_REGISTER_GRADIENT_RULE("test.tape", "Cube", cube_rule);
ONYX_REGISTER_GRADIENT_RULE("test.tape", "Times", times_rule);
ONYX_REGISTER_GRADIENT_RULE("test.tape", "Sine", sine_rule);

Tensor cube(const Tensor& x) { return ops::call("test.tape", "Cube", {x}); }
Tensor sine(const Tensor& x) { return ops::call("test.tape", "Sine", {x}); }
Tensor times(const Tensor& a, const Tensor& b) { return ops::call("test.tape", "Times", {a, b}); }

double scalar(const Tensor& t) { return t.values<double>()[0]; }

TEST(GradientTape, ChainRuleMatchesFiniteDifferences) {
  auto f = [](const Tensor& x) { return sine(cube(x)); };
  Tensor x = Tensor::scalar<double>(0.7);
  GradientTape tape;
  tape.watch(x);
  Tensor y = f(x);
  std::vector<Tensor> grads = tape.gradient(y, {x});
  double h = 1e-6;
  double numeric = (scalar(f(Tensor::scalar<double>(0.7 + h))) - scalar(f(Tensor::scalar<double>(0.7 - h)))) / (2 * h);
  EXPECT_NEAR(scalar(grads[0]), numeric, 1e-6);
  EXPECT_NEAR(scalar(grads[0]), std::cos(0.343) * 3 * 0.49, 1e-9);
}

TEST(GradientTape, ValueUsedTwiceAccumulatesGradients) {
  // y = times(cube(x), sine(x)) + nothing else: x feeds two ops, whose gradients add up.
  auto f = [](const Tensor& x) { return times(cube(x), sine(x)); };
  for (double point : {0.3, -1.1, 2.0}) {
    Tensor x = Tensor::scalar<double>(point);
    GradientTape tape;
    tape.watch(x);
    Tensor y = f(x);
    double h = 1e-6;
    double numeric = (scalar(f(Tensor::scalar<double>(point + h))) - scalar(f(Tensor::scalar<double>(point - h)))) / (2 * h);
    EXPECT_NEAR(scalar(tape.gradient(y, {x})[0]), numeric, 1e-6) << "at " << point;
  }
  // times(x, x): both inputs are the same recorded value.
  Tensor x = Tensor::scalar<double>(1.5);
  GradientTape tape;
  tape.watch(x);
  EXPECT_NEAR(scalar(tape.gradient(times(x, x), {x})[0]), 3.0, 1e-12);
}

TEST(GradientTape, OnlyOpsOnWatchedValuesAreRecorded) {
  Tensor x = Tensor::scalar<double>(2.0);
  Tensor constant = Tensor::scalar<double>(3.0);
  GradientTape tape;
  (void)cube(constant);
  EXPECT_EQ(tape.recorded_ops(), 0u);
  tape.watch(x);
  Tensor y = cube(cube(x));
  EXPECT_EQ(tape.recorded_ops(), 2u);
  std::vector<Tensor> grads = tape.gradient(y, {x, constant});
  // d/dx (x^3)^3 = 9 x^8
  EXPECT_NEAR(scalar(grads[0]), 9 * std::pow(2.0, 8), 1e-9);
  EXPECT_EQ(scalar(grads[1]), 0.0);  // not connected: zeros of its shape
}

TEST(GradientTape, StoppedTapeRecordsNothingMoreAndStillDifferentiates) {
  // Python's `with GradientTape() as tape:` stops recording at the block's end.
  Tensor x = Tensor::scalar<double>(2.0);
  GradientTape tape;
  tape.watch(x);
  Tensor y = cube(x);
  tape.stop_recording();
  (void)cube(y);
  EXPECT_EQ(tape.recorded_ops(), 1u);
  EXPECT_NEAR(scalar(tape.gradient(y, {x})[0]), 12.0, 1e-9);
  EXPECT_FALSE(eager::tapes_recording());
}

TEST(GradientTape, MissingRuleIsOneClearError) {
  Tensor x = Tensor::scalar<double>(2.0);
  GradientTape tape;
  tape.watch(x);
  Tensor y = ops::call("test.tape", "SineWithoutRule", {cube(x)});
  try {
    (void)tape.gradient(y, {x});
    FAIL() << "SineWithoutRule has no gradient rule";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kNotImplemented);
    EXPECT_NE(std::string(error.what()).find("SineWithoutRule"), std::string::npos) << error.what();
  }
}

TEST(GradientTape, TapeInsideATracedFunctionTracesTheBackwardOps) {
  auto gradient_of_cube = onyx::function([](const Tensor& x) {
    GradientTape tape;
    tape.watch(x);
    Tensor y = cube(x);
    return tape.gradient(y, {x})[0];
  });
  Tensor s = Tensor::scalar<double>(-1.25);
  Tensor traced = gradient_of_cube(s);
  EXPECT_NEAR(scalar(traced), 3 * 1.25 * 1.25, 1e-12);
  const Model& model = gradient_of_cube.concrete(s).model();
  int muls = 0;
  for (const Node& node : model.graph.nodes) muls += node.op_type == "Mul";
  EXPECT_EQ(muls, 3);  // the rule's three Mul nodes, traced
}

}  // namespace
}  // namespace onyx
