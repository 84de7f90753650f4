// Conv+BatchNormalization folding (optimization level 1) keeps every result: each model runs
// unoptimized (level 0, BatchNormalization's own kernel) and at level 1.
#include <gtest/gtest.h>

#include <random>

#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"

namespace onyx {
namespace {

using testing::make_model;
using testing::make_node;
using testing::tensor_value;

Tensor random_tensor(const Shape& shape, uint32_t seed, float low, float high) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(low, high);
  Tensor tensor(DataType::kFloat, shape);
  for (int64_t i = 0; i < tensor.element_count(); ++i) tensor.mutable_data<float>()[i] = uniform(generator);
  return tensor;
}

// x[2,3,8,8] -> Conv(4, 3x3[, bias]) -> BatchNormalization -> Relu -> y; "conv" may also be an
// output. BN's mean/var/scale/shift are graph inputs when `constant_statistics` is false.
Model conv_bn_model(bool bias, bool conv_is_output, bool constant_statistics) {
  std::vector<std::string> conv_inputs{"x", "w"};
  if (bias) conv_inputs.push_back("b");
  std::vector<ValueInfo> inputs{tensor_value("x", DataType::kFloat, {2, 3, 8, 8})};
  if (!constant_statistics) inputs.push_back(tensor_value("mean", DataType::kFloat, {4}));
  std::vector<ValueInfo> outputs{tensor_value("y", DataType::kFloat, {2, 4, 8, 8})};
  if (conv_is_output) outputs.push_back(tensor_value("conv", DataType::kFloat, {2, 4, 8, 8}));
  Model model = make_model(
      {make_node("Conv", conv_inputs, {"conv"}, {make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})}),
       make_node("BatchNormalization", {"conv", "scale", "shift", "mean", "var"}, {"bn"},
                 {make_attribute("epsilon", 1e-3f)}),
       make_node("Relu", {"bn"}, {"y"})},
      inputs, outputs);
  model.graph.set_initializer("w", random_tensor({4, 3, 3, 3}, 1, -0.5f, 0.5f));
  if (bias) model.graph.set_initializer("b", random_tensor({4}, 2, -0.5f, 0.5f));
  model.graph.set_initializer("scale", random_tensor({4}, 3, 0.5f, 2.f));
  model.graph.set_initializer("shift", random_tensor({4}, 4, -0.5f, 0.5f));
  if (constant_statistics) model.graph.set_initializer("mean", random_tensor({4}, 5, -0.3f, 0.3f));
  model.graph.set_initializer("var", random_tensor({4}, 6, 0.1f, 3.f));
  return model;
}

int count_ops(const InferenceSession& session, const std::string& op_type) {
  int count = 0;
  for (const PlanStep& step : session.plan().steps()) count += step.node->op_type == op_type;
  return count;
}

// Runs `model` at level 0 and `level`; returns how many BatchNormalizations the latter kept.
int expect_same_results(const Model& model, const std::map<std::string, Value>& feeds, int level) {
  SessionOptions plain, optimized;
  plain.optimization_level = 0;
  optimized.optimization_level = level;
  InferenceSession reference(Model(model), plain);
  InferenceSession session(Model(model), optimized);
  auto expected = reference.run(feeds);
  auto actual = session.run(feeds);
  EXPECT_EQ(actual.size(), expected.size());
  for (size_t k = 0; k < expected.size() && k < actual.size(); ++k) {
    const Tensor& e = expected[k].value.tensor();
    const Tensor& a = actual[k].value.tensor();
    EXPECT_EQ(a.shape(), e.shape());
    for (int64_t i = 0; i < e.element_count() && a.shape() == e.shape(); ++i) {
      EXPECT_NEAR(a.data<float>()[i], e.data<float>()[i], 1e-5f * (1.f + std::abs(e.data<float>()[i])))
          << expected[k].name << " element " << i;
    }
  }
  EXPECT_EQ(count_ops(reference, "BatchNormalization"), 1);
  return count_ops(session, "BatchNormalization");
}

TEST(ConvBatchNormFolding, FoldsIntoTheConvWithAndWithoutBias) {
  for (bool bias : {true, false}) {
    for (int level : {1, 2}) {  // level 2 then runs the folded Conv channels-last
      Model model = conv_bn_model(bias, false, true);
      EXPECT_EQ(expect_same_results(model, {{"x", random_tensor({2, 3, 8, 8}, 7, -1.f, 1.f)}}, level), 0)
          << "bias " << bias << " level " << level;
    }
  }
}

TEST(ConvBatchNormFolding, KeepsTheBatchNormWhenTheConvOutputIsAlsoUsed) {
  Model model = conv_bn_model(true, true, true);
  EXPECT_EQ(expect_same_results(model, {{"x", random_tensor({2, 3, 8, 8}, 7, -1.f, 1.f)}}, 1), 1);
}

TEST(ConvBatchNormFolding, KeepsTheBatchNormWhenItsStatisticsAreFed) {
  Model model = conv_bn_model(true, false, false);
  EXPECT_EQ(expect_same_results(model, {{"x", random_tensor({2, 3, 8, 8}, 7, -1.f, 1.f)},
                                        {"mean", random_tensor({4}, 8, -0.3f, 0.3f)}}, 1), 1);
}

}  // namespace
}  // namespace onyx
