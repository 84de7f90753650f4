// Training graphs through custom ops: build_gradient_graph and TrainingSession differentiate a
// model whose activation (com.example Swish) and loss (com.example HuberLoss) come from the
// example library, registered for this use only; gradients match central finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/extensions/custom_op_library.h"
#include "tests/extensions/custom_op_test_util.h"
#include "training/gradient_builder.h"
#include "training/training_session.h"

namespace onyx {
namespace {

using namespace testing;

// x[4,3] -> MatMul(W[3,2]) -> Swish(beta 0.7) -> HuberLoss(., target; delta 0.5) -> loss.
Model forward_model(const std::vector<float>& weights) {
  Model model = make_model(
      {make_node("MatMul", {"x", "W"}, {"h"}),
       custom_node("com.example", "Swish", {"h"}, {"a"}, {make_attribute("beta", 0.7f)}),
       custom_node("com.example", "HuberLoss", {"a", "target"}, {"loss"}, {make_attribute("delta", 0.5f)})},
      {tensor_value("x", DataType::kFloat, {4, 3}), tensor_value("target", DataType::kFloat, {4, 2})},
      {tensor_value("loss", DataType::kFloat, {})});
  model.opsets["com.example"] = 1;
  model.graph.set_initializer("W", Tensor::from_vector<float>({3, 2}, weights));
  return model;
}

std::map<std::string, Value> feeds() {
  std::vector<float> x(12), target(8);
  for (int i = 0; i < 12; ++i) x[i] = std::sin(0.9f * i) * 1.5f;
  for (int i = 0; i < 8; ++i) target[i] = std::cos(0.5f * i);
  return {{"x", Tensor::from_vector<float>({4, 3}, x)}, {"target", Tensor::from_vector<float>({4, 2}, target)}};
}

SessionOptions with_example_library() {
  SessionOptions options;
  options.intra_op_threads = 1;
  options.custom_op_libraries = {example_library()};
  return options;
}

TEST(CustomOpTraining, GradientGraphThroughCustomActivationAndLossMatchesFiniteDifferences) {
  std::vector<float> weights = {0.3f, -0.8f, 1.1f, 0.2f, -0.5f, 0.9f};
  OpRegistry registry(&OpRegistry::global());  // the library for this use only, not the process
  register_custom_op_library(registry, example_library());
  training::GradientGraphOptions options;
  options.loss = "loss";
  options.trainable = {"W"};
  options.ops = &registry;
  training::GradientGraph gradient = training::build_gradient_graph(forward_model(weights), options);
  ASSERT_EQ(gradient.gradients.size(), 1u);

  InferenceSession session(gradient.model, with_example_library());
  std::vector<NamedValue> outputs = session.run(feeds());
  std::vector<float> analytic;
  for (const auto& output : outputs) {
    if (output.name == gradient.gradients[0].second) analytic = values_of(output.value);
  }
  ASSERT_EQ(analytic.size(), weights.size());

  auto loss_at = [&](const std::vector<float>& w) {
    InferenceSession forward(forward_model(w), with_example_library());
    return static_cast<double>(values_of(forward.run(feeds())[0].value)[0]);
  };
  const float eps = 1e-2f;
  for (size_t i = 0; i < weights.size(); ++i) {
    std::vector<float> up = weights, down = weights;
    up[i] += eps;
    down[i] -= eps;
    double numeric = (loss_at(up) - loss_at(down)) / (2 * eps);
    EXPECT_NEAR(analytic[i], numeric, 2e-3 * std::max(1.0, std::fabs(numeric))) << "W element " << i;
  }
}

TEST(CustomOpTraining, WithoutTheRegistryTheBuilderNamesTheMissingRule) {
  // The global registry does not hold the example ops here: the error names the op
  // (the loss is declared, so the builder gets as far as looking for its rule).
  training::GradientGraphOptions options;
  options.loss = "loss";
  options.trainable = {"W"};
  std::string message = error_of([&] { training::build_gradient_graph(forward_model({1, 2, 3, 4, 5, 6}), options); });
  EXPECT_NE(message.find("HuberLoss"), std::string::npos) << message;
}

}  // namespace
}  // namespace onyx

namespace onyx {
namespace {

using namespace testing;

TEST(CustomOpTraining, TrainingSessionUsesTheSessionsCustomOps) {
  // The library is given to this training session only; its gradients match finite differences
  // of the same loss computed by an inference session.
  std::vector<float> weights = {0.3f, -0.8f, 1.1f, 0.2f, -0.5f, 0.9f};
  training::TrainingOptions options;
  options.loss_output = "loss";
  options.trainable = {"W"};
  options.session = with_example_library();
  training::TrainingSession session(forward_model(weights), options);
  double loss = session.backward(feeds());
  std::vector<float> analytic(session.gradients().at("W").values<float>().begin(),
                              session.gradients().at("W").values<float>().end());

  auto loss_at = [&](const std::vector<float>& w) {
    InferenceSession forward(forward_model(w), with_example_library());
    return static_cast<double>(values_of(forward.run(feeds())[0].value)[0]);
  };
  EXPECT_NEAR(loss, loss_at(weights), 1e-6);
  const float eps = 1e-2f;
  for (size_t i = 0; i < weights.size(); ++i) {
    std::vector<float> up = weights, down = weights;
    up[i] += eps;
    down[i] -= eps;
    double numeric = (loss_at(up) - loss_at(down)) / (2 * eps);
    EXPECT_NEAR(analytic[i], numeric, 2e-3 * std::max(1.0, std::fabs(numeric))) << "W element " << i;
  }
}

}  // namespace
}  // namespace onyx
