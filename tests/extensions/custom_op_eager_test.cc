// Custom ops through eager mode's door: ops registered in the global OpRegistry — from C++ and
// from the example plug-in library — are callable with ops::call, traced into graphs by
// onyx::function, and differentiated by the GradientTape with their own gradient rules.
// Expected values are closed forms computed here in double, not onyx outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "runtime/eager/eager.h"
#include "runtime/extensions/custom_op.h"
#include "runtime/extensions/custom_op_library.h"
#include "runtime/extensions/op_registry.h"
#include "runtime/ir/attribute_builders.h"
#include "tests/eager/eager_test_util.h"
#include "tests/extensions/custom_op_test_util.h"

namespace onyx {
namespace {

// Y = alpha * X^2 with dX = dY * 2 * alpha * X, defined once in C++ and registered globally.
void register_scaled_square_once() {
  static const bool registered = [] {
    CustomOpDefinition op("com.eager_test", "ScaledSquare");
    op.input("X", "T").output("Y", "T").type_constraint("T", {DataType::kFloat})
        .attribute("alpha", 1.0f)
        .infer_shapes(same_shape_as_input(0))
        .cpu_kernel([](KernelContext& ctx, const NodeAttributes& attributes) {
          const Tensor& x = ctx.input(0);
          const float alpha = attributes.get_float("alpha", 1.0f);
          Tensor& y = ctx.output(0, DataType::kFloat, x.shape());
          for (int64_t i = 0; i < x.element_count(); ++i) {
            y.mutable_data<float>()[i] = alpha * x.data<float>()[i] * x.data<float>()[i];
          }
        })
        .gradient_rule([](training::GradientRuleContext& ctx) {
          const float alpha = NodeAttributes(ctx.node()).get_float("alpha", 1.0f);
          std::string two_alpha = ctx.add_constant(Tensor::scalar<float>(2 * alpha));
          std::string slope = ctx.add("Mul", {ctx.input(0), two_alpha});
          ctx.set_input_gradient(0, ctx.add("Mul", {ctx.output_gradient(0), slope}));
        });
    OpRegistry::global().add(std::move(op));
    return true;
  }();
  (void)registered;
}

double swish(double x, double beta) { return x / (1 + std::exp(-beta * x)); }
double swish_slope(double x, double beta) {
  const double s = 1 / (1 + std::exp(-beta * x));
  return s + beta * x * s * (1 - s);
}

TEST(CustomOpsInEagerMode, CppOpRunsAndItsRuleGivesTheTapeGradient) {
  register_scaled_square_once();
  Tensor x = Tensor::from_vector<float>({3}, {-1.5f, 0.5f, 2.0f});
  Tensor y = ops::call("com.eager_test", "ScaledSquare", {x}, {make_attribute("alpha", 3.0f)});
  test::expect_floats_near(y, {6.75f, 0.75f, 12.0f});

  GradientTape tape;
  tape.watch(x);
  Tensor loss = ops::reduce_sum(ops::call("com.eager_test", "ScaledSquare", {x}, {make_attribute("alpha", 3.0f)}));
  std::vector<Tensor> grads = tape.gradient(loss, {x});
  test::expect_floats_near(grads[0], {-9.0f, 3.0f, 12.0f});  // 2 * alpha * x
}

// Eager calls see the global registry, so the plug-in is loaded globally — in a child process
// (a threadsafe death test re-executes the binary), because the other custom-op tests load the
// same library into session registries, which would then conflict with a global copy.
void check_plugin_op_eagerly_then_exit() {
  register_custom_op_library(OpRegistry::global(), testing::example_library());
  const std::vector<float> values = {-2.0f, -0.25f, 0.0f, 1.0f, 3.0f};
  Tensor x = Tensor::from_vector<float>({5}, values);
  const float beta = 1.5f;
  Tensor y = ops::call("com.example", "Swish", {x}, {make_attribute("beta", beta)});
  GradientTape tape;
  tape.watch(x);
  Tensor loss = ops::reduce_sum(ops::call("com.example", "Swish", {x}, {make_attribute("beta", beta)}));
  Tensor gradient = tape.gradient(loss, {x})[0];
  int mismatches = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::abs(y.values<float>()[i] - swish(values[i], beta)) > 1e-5) ++mismatches;
    if (std::abs(gradient.values<float>()[i] - swish_slope(values[i], beta)) > 1e-5) ++mismatches;
  }
  std::fprintf(stderr, "plug-in Swish: %d mismatches\n", mismatches);
  std::exit(mismatches == 0 ? 0 : 1);
}

TEST(CustomOpsInEagerModeDeathTest, PluginOpRunsEagerlyAndThroughTheTape) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(check_plugin_op_eagerly_then_exit(), ::testing::ExitedWithCode(0), "plug-in Swish: 0 mismatches");
}

TEST(CustomOpsInEagerMode, TracedFunctionKeepsTheCustomNode) {
  register_scaled_square_once();
  auto f = onyx::function([](const Tensor& x) {
    return ops::call("com.eager_test", "ScaledSquare", {x}, {make_attribute("alpha", 0.5f)}) + 1.0;
  });
  Tensor x = Tensor::from_vector<float>({2}, {2.0f, -4.0f});
  test::expect_floats_near(f(x), {3.0f, 9.0f});
  const Model& traced = f.concrete(x).model();
  bool has_custom_node = false;
  for (const Node& node : traced.graph.nodes) has_custom_node |= node.domain == "com.eager_test";
  EXPECT_TRUE(has_custom_node);
  EXPECT_EQ(traced.opset_for("com.eager_test"), 1);
}

}  // namespace
}  // namespace onyx
