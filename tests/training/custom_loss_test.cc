// A user loss that is a custom op with its own kernel, shape rule and gradient rule (what a
// custom-op library registers): TrainingSession trains through it like any built-in loss.
#include <gtest/gtest.h>

#include "onnx_ops/op_schema.h"
#include "providers/kernel_registry.h"
#include "runtime/ir/attribute_builders.h"
#include "tests/runtime/model_building.h"
#include "training/gradient_rule.h"
#include "training/training_session.h"

namespace onyx::training {
namespace {

using onyx::testing::make_model;
using onyx::testing::make_node;
using onyx::testing::tensor_value;

constexpr const char* kDomain = "test.onyx.training";

// QuarticLoss(p, y) = mean((p - y)^4) over float tensors.
class QuarticLossKernel final : public Kernel {
 public:
  explicit QuarticLossKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Tensor& p = ctx.input(0);
    const Tensor& y = ctx.input(1);
    double total = 0;
    for (int64_t i = 0; i < p.element_count(); ++i) {
      const double d = p.data<float>()[i] - y.data<float>()[i];
      total += d * d * d * d;
    }
    ctx.output(0, DataType::kFloat, {}).mutable_data<float>()[0] = static_cast<float>(total / p.element_count());
  }
};
ONYX_REGISTER_KERNEL("CPU", kDomain, "QuarticLoss", 1, kOpsetOpenEnded, QuarticLossKernel);
ONYX_REGISTER_SHAPE_RULE(kDomain, "QuarticLoss", [](InferenceContext& ctx) {
  ctx.set_output_type(0, TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{}));
});
// d p = 4 (p - y)^3 / size(p) * dy
ONYX_REGISTER_GRADIENT_RULE(kDomain, "QuarticLoss", [](GradientRuleContext& ctx) {
  if (!ctx.wants_input_gradient(0)) return;
  std::string d = ctx.add("Sub", {ctx.input(0), ctx.input(1)});
  std::string cube = ctx.add("Mul", {ctx.add("Mul", {d, d}), d});
  std::string count = ctx.add("Cast", {ctx.add("Size", {ctx.input(0)})},
                              {make_attribute("to", static_cast<int64_t>(DataType::kFloat))});
  std::string scale = ctx.add("Div", {ctx.add("Mul", {ctx.output_gradient(0), ctx.add_constant(Tensor::scalar<float>(4))}), count});
  ctx.set_input_gradient(0, ctx.add("Mul", {cube, scale}));
});

TEST(CustomLoss, CustomOpWithAGradientRuleTrainsLikeABuiltInLoss) {
  // Forward: prediction = x * w.
  Model forward = make_model({make_node("Mul", {"x", "w"}, {"prediction"})}, {tensor_value("x", DataType::kFloat, {2})},
                             {tensor_value("prediction", DataType::kFloat, {2})}, 17);
  forward.graph.set_initializer("w", Tensor::from_vector<float>({2}, {1.0f, 2.0f}));
  Model loss = make_model({make_node("QuarticLoss", {"p", "labels"}, {"value"})},
                          {tensor_value("p", DataType::kFloat, {2}), tensor_value("labels", DataType::kFloat, {2})},
                          {tensor_value("value", DataType::kFloat, {})}, 17);
  loss.graph.nodes[0].domain = kDomain;
  loss.opsets[kDomain] = 1;
  TrainingOptions options;
  options.loss_graph = UserGraph{"quartic", loss, {{"p", "prediction"}}};
  options.optimizer = sgd(0.01);
  TrainingSession session(forward, options);
  EXPECT_EQ(session.target_inputs(), std::vector<std::string>{"labels"});
  // x = [1, 1], labels = [0, 0]: loss = (1 + 16) / 2; dL/dw = 4 d^3 x / 2 = [2, 16].
  Feeds feeds{{"x", Tensor::from_vector<float>({2}, {1, 1})}, {"labels", Tensor::from_vector<float>({2}, {0, 0})}};
  EXPECT_FLOAT_EQ(static_cast<float>(session.train_step(feeds)), 8.5f);
  EXPECT_FLOAT_EQ(session.parameters().at("w").values<float>()[0], 1.0f - 0.01f * 2.0f);
  EXPECT_FLOAT_EQ(session.parameters().at("w").values<float>()[1], 2.0f - 0.01f * 16.0f);
}

}  // namespace
}  // namespace onyx::training
