// MatMul and Gemm kernels and shape helpers; expected values computed with NumPy.
#include <gtest/gtest.h>

#include "onnx_ops/linalg.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

Node make_node(const std::string& op, size_t inputs, std::vector<Attribute> attrs = {}) {
  Node node;
  node.name = "n";
  node.op_type = op;
  for (size_t i = 0; i < inputs; ++i) node.inputs.push_back("in" + std::to_string(i));
  node.outputs = {"out"};
  node.attributes = std::move(attrs);
  return node;
}

template <typename T>
void expect_values(const Tensor& t, const Shape& shape, const std::vector<T>& expected) {
  ASSERT_EQ(t.shape(), shape);
  auto values = t.values<T>();
  ASSERT_EQ(values.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      EXPECT_NEAR(values[i], expected[i], 1e-5) << "at " << i;
    } else {
      EXPECT_EQ(values[i], expected[i]) << "at " << i;
    }
  }
}

std::vector<float> pattern(int64_t count, int mod, int shift) {
  std::vector<float> v;
  for (int64_t i = 0; i < count; ++i) v.push_back(static_cast<float>(i % mod - shift));
  return v;
}

TEST(MatMul, BroadcastsBatchDims) {
  Tensor a = Tensor::from_vector<float>({2, 1, 2, 3}, pattern(12, 5, 2));
  Tensor b = Tensor::from_vector<float>({3, 3, 2}, pattern(18, 7, 3));
  auto out = call_node_on_cpu(make_node("MatMul", 2), 13, {a, b});
  expect_values<float>(out[0].tensor(), {2, 3, 2, 2},
                       {7, 4, -7, -6, -4, 7, -1, -7, -1, -4, -2, -1,
                        4, 4, -5, -6, -3, 4, 10, -5, -3, -3, 11, 10});
}

TEST(MatMul, OneDimensionalOperandsDropTheirDim) {
  Tensor a1 = Tensor::from_vector<float>({3}, {1, 2, 3});
  std::vector<float> b3;
  for (int i = 0; i < 12; ++i) b3.push_back(static_cast<float>(i - 4));
  auto out = call_node_on_cpu(make_node("MatMul", 2), 13,
                              {a1, Tensor::from_vector<float>({2, 3, 2}, b3)});
  expect_values<float>(out[0].tensor(), {2, 2}, {-8, -2, 28, 34});
  std::vector<float> a4;
  for (int i = 0; i < 12; ++i) a4.push_back(static_cast<float>(i % 4));
  out = call_node_on_cpu(make_node("MatMul", 2), 13,
                         {Tensor::from_vector<float>({2, 2, 3}, a4), a1});
  expect_values<float>(out[0].tensor(), {2, 2}, {8, 6, 8, 14});
  out = call_node_on_cpu(make_node("MatMul", 2), 13, {a1, a1});
  expect_values<float>(out[0].tensor(), {}, {14});
}

TEST(MatMul, IntegersWrapLikeNumPy) {
  Tensor a = Tensor::from_vector<int32_t>({2, 2}, {100000, 2, 3, -4});
  Tensor b = Tensor::from_vector<int32_t>({2, 2}, {100000, 1, 2, 3});
  auto out = call_node_on_cpu(make_node("MatMul", 2), 13, {a, b});
  expect_values<int32_t>(out[0].tensor(), {2, 2}, {1410065412, 100006, 299992, -9});
}

TEST(MatMul, DoubleAndFloat16AgreeWithFloat) {
  Tensor ad = Tensor::from_vector<double>({1, 3}, {0.5, -1, 2});
  Tensor bd = Tensor::from_vector<double>({3, 2}, {1, 2, 3, 4, 5, 6});
  auto out = call_node_on_cpu(make_node("MatMul", 2), 13, {ad, bd});
  expect_values<double>(out[0].tensor(), {1, 2}, {7.5, 9});
  Tensor ah = Tensor::from_vector<Float16>({1, 3}, {Float16(0.5f), Float16(-1.f), Float16(2.f)});
  Tensor bh = Tensor::from_vector<Float16>({3, 1}, {Float16(1.f), Float16(3.f), Float16(5.f)});
  out = call_node_on_cpu(make_node("MatMul", 2), 13, {ah, bh});
  EXPECT_EQ(static_cast<float>(out[0].tensor().data<Float16>()[0]), 7.5f);
}

