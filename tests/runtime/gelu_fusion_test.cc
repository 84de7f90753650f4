// GELU's Erf form becomes one com.onyx Gelu node at optimization level 2 (and joins a
// preceding MatMul/Gemm as its activation) without changing any result: each model runs at
// level 1, where the Div/Erf/Add/Mul nodes run one by one, and at level 2.
#include <gtest/gtest.h>

#include "runtime/ir/attribute_builders.h"
#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"
#include "tests/runtime/optimization_levels.h"

namespace onyx {
namespace {

using testing::compare_levels;
using testing::make_model;
using testing::make_node;
using testing::random_tensor;
using testing::tensor_value;

void set_constants(Model& model) {
  model.graph.set_initializer("sqrt2", Tensor::scalar<float>(1.4142135f));
  model.graph.set_initializer("inv_sqrt2", Tensor::scalar<float>(0.70710677f));
  model.graph.set_initializer("one", Tensor::scalar<float>(1.f));
  model.graph.set_initializer("half", Tensor::scalar<float>(0.5f));
}

// As PyTorch exports nn.GELU() at opset 17: ((x * (Erf(x / sqrt2) + 1)) * 0.5.
std::vector<Node> torch_gelu(const std::string& x, const std::string& y) {
  return {make_node("Div", {x, "sqrt2"}, {y + "_d"}), make_node("Erf", {y + "_d"}, {y + "_e"}),
          make_node("Add", {y + "_e", "one"}, {y + "_a"}), make_node("Mul", {x, y + "_a"}, {y + "_m"}),
          make_node("Mul", {y + "_m", "half"}, {y})};
}

TEST(GeluFusion, PyTorchsErfFormBecomesOneNode) {
  Model model = make_model(torch_gelu("x", "y"), {tensor_value("x", DataType::kFloat, {-1, 9})},
                           {{"y", TypeInfo::tensor(DataType::kFloat), ""}});
  set_constants(model);
  for (int64_t batch : {1, 4}) {
    auto counts = compare_levels(model, {{"x", random_tensor({batch, 9}, 1, 3.f)}});
    EXPECT_EQ(counts.level1["Erf"], 1);
    EXPECT_EQ(counts.level2, (std::map<std::string, int>{{"Gelu", 1}}));
  }
}

TEST(GeluFusion, OtherGroupingsOfTheProduct) {
  // tf2onnx/Keras: (x * 0.5) * (1 + Erf(x * (1 / sqrt2))); and (0.5 * (1 + Erf)) * x.
  std::vector<Node> keras{make_node("Mul", {"x", "half"}, {"h"}), make_node("Mul", {"inv_sqrt2", "x"}, {"s"}),
                          make_node("Erf", {"s"}, {"e"}), make_node("Add", {"one", "e"}, {"a"}),
                          make_node("Mul", {"h", "a"}, {"y1"})};
  std::vector<Node> scaled_first{make_node("Div", {"x", "sqrt2"}, {"d"}), make_node("Erf", {"d"}, {"e2"}),
                                 make_node("Add", {"e2", "one"}, {"a2"}), make_node("Mul", {"half", "a2"}, {"m2"}),
                                 make_node("Mul", {"x", "m2"}, {"y2"})};
  std::vector<Node> nodes = keras;
  nodes.insert(nodes.end(), scaled_first.begin(), scaled_first.end());
  Model model = make_model(nodes, {tensor_value("x", DataType::kFloat, {2, 3, 5})},
                           {tensor_value("y1", DataType::kFloat, {2, 3, 5}), tensor_value("y2", DataType::kFloat, {2, 3, 5})});
  set_constants(model);
  auto counts = compare_levels(model, {{"x", random_tensor({2, 3, 5}, 2, 2.f)}});
  EXPECT_EQ(counts.level2, (std::map<std::string, int>{{"Gelu", 2}}));
}

TEST(GeluFusion, JoinsTheLinearLayerBeforeIt) {
  // Linear -> GELU -> Linear: a transformer's feed-forward block; the first Linear takes the
  // bias and the GELU, the last (a Gemm with its bias, nothing after it) stays as it is.
  std::vector<Node> nodes{make_node("MatMul", {"x", "w1"}, {"p"}), make_node("Add", {"p", "b1"}, {"h"})};
  for (Node& node : torch_gelu("h", "g")) nodes.push_back(std::move(node));
  nodes.push_back(make_node("Gemm", {"g", "w2", "b2"}, {"y"}, {make_attribute("transB", int64_t{1})}));
  Model model = make_model(nodes, {tensor_value("x", DataType::kFloat, {-1, 6})}, {{"y", TypeInfo::tensor(DataType::kFloat), ""}});
  set_constants(model);
  model.graph.set_initializer("w1", random_tensor({6, 16}, 3));
  model.graph.set_initializer("b1", random_tensor({16}, 4));
  model.graph.set_initializer("w2", random_tensor({5, 16}, 5));
  model.graph.set_initializer("b2", random_tensor({5}, 6));
  for (int64_t batch : {1, 7}) {
    auto counts = compare_levels(model, {{"x", random_tensor({batch, 6}, 7)}});
    EXPECT_EQ(counts.level2, (std::map<std::string, int>{{"FusedMatMul", 1}, {"Gemm", 1}}));
  }
}

TEST(GeluFusion, OnnxGeluJoinsTheLinearLayerToo) {
  // Opset 20's own Gelu, both forms, as a Gemm's activation.
  for (const char* approximate : {"none", "tanh"}) {
    Model model = make_model({make_node("Gemm", {"x", "w", "b"}, {"p"}),
                              make_node("Gelu", {"p"}, {"y"}, {make_attribute("approximate", std::string(approximate))})},
                             {tensor_value("x", DataType::kFloat, {3, 8})}, {tensor_value("y", DataType::kFloat, {3, 4})}, 20);
    model.graph.set_initializer("w", random_tensor({8, 4}, 8));
    model.graph.set_initializer("b", random_tensor({4}, 9));
    auto counts = compare_levels(model, {{"x", random_tensor({3, 8}, 10)}});
    EXPECT_EQ(counts.level2, (std::map<std::string, int>{{"FusedMatMul", 1}})) << approximate;
  }
}

TEST(GeluFusion, LeavesLookalikes) {
  // A wrong constant (x / 2), an intermediate value read elsewhere (e3 is an output), and a
  // product with another tensor than Erf's input.
  std::vector<Node> nodes{make_node("Div", {"x", "two"}, {"d1"}), make_node("Erf", {"d1"}, {"e1"}),
                          make_node("Add", {"e1", "one"}, {"a1"}), make_node("Mul", {"x", "a1"}, {"m1"}),
                          make_node("Mul", {"m1", "half"}, {"y1"}),
                          make_node("Div", {"x", "sqrt2"}, {"d3"}), make_node("Erf", {"d3"}, {"e3"}),
                          make_node("Add", {"e3", "one"}, {"a3"}), make_node("Mul", {"x", "a3"}, {"m3"}),
                          make_node("Mul", {"m3", "half"}, {"y3"}),
                          make_node("Div", {"x", "sqrt2"}, {"d4"}), make_node("Erf", {"d4"}, {"e4"}),
                          make_node("Add", {"e4", "one"}, {"a4"}), make_node("Mul", {"z", "a4"}, {"m4"}),
                          make_node("Mul", {"m4", "half"}, {"y4"})};
  Model model = make_model(nodes, {tensor_value("x", DataType::kFloat, {4}), tensor_value("z", DataType::kFloat, {4})},
                           {tensor_value("y1", DataType::kFloat, {4}), tensor_value("y3", DataType::kFloat, {4}),
                            tensor_value("e3", DataType::kFloat, {4}), tensor_value("y4", DataType::kFloat, {4})});
  set_constants(model);
  model.graph.set_initializer("two", Tensor::scalar<float>(2.f));
  auto counts = compare_levels(model, {{"x", random_tensor({4}, 11)}, {"z", random_tensor({4}, 12)}});
  EXPECT_EQ(counts.level2["Gelu"], 0);
  EXPECT_EQ(counts.level2["Erf"], 3);
}

}  // namespace
}  // namespace onyx
