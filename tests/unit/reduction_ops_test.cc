// ArgMax/ArgMin, CumSum/CumProd, TopK and LpNormalization kernels. Expected values were
// computed with NumPy or by hand, never by onyx.
#include <gtest/gtest.h>

#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

Node make_node(const std::string& op, std::vector<std::string> inputs, size_t outputs,
               std::vector<Attribute> attrs = {}) {
  Node node;
  node.op_type = op;
  node.inputs = std::move(inputs);
  for (size_t i = 0; i < outputs; ++i) node.outputs.push_back("y" + std::to_string(i));
  node.attributes = std::move(attrs);
  return node;
}

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  auto v = t.values<T>();
  return {v.begin(), v.end()};
}

std::vector<float> pattern(int64_t n) {  // np.arange(n) % 7 - 3
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i % 7 - 3);
  return v;
}

TEST(ArgMax, MiddleAxisFirstIndexOnTies) {
  Tensor x = Tensor::from_vector<float>({3, 4, 5}, pattern(60));
  Node node = make_node("ArgMax", {"x"}, 1,
                        {make_attribute("axis", int64_t{1}), make_attribute("keepdims", int64_t{0})});
  Tensor y = call_node_on_cpu(node, 13, {x})[0].tensor();
  EXPECT_EQ(y.shape(), (Shape{3, 5}));
  EXPECT_EQ(values_of<int64_t>(y),
            (std::vector<int64_t>{1, 1, 2, 2, 3, 0, 1, 1, 2, 2, 3, 0, 1, 1, 2}));
}

TEST(ArgMin, FirstAxisKeepDims) {
  Tensor x = Tensor::from_vector<float>({3, 4, 5}, pattern(60));
  Tensor y = call_node_on_cpu(make_node("ArgMin", {"x"}, 1), 13, {x})[0].tensor();
  EXPECT_EQ(y.shape(), (Shape{1, 4, 5}));
  EXPECT_EQ(values_of<int64_t>(y),
            (std::vector<int64_t>{0, 1, 2, 2, 2, 2, 2, 0, 1, 2, 2, 2, 2, 2, 0, 1, 2, 2, 2, 2}));
}

TEST(ArgMax, SelectLastIndexAndIntegers) {
  Tensor x = Tensor::from_vector<int32_t>({2, 3}, {5, 9, 9, 1, 1, 0});
  Node last = make_node("ArgMax", {"x"}, 1,
                        {make_attribute("axis", int64_t{-1}),
                         make_attribute("select_last_index", int64_t{1})});
  EXPECT_EQ(values_of<int64_t>(call_node_on_cpu(last, 12, {x})[0].tensor()),
            (std::vector<int64_t>{2, 1}));
  Node first = make_node("ArgMax", {"x"}, 1, {make_attribute("axis", int64_t{-1})});
  EXPECT_EQ(values_of<int64_t>(call_node_on_cpu(first, 12, {x})[0].tensor()),
            (std::vector<int64_t>{1, 0}));
  Node min_last = make_node("ArgMin", {"x"}, 1,
                            {make_attribute("axis", int64_t{0}),
                             make_attribute("select_last_index", int64_t{1})});
  EXPECT_EQ(values_of<int64_t>(call_node_on_cpu(min_last, 12, {x})[0].tensor()),
            (std::vector<int64_t>{1, 1, 1}));
}

TEST(ArgMax, AxisOutOfRangeThrows) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Node node = make_node("ArgMax", {"x"}, 1, {make_attribute("axis", int64_t{2})});
  EXPECT_THROW(call_node_on_cpu(node, 13, {x}), Error);
}

TEST(CumSum, ExclusiveAndReverse) {
  Tensor x = Tensor::from_vector<double>({5}, {1, 2, 3, 4, 5});
  Tensor axis = Tensor::scalar<int32_t>(0);
  auto run = [&](int64_t exclusive, int64_t reverse) {
    Node node = make_node("CumSum", {"x", "axis"}, 1,
                          {make_attribute("exclusive", exclusive), make_attribute("reverse", reverse)});
    return values_of<double>(call_node_on_cpu(node, 14, {x, axis})[0].tensor());
  };
  EXPECT_EQ(run(0, 0), (std::vector<double>{1, 3, 6, 10, 15}));
  EXPECT_EQ(run(1, 0), (std::vector<double>{0, 1, 3, 6, 10}));
  EXPECT_EQ(run(0, 1), (std::vector<double>{15, 14, 12, 9, 5}));
  EXPECT_EQ(run(1, 1), (std::vector<double>{14, 12, 9, 5, 0}));
}

