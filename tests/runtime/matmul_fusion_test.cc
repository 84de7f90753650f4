// The fully connected fusion (optimization level 2) must not change any result: each model runs
// at level 1 (plain MatMul/Gemm/Add/activation kernels) and at level 2, and the plans show
// which nodes were absorbed into com.onyx FusedMatMul.
#include <gtest/gtest.h>

#include "onnx_ops/op_schema.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"
#include "tests/runtime/optimization_levels.h"

namespace onyx {
namespace {

using testing::compare_levels;
using testing::make_model;
using testing::random_tensor;
using testing::make_node;
using testing::tensor_value;

// Runs `model` at levels 1 and 2 and expects the same outputs; returns level 2's op counts.
std::map<std::string, int> expect_same_results(const Model& model, const std::map<std::string, Value>& feeds) {
  return compare_levels(model, feeds).level2;
}

TEST(MatMulFusion, BatchedMatMulBiasAndReluBecomeOneNode) {
  // [N, 5, 12] x [12, 8] + b[8] -> Relu: a transformer's feed-forward layer, symbolic batch.
  Model model = make_model({make_node("MatMul", {"x", "w"}, {"p"}), make_node("Add", {"p", "b"}, {"s"}),
                            make_node("Relu", {"s"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {-1, 5, 12})},
                           {{"y", TypeInfo::tensor(DataType::kFloat), ""}});
  model.graph.set_initializer("w", random_tensor({12, 8}, 1));
  model.graph.set_initializer("b", random_tensor({8}, 2));
  for (int64_t batch : {1, 3}) {
    auto counts = expect_same_results(model, {{"x", random_tensor({batch, 5, 12}, 3)}});
    EXPECT_EQ(counts["FusedMatMul"], 1);
    EXPECT_EQ(counts.size(), 1u) << "MatMul, Add and Relu all absorbed";
  }
}

TEST(MatMulFusion, GemmWithEveryActivation) {
  for (const char* activation : {"Relu", "LeakyRelu", "Clip", "HardSwish", "Sigmoid", "Tanh"}) {
    std::vector<Attribute> attributes;
    std::vector<std::string> inputs{"g"};
    if (std::string(activation) == "LeakyRelu") attributes.push_back(make_attribute("alpha", 0.2f));
    if (std::string(activation) == "Clip") inputs = {"g", "low", "high"};
    Model model = make_model({make_node("Gemm", {"x", "w", "b"}, {"g"}, {make_attribute("transB", int64_t{1})}),
                              make_node(activation, inputs, {"y"}, attributes)},
                             {tensor_value("x", DataType::kFloat, {4, 10})}, {tensor_value("y", DataType::kFloat, {4, 6})});
    model.graph.set_initializer("w", random_tensor({6, 10}, 4));
    model.graph.set_initializer("b", random_tensor({6}, 5));
    model.graph.set_initializer("low", Tensor::scalar<float>(-0.3f));
    model.graph.set_initializer("high", Tensor::scalar<float>(0.4f));
    auto counts = expect_same_results(model, {{"x", random_tensor({4, 10}, 6)}});
    EXPECT_EQ(counts["FusedMatMul"], 1) << activation;
    EXPECT_EQ(counts["Gemm"] + counts[activation], 0) << activation;
  }
}

TEST(MatMulFusion, MatMulWithoutBiasTakesTheActivation) {
  Model model = make_model({make_node("MatMul", {"x", "w"}, {"p"}), make_node("Tanh", {"p"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {3, 7})}, {tensor_value("y", DataType::kFloat, {3, 2})});
  model.graph.set_initializer("w", random_tensor({7, 2}, 7));
  auto counts = expect_same_results(model, {{"x", random_tensor({3, 7}, 8)}});
  EXPECT_EQ(counts["FusedMatMul"], 1);
  EXPECT_EQ(counts["Tanh"], 0);
}

TEST(MatMulFusion, LeavesWhatItCannotAbsorb) {
  // p1 is also a graph output; p2's Add is by a full [3, 4] matrix, not a row; p3's bias has a
  // higher rank than the product (the Add broadcasts it up); Gemm with beta 2 and a row C.
  Model model = make_model(
      {make_node("MatMul", {"x", "w"}, {"p1"}), make_node("Relu", {"p1"}, {"y1"}),
       make_node("MatMul", {"x", "w"}, {"p2"}), make_node("Add", {"p2", "full"}, {"y2"}),
       make_node("MatMul", {"x", "w"}, {"p3"}), make_node("Add", {"p3", "deep"}, {"y3"}),
       make_node("Gemm", {"x", "w", "row"}, {"g"}, {make_attribute("beta", 2.f)}), make_node("Relu", {"g"}, {"y4"})},
      {tensor_value("x", DataType::kFloat, {3, 5})},
      {tensor_value("p1", DataType::kFloat, {3, 4}), tensor_value("y1", DataType::kFloat, {3, 4}),
       tensor_value("y2", DataType::kFloat, {3, 4}), tensor_value("y3", DataType::kFloat, {1, 3, 4}),
       tensor_value("y4", DataType::kFloat, {3, 4})});
  model.graph.set_initializer("w", random_tensor({5, 4}, 9));
  model.graph.set_initializer("full", random_tensor({3, 4}, 10));
  model.graph.set_initializer("deep", random_tensor({1, 1, 4}, 11));
  model.graph.set_initializer("row", random_tensor({4}, 12));
  auto counts = expect_same_results(model, {{"x", random_tensor({3, 5}, 13)}});
  EXPECT_EQ(counts["FusedMatMul"], 0);
  EXPECT_EQ(counts["MatMul"], 3);
  EXPECT_EQ(counts["Add"], 2);
  EXPECT_EQ(counts["Relu"], 2);
  EXPECT_EQ(counts["Gemm"], 1);
}

TEST(MatMulFusion, EmptyInnerDimensionGivesTheActivatedBias) {
  Model model = make_model({make_node("MatMul", {"x", "w"}, {"p"}), make_node("Add", {"b", "p"}, {"s"}),
                            make_node("Relu", {"s"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {2, 0})}, {tensor_value("y", DataType::kFloat, {2, 3})});
  model.graph.set_initializer("w", Tensor(DataType::kFloat, {0, 3}));
  model.graph.set_initializer("b", Tensor::from_vector<float>({3}, {-1.f, 0.5f, 2.f}));
  auto counts = expect_same_results(model, {{"x", Tensor(DataType::kFloat, {2, 0})}});
  EXPECT_EQ(counts["FusedMatMul"], 1);
}

}  // namespace
}  // namespace onyx