TEST(MatMul, MismatchedInnerDimsNameTheShapes) {
  Tensor a(DataType::kFloat, {2, 3});
  Tensor b(DataType::kFloat, {4, 2});
  try {
    call_node_on_cpu(make_node("MatMul", 2), 13, {a, b});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2,3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4,2]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(matmul_shape({2, 2, 3}, {3, 3, 2}), Error);  // batch 2 vs 3
}

TEST(MatMul, ShapeHelperKeepsSymbolicBatch) {
  TypeInfo a = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::named("b"), Dim::known(4), Dim::known(3)});
  TypeInfo b = TypeInfo::tensor_of_shape(DataType::kFloat, {3, 5});
  std::vector<Dim> out;
  ASSERT_TRUE(matmul_dims(a, b, out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].symbol, "b");
  EXPECT_EQ(out[2].value, 5);
}

const std::vector<float> kGemmA = {-1, 0, 1, 2, 3, -1, 0, 1, 2, 3, -1, 0};  // (K=4, M=3)
const std::vector<float> kGemmB = {-1, 0, 1, -1, 0, 1, -1, 0};              // (N=2, K=4)

TEST(Gemm, TransposesScalesAndBroadcastsC) {
  Node node = make_node("Gemm", 3,
                        {make_attribute("transA", int64_t{1}), make_attribute("transB", int64_t{1}),
                         make_attribute("alpha", 0.5f), make_attribute("beta", 2.0f)});
  auto out = call_node_on_cpu(node, 13,
                              {Tensor::from_vector<float>({4, 3}, kGemmA),
                               Tensor::from_vector<float>({2, 4}, kGemmB),
                               Tensor::from_vector<float>({2}, {0.5f, -1.5f})});
  expect_values<float>(out[0].tensor(), {3, 2}, {0, -2, 2, -2, 1.5, -4.5});
}

TEST(Gemm, ColumnBiasAndDouble) {
  Node node = make_node("Gemm", 3,
                        {make_attribute("transA", int64_t{1}), make_attribute("transB", int64_t{1})});
  std::vector<double> a(kGemmA.begin(), kGemmA.end()), b(kGemmB.begin(), kGemmB.end());
  auto out = call_node_on_cpu(node, 13,
                              {Tensor::from_vector<double>({4, 3}, a), Tensor::from_vector<double>({2, 4}, b),
                               Tensor::from_vector<double>({3, 1}, {1, 2, 3})});
  expect_values<double>(out[0].tensor(), {3, 2}, {-1, 3, 4, 4, 4, 0});
  // Same in float without C (opset 11 made it optional).
  out = call_node_on_cpu(make_node("Gemm", 2, node.attributes), 13,
                         {Tensor::from_vector<float>({4, 3}, kGemmA),
                          Tensor::from_vector<float>({2, 4}, kGemmB)});
  expect_values<float>(out[0].tensor(), {3, 2}, {-2, 2, 2, 2, 1, -3});
}

TEST(Gemm, RejectsCThatDoesNotBroadcast) {
  Tensor a(DataType::kFloat, {2, 3}), b(DataType::kFloat, {3, 4});
  Tensor c = Tensor::from_vector<float>({3}, {1, 2, 3});
  EXPECT_THROW(call_node_on_cpu(make_node("Gemm", 3), 13, {a, b, c}), Error);
  EXPECT_THROW(call_node_on_cpu(make_node("Gemm", 2), 13, {a, Tensor(DataType::kFloat, {4, 4})}), Error);
}

}  // namespace
}  // namespace onyx