TEST(CumSum, BothAxesOf2D) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {3, 1, 3, 2, 2, 0});
  Node node = make_node("CumSum", {"x", "axis"}, 1);
  EXPECT_EQ(values_of<float>(call_node_on_cpu(node, 14, {x, Tensor::scalar<int64_t>(0)})[0].tensor()),
            (std::vector<float>{3, 1, 3, 5, 3, 3}));
  EXPECT_EQ(values_of<float>(call_node_on_cpu(node, 14, {x, Tensor::scalar<int64_t>(-1)})[0].tensor()),
            (std::vector<float>{3, 4, 7, 2, 4, 4}));
  EXPECT_THROW(call_node_on_cpu(node, 14, {x, Tensor::scalar<int64_t>(2)}), Error);
}

TEST(CumProd, InclusiveAndExclusive) {
  Tensor x = Tensor::from_vector<int32_t>({5}, {1, 2, 3, 4, 5});
  Tensor axis = Tensor::scalar<int64_t>(0);
  Node inclusive = make_node("CumProd", {"x", "axis"}, 1);
  EXPECT_EQ(values_of<int32_t>(call_node_on_cpu(inclusive, 26, {x, axis})[0].tensor()),
            (std::vector<int32_t>{1, 2, 6, 24, 120}));
  Node exclusive = make_node("CumProd", {"x", "axis"}, 1, {make_attribute("exclusive", int64_t{1})});
  EXPECT_EQ(values_of<int32_t>(call_node_on_cpu(exclusive, 26, {x, axis})[0].tensor()),
            (std::vector<int32_t>{1, 1, 2, 6, 24}));
}

TEST(TopK, LargestWithTiesByLowerIndex) {
  Tensor x = Tensor::from_vector<float>({2, 4}, {1, 3, 3, 2, 5, 5, 5, 0});
  Node node = make_node("TopK", {"x", "k"}, 2);
  auto out = call_node_on_cpu(node, 11, {x, Tensor::from_vector<int64_t>({1}, {2})});
  EXPECT_EQ(out[0].tensor().shape(), (Shape{2, 2}));
  EXPECT_EQ(values_of<float>(out[0].tensor()), (std::vector<float>{3, 3, 5, 5}));
  EXPECT_EQ(values_of<int64_t>(out[1].tensor()), (std::vector<int64_t>{1, 2, 0, 1}));
}

TEST(TopK, SmallestAlongFirstAxis) {
  Tensor x = Tensor::from_vector<int64_t>({3, 2}, {4, 0, 1, 7, 1, -2});
  Node node = make_node("TopK", {"x", "k"}, 2,
                        {make_attribute("axis", int64_t{0}), make_attribute("largest", int64_t{0})});
  auto out = call_node_on_cpu(node, 11, {x, Tensor::from_vector<int64_t>({1}, {2})});
  EXPECT_EQ(values_of<int64_t>(out[0].tensor()), (std::vector<int64_t>{1, -2, 1, 0}));
  EXPECT_EQ(values_of<int64_t>(out[1].tensor()), (std::vector<int64_t>{1, 2, 2, 0}));
}

TEST(TopK, AttributeKBeforeOpset10AndBadK) {
  Tensor x = Tensor::from_vector<float>({3}, {2, 9, 4});
  Node legacy = make_node("TopK", {"x"}, 2, {make_attribute("k", int64_t{1})});
  auto out = call_node_on_cpu(legacy, 1, {x});
  EXPECT_EQ(values_of<float>(out[0].tensor()), (std::vector<float>{9}));
  Node node = make_node("TopK", {"x", "k"}, 2);
  EXPECT_THROW(call_node_on_cpu(node, 11, {x, Tensor::from_vector<int64_t>({1}, {4})}), Error);
}

TEST(LpNormalization, L2AndL1WithZeroNorm) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {0, 3, 0, 4, 0, 0});
  Node l2 = make_node("LpNormalization", {"x"}, 1, {make_attribute("axis", int64_t{0})});
  // Column 2 has norm 0: the ONNX reference gives 0 there.
  EXPECT_EQ(values_of<float>(call_node_on_cpu(l2, 22, {x})[0].tensor()),
            (std::vector<float>{0, 1, 0, 1, 0, 0}));
  Node l1 = make_node("LpNormalization", {"x"}, 1, {make_attribute("p", int64_t{1})});
  EXPECT_EQ(values_of<float>(call_node_on_cpu(l1, 22, {x})[0].tensor()),
            (std::vector<float>{0, 1, 0, 1, 0, 0}));
  Tensor y = Tensor::from_vector<float>({2}, {3, 4});
  std::vector<float> got = values_of<float>(call_node_on_cpu(make_node("LpNormalization", {"x"}, 1), 1, {y})[0].tensor());
  EXPECT_NEAR(got[0], 0.6f, 1e-6f);
  EXPECT_NEAR(got[1], 0.8f, 1e-6f);
}

}  // namespace
}  // namespace onyx
