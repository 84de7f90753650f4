// Gradient rules of custom ops: the example library's templates (Swish, HuberLoss) and a C++
// rule are built through a GradientRuleContext, run by the inference session, and compared
// with central finite differences of the forward op.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/extensions/custom_op_library.h"
#include "tests/extensions/custom_op_test_util.h"

namespace onyx {
namespace {

using namespace testing;

SessionOptions session_options() {
  SessionOptions options;
  options.intra_op_threads = 1;
  options.custom_op_libraries = {example_library()};
  return options;
}

// sum(weights * outputs[0]) of a one-node model at `inputs` (double accumulation).
double weighted_forward(const Model& model, const std::map<std::string, Value>& inputs, const std::vector<float>& weights,
                        const SessionOptions& options) {
  InferenceSession session(model, options);
  auto y = values_of(session.run(inputs)[0].value);
  double total = 0;
  for (size_t i = 0; i < y.size(); ++i) total += static_cast<double>(weights[i % weights.size()]) * y[i];
  return total;
}

// Checks the rule's gradient for input `wrt` against central differences.
void check_gradient(const OpRegistry& registry, const SessionOptions& options, const Node& node,
                    const std::vector<ValueInfo>& inputs, std::map<std::string, Value> feeds, size_t wrt,
                    const std::vector<float>& output_gradient, const Shape& output_shape) {
  const training::GradientRule* rule = registry.gradient_rules().find(node.domain, node.op_type);
  ASSERT_NE(rule, nullptr) << node.op_type;
  std::map<std::string, TypeInfo> types;
  for (const auto& input : inputs) types[input.name] = input.type;
  types[node.outputs[0]] = TypeInfo::tensor(DataType::kFloat);
  RecordingGradientContext ctx(node, types, {"dY"});
  (*rule)(ctx);
  ASSERT_TRUE(ctx.gradients.count(wrt));

  std::vector<ValueInfo> feeds_info = inputs;
  feeds_info.push_back({"dY", TypeInfo::tensor(DataType::kFloat), ""});
  InferenceSession backward(ctx.build_model(feeds_info, wrt), options);
  auto all_feeds = feeds;
  all_feeds["dY"] = Tensor::from_vector<float>(output_shape, output_gradient);
  auto gradient = values_of(backward.run(all_feeds)[0].value);

  Model forward = single_node_model(node, inputs, {{node.outputs[0], {}, ""}});
  const std::string& name = inputs[wrt].name;
  std::vector<float> x = values_of(feeds[name]);
  ASSERT_EQ(gradient.size(), x.size());
  const float eps = 1e-2f;
  for (size_t i = 0; i < x.size(); ++i) {
    auto shifted = [&](float delta) {
      std::vector<float> moved = x;
      moved[i] += delta;
      auto f = feeds;
      f[name] = Tensor::from_vector<float>(feeds[name].tensor().shape(), moved);
      return weighted_forward(forward, f, output_gradient, options);
    };
    double numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
    EXPECT_NEAR(gradient[i], numeric, 2e-3 * std::max(1.0, std::fabs(numeric))) << node.op_type << " element " << i;
  }
}

class CustomOpGradients : public ::testing::Test {
 protected:
  void SetUp() override { register_custom_op_library(registry_, example_library()); }
  OpRegistry registry_{&OpRegistry::global()};
};

TEST_F(CustomOpGradients, SwishTemplateMatchesFiniteDifferences) {
  std::vector<ValueInfo> inputs = {tensor_value("x", DataType::kFloat, {5})};
  std::map<std::string, Value> feeds = {{"x", Tensor::from_vector<float>({5}, {-3, -0.5f, 0, 0.7f, 2.5f})}};
  std::vector<float> dy = {1, -2, 0.5f, 3, -1};
  // With the attribute given and with its default: the template reads beta from the node.
  check_gradient(registry_, session_options(), custom_node("com.example", "Swish", {"x"}, {"y"}, {make_attribute("beta", 0.5f)}),
                 inputs, feeds, 0, dy, {5});
  check_gradient(registry_, session_options(), custom_node("com.example", "Swish", {"x"}, {"y"}), inputs, feeds, 0, dy, {5});
}

TEST_F(CustomOpGradients, HuberLossTemplateMatchesFiniteDifferencesAndSkipsTheTarget) {
  std::vector<ValueInfo> inputs = {tensor_value("p", DataType::kFloat, {4}), tensor_value("t", DataType::kFloat, {4})};
  std::map<std::string, Value> feeds = {{"p", Tensor::from_vector<float>({4}, {0.1f, 2, -1.5f, 0.4f})},
                                        {"t", Tensor::from_vector<float>({4}, {0, 0.2f, 0.3f, 0.5f})}};
  Node node = custom_node("com.example", "HuberLoss", {"p", "t"}, {"loss"}, {make_attribute("delta", 0.8f)});
  check_gradient(registry_, session_options(), node, inputs, feeds, 0, {1.3f}, {});

  std::map<std::string, TypeInfo> types = {{"p", inputs[0].type}, {"t", inputs[1].type}};
  RecordingGradientContext ctx(node, types, {"dY"});
  (*registry_.gradient_rules().find("com.example", "HuberLoss"))(ctx);
  EXPECT_FALSE(ctx.gradients.count(1));  // the template gives the target no gradient
}

TEST_F(CustomOpGradients, CppRuleSeesAttributeDefaults) {
  OpRegistry registry(&OpRegistry::global());
  registry.add(CustomOpDefinition("com.test.grad", "Scale")
                   .input("X", "float")
                   .output("Y", "float")
                   .attribute("alpha", 3.0f)
                   .infer_shapes(same_shape_as_input(0))
                   .cpu_kernel([](KernelContext& ctx, const NodeAttributes& attributes) {
                     const Tensor& x = ctx.input(0);
                     Tensor& y = ctx.output(0, DataType::kFloat, x.shape());
                     for (int64_t i = 0; i < x.element_count(); ++i) {
                       y.mutable_data<float>()[i] = attributes.require_float("alpha") * x.data<float>()[i];
                     }
                   })
                   .gradient_rule([](training::GradientRuleContext& ctx) {
                     float alpha = NodeAttributes(ctx.node()).require_float("alpha");
                     std::string factor = ctx.add_constant(Tensor::scalar<float>(alpha));
                     ctx.set_input_gradient(0, ctx.add("Mul", {ctx.output_gradient(0), factor}));
                   }));
  Node node = custom_node("com.test.grad", "Scale", {"x"}, {"y"});
  RecordingGradientContext ctx(node, {}, {"dY"});
  (*registry.gradient_rules().find("com.test.grad", "Scale"))(ctx);
  ASSERT_EQ(ctx.constants.size(), 1u);
  EXPECT_EQ(ctx.constants.begin()->second.values<float>()[0], 3.0f);
}

TEST_F(CustomOpGradients, CppTemplateFillsZerosForAnOutputWithoutGradient) {
  // Y1 = 2X, Y2 = 3X; the template says dX = 2 dY1 + 3 dY2. With no gradient flowing into Y2
  // the template gets zeros for dY2, so dX = 2 dY1.
  Graph gradient;
  gradient.inputs = {{"X", {}, ""}, {"Y1", {}, ""}, {"Y2", {}, ""}, {"dY1", {}, ""}, {"dY2", {}, ""}};
  gradient.outputs = {{"dX", {}, ""}};
  gradient.set_initializer("two", Tensor::scalar<float>(2));
  gradient.set_initializer("three", Tensor::scalar<float>(3));
  gradient.nodes = {make_node("Mul", {"dY1", "two"}, {"a"}), make_node("Mul", {"dY2", "three"}, {"b"}),
                    make_node("Add", {"a", "b"}, {"dX"})};
  OpRegistry registry(&OpRegistry::global());
  registry.add(CustomOpDefinition("com.test.template", "TwoScales")
                   .input("X", "float")
                   .output("Y1", "float")
                   .output("Y2", "float")
                   .cpu_kernel([](KernelContext& ctx, const NodeAttributes&) {
                     const Tensor& x = ctx.input(0);
                     for (size_t k = 0; k < 2; ++k) {
                       Tensor& y = ctx.output(k, DataType::kFloat, x.shape());
                       for (int64_t i = 0; i < x.element_count(); ++i) y.mutable_data<float>()[i] = (k + 2.0f) * x.data<float>()[i];
                     }
                   })
                   .gradient_graph(gradient));
  Node node = custom_node("com.test.template", "TwoScales", {"x"}, {"y1", "y2"});
  std::map<std::string, TypeInfo> types = {{"x", TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::known(3)})},
                                           {"y1", TypeInfo::tensor(DataType::kFloat)},
                                           {"y2", TypeInfo::tensor(DataType::kFloat)}};
  RecordingGradientContext ctx(node, types, {"dY", ""});
  (*registry.gradient_rules().find("com.test.template", "TwoScales"))(ctx);
  Model backward = ctx.build_model({tensor_value("x", DataType::kFloat, {3}), tensor_value("dY", DataType::kFloat, {3})}, 0);
  SessionOptions options;
  const CustomOpDefinition* definition = registry.find_custom_op("com.test.template", "TwoScales", 1);
  ASSERT_NE(definition, nullptr);
  options.custom_ops = {*definition};  // the backward model runs the forward op too
  InferenceSession session(backward, options);
  auto dx = values_of(session.run({{"x", Tensor::from_vector<float>({3}, {1, 2, 3})},
                                   {"dY", Tensor::from_vector<float>({3}, {1, -1, 0.5f})}})[0].value);
  EXPECT_EQ(dx, (std::vector<float>{2, -2, 1}));

  // A template that reads a name it never defines is refused when the op is defined.
  Graph broken = gradient;
  broken.nodes[2].inputs[1] = "nowhere";
  std::string message = error_of([&] { CustomOpDefinition("com.test.template", "Broken").gradient_graph(broken); });
  EXPECT_NE(message.find("reads 'nowhere'"), std::string::npos) << message;
}

}  // namespace
}  // namespace onyx
