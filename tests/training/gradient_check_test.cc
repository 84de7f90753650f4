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
