// Einsum: equation planning and the CPU kernel. Expected values were computed with NumPy.
#include <gtest/gtest.h>

#include "onnx_ops/reduction_einsum.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

std::vector<float> arange(int64_t n, int64_t mod = 0) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(mod ? i % mod : i);
  return v;
}

Tensor einsum(const std::string& equation, std::vector<Value> inputs, int64_t opset = 12) {
  Node node;
  node.op_type = "Einsum";
  for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back("x" + std::to_string(i));
  node.outputs = {"y"};
  node.attributes = {make_attribute("equation", equation)};
  return call_node_on_cpu(node, opset, inputs).at(0).tensor();
}

std::vector<float> floats(const Tensor& t) {
  auto v = t.values<float>();
  return {v.begin(), v.end()};
}

TEST(Einsum, MatMul) {
  Tensor a = Tensor::from_vector<float>({2, 3}, arange(6));
  Tensor b = Tensor::from_vector<float>({3, 4}, arange(12, 5));
  Tensor y = einsum("ij,jk->ik", {a, b});
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  EXPECT_EQ(floats(y), (std::vector<float>{10, 8, 1, 4, 31, 23, 10, 22}));
}

TEST(Einsum, BatchDiagonalSumTransposeAndThreeOperands) {
  Tensor m = Tensor::from_vector<float>({2, 3, 3}, arange(18));
  EXPECT_EQ(floats(einsum("...ii ->...i", {m})), (std::vector<float>{0, 4, 8, 9, 13, 17}));
  Tensor a = Tensor::from_vector<float>({2, 3}, arange(6));
  Tensor total = einsum("ij->", {a});
  EXPECT_EQ(total.shape(), Shape{});
  EXPECT_EQ(floats(total), (std::vector<float>{15}));
  // Implicit output: labels in alphabetical order, so "ji" transposes.
  Tensor t = einsum("ji", {a});
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(floats(t), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  Tensor c = Tensor::from_vector<float>({3}, arange(3));
  EXPECT_EQ(floats(einsum("i,i,i", {c, c, c})), (std::vector<float>{9}));
}

TEST(Einsum, EllipsisBroadcasts) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3}, arange(6));
  Tensor y = Tensor::from_vector<float>({4, 3, 5}, arange(60, 7));
  Tensor out = einsum("...ij,...jk->...ik", {x, y});
  EXPECT_EQ(out.shape(), (Shape{4, 2, 5}));
  std::vector<float> got = floats(out);
  EXPECT_EQ(std::vector<float>(got.begin(), got.begin() + 6),
            (std::vector<float>{11, 14, 10, 13, 2, 35}));
}

TEST(Einsum, MalformedEquationsThrow) {
  Tensor a = Tensor::from_vector<float>({2, 3}, arange(6));
  EXPECT_THROW(einsum("ij,jk->ik", {a}), Error);      // two terms, one input
  EXPECT_THROW(einsum("ijk->i", {a}), Error);         // rank mismatch
  EXPECT_THROW(einsum("ij->iz", {a}), Error);         // output label not in the inputs
  EXPECT_THROW(einsum("ii->i", {a}), Error);          // diagonal of unequal dims
  EXPECT_THROW(einsum("i.j->i", {a}), Error);         // broken ellipsis
}

}  // namespace
}  // namespace onyx
