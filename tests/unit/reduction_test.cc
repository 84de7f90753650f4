// Reduce* kernels and shape rules. Expected values were computed with NumPy (or by hand), never
// by onyx.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "onnx_ops/op_schema.h"
#include "onnx_ops/reduction.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

Node reduce_node(const std::string& op, bool axes_input, std::vector<Attribute> attrs = {}) {
  Node node;
  node.op_type = op;
  node.inputs = {"x"};
  if (axes_input) node.inputs.push_back("axes");
  node.outputs = {"y"};
  node.attributes = std::move(attrs);
  return node;
}

Tensor axes(std::vector<int64_t> values) {
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values);
}

Tensor run1(const Node& node, int64_t opset, std::vector<Value> inputs, int threads = 1) {
  return call_node_on_cpu(node, opset, inputs, threads).at(0).tensor();
}

std::vector<float> pattern(int64_t n) {  // (i % 7) - 3, as np.arange(n) % 7 - 3
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i % 7 - 3);
  return v;
}

template <typename T>
void expect_values(const Tensor& t, const Shape& shape, const std::vector<double>& want,
                   double tol = 1e-5) {
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(t.dtype(), dtype_of<T>());
  for (size_t i = 0; i < want.size(); ++i) {
    double got = t.element_as_double(static_cast<int64_t>(i));
    if (std::isinf(want[i])) {
      EXPECT_EQ(got, want[i]) << "at " << i;
    } else {
      EXPECT_NEAR(got, want[i], tol * std::max(1.0, std::fabs(want[i]))) << "at " << i;
    }
  }
}

TEST(ReduceSum, AxesInputKeepDims) {
  Tensor x = Tensor::from_vector<float>({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  Tensor y = run1(reduce_node("ReduceSum", true), 13, {x, axes({1})});
  expect_values<float>(y, {2, 1, 2}, {9, 12, 27, 30});
}

TEST(ReduceSum, AttributeAxesNegativeNoKeepDims) {
  Tensor x = Tensor::from_vector<float>({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  Node node = reduce_node("ReduceSum", false,
                          {make_attribute("axes", std::vector<int64_t>{-1}),
                           make_attribute("keepdims", int64_t{0})});
  expect_values<float>(run1(node, 11, {x}), {2, 3}, {3, 7, 11, 15, 19, 23});
}

TEST(ReduceSum, EmptyAxesReduceAllOrNothingWithNoop) {
  Tensor x = Tensor::from_vector<int64_t>({2, 2}, {1, 2, 3, 4});
  expect_values<int64_t>(run1(reduce_node("ReduceSum", false), 13, {x}), {1, 1}, {10});
  Node noop = reduce_node("ReduceSum", true, {make_attribute("noop_with_empty_axes", int64_t{1})});
  expect_values<int64_t>(run1(noop, 13, {x, axes({})}), {2, 2}, {1, 2, 3, 4});
  // With noop the elementwise part still applies (ONNX reference: np.sum(x**2, axis=())).
  Node square = reduce_node("ReduceSumSquare", true,
                            {make_attribute("noop_with_empty_axes", int64_t{1})});
  expect_values<int64_t>(run1(square, 18, {x, axes({})}), {2, 2}, {1, 4, 9, 16});
}

TEST(ReduceMean, NonAdjacentAxes) {
  Tensor x = Tensor::from_vector<float>({3, 4, 5}, pattern(60));
  Node node = reduce_node("ReduceMean", false,
                          {make_attribute("axes", std::vector<int64_t>{0, 2}),
                           make_attribute("keepdims", int64_t{0})});
  expect_values<float>(run1(node, 13, {x}), {4}, {-0.6, 0.2, 0.5333333, -0.5333333});
}

TEST(ReduceMax, MiddleAxisWithAxesInput) {
  Tensor x = Tensor::from_vector<float>({3, 4, 5}, pattern(60));
  Node node = reduce_node("ReduceMax", true, {make_attribute("keepdims", int64_t{0})});
  expect_values<float>(run1(node, 18, {x, axes({1})}), {3, 5},
                       {2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 3, 3, 2, 3, 2});
}

TEST(ReduceMaxMin, SmallIntegersAndBool) {
  Tensor i8 = Tensor::from_vector<int8_t>({2, 3}, {-128, 5, 7, -3, 127, 0});
  expect_values<int8_t>(run1(reduce_node("ReduceMax", true), 18, {i8, axes({1})}), {2, 1},
                        {7, 127});
  expect_values<int8_t>(run1(reduce_node("ReduceMin", true), 18, {i8, axes({0})}), {1, 3},
                        {-128, 5, 0});
  Tensor u8 = Tensor::from_vector<uint8_t>({3}, {200, 255, 3});
  expect_values<uint8_t>(run1(reduce_node("ReduceMin", false), 13, {u8}), {1}, {3});
  Tensor b = Tensor::from_vector<bool>({2, 2}, {false, true, false, false});
  Tensor any = run1(reduce_node("ReduceMax", true), 20, {b, axes({1})});
  ASSERT_EQ(any.shape(), (Shape{2, 1}));
  EXPECT_TRUE(any.data<bool>()[0]);
  EXPECT_FALSE(any.data<bool>()[1]);
}

TEST(ReduceProd, LastAxisInt32) {
  std::vector<int32_t> v(12);
  for (int i = 0; i < 12; ++i) v[i] = i % 3 + 1;
  Tensor x = Tensor::from_vector<int32_t>({3, 4}, v);
  Node node = reduce_node("ReduceProd", true, {make_attribute("keepdims", int64_t{0})});
  expect_values<int32_t>(run1(node, 18, {x, axes({-1})}), {3}, {6, 12, 18});
}

TEST(ReduceNorms, L1L2LogSumLogSumExp) {
  Tensor x = Tensor::from_vector<float>({2, 4}, {1, 5, 5, 2, 7, 7, 0, 7});
  expect_values<float>(run1(reduce_node("ReduceL2", true), 18, {x, axes({1})}), {2, 1},
                       {7.4161983, 12.1243553});
  expect_values<float>(run1(reduce_node("ReduceL1", true), 18, {x, axes({0})}), {1, 4},
                       {8, 12, 5, 9});
  expect_values<float>(run1(reduce_node("ReduceLogSumExp", true), 18, {x, axes({1})}), {2, 1},
                       {5.7266316, 8.0989161});
  expect_values<float>(run1(reduce_node("ReduceLogSum", true), 18, {x, axes({0})}), {1, 4},
                       {2.0794415, 2.4849067, 1.6094379, 2.1972246});
}

TEST(ReduceLogSumExp, StableForLargeMagnitudes) {
  Tensor f = Tensor::from_vector<float>({2}, {1000, 1000});
  expect_values<float>(run1(reduce_node("ReduceLogSumExp", false), 13, {f}), {1}, {1000.6931472});
  Tensor h = Tensor::from_vector<Float16>({2}, {Float16(1000.0f), Float16(1000.0f)});
  Tensor y = run1(reduce_node("ReduceLogSumExp", false), 13, {h});
  // np.float16(1000 + log(2)) == 1000.5 (half spacing is 0.5 there).
  expect_values<Float16>(y, {1}, {1000.5}, 0);
  Tensor neg = Tensor::from_vector<double>({3}, {-1000, -1000, -std::numeric_limits<double>::infinity()});
  expect_values<double>(run1(reduce_node("ReduceLogSumExp", false), 13, {neg}), {1},
                        {-1000 + std::log(2.0)}, 1e-12);
}

TEST(ReduceEmptySet, IdentityOfEachOp) {
  Tensor x(DataType::kFloat, {2, 0, 4});
  const double inf = std::numeric_limits<double>::infinity();
  auto reduce = [&](const std::string& op) {
    return run1(reduce_node(op, true), 18, {x, axes({1})});
  };
  std::vector<std::pair<std::string, double>> cases = {
      {"ReduceSum", 0},          {"ReduceSumSquare", 0}, {"ReduceL1", 0},
      {"ReduceL2", 0},           {"ReduceProd", 1},      {"ReduceMax", -inf},
      {"ReduceMin", inf},        {"ReduceLogSum", -inf}, {"ReduceLogSumExp", -inf}};
  for (const auto& [op, value] : cases) {
    SCOPED_TRACE(op);
    expect_values<float>(reduce(op), {2, 1, 4}, std::vector<double>(8, value));
  }
  Tensor xi(DataType::kInt32, {0, 3});
  expect_values<int32_t>(run1(reduce_node("ReduceMax", true), 18, {xi, axes({0})}), {1, 3},
                         std::vector<double>(3, std::numeric_limits<int32_t>::lowest()));
  // A zero-sized kept axis gives an empty output.
  Tensor y = run1(reduce_node("ReduceSum", true), 13, {Tensor(DataType::kFloat, {0, 3}), axes({1})});
  EXPECT_EQ(y.shape(), (Shape{0, 1}));
}

TEST(ReduceSum, HalfTypesAccumulateInFloat) {
  // 4096 ones: a float16 accumulator would stall at 2048.
  Tensor h = Tensor::from_vector<Float16>({4096}, std::vector<Float16>(4096, Float16(1.0f)));
  expect_values<Float16>(run1(reduce_node("ReduceSum", false), 13, {h}), {1}, {4096}, 0);
  Tensor b = Tensor::from_vector<BFloat16>({2, 1024}, std::vector<BFloat16>(2048, BFloat16(1.0f)));
  expect_values<BFloat16>(run1(reduce_node("ReduceSum", true), 13, {b, axes({1})}), {2, 1},
                          {1024, 1024}, 0);
}

// Sums that overflow float16 (max 65504) still give the right mean and norm: the accumulator is
// float, only the result is rounded to half.
TEST(ReduceMean, Float16SumsBeyondHalfRangeStayFinite) {
  Tensor h = Tensor::from_vector<Float16>({4}, std::vector<Float16>(4, Float16(60000.0f)));
  expect_values<Float16>(run1(reduce_node("ReduceMean", false), 13, {h}), {1}, {60000}, 0);
  Tensor l2 = Tensor::from_vector<Float16>({2}, {Float16(300.0f), Float16(400.0f)});
  expect_values<Float16>(run1(reduce_node("ReduceL2", false), 13, {l2}), {1}, {500}, 0);
  Tensor lse = Tensor::from_vector<Float16>({3}, {Float16(-60000.0f), Float16(60000.0f), Float16(60000.0f)});
  // 60000 + log(2) rounds to 60000 in half (spacing 32 there).
  expect_values<Float16>(run1(reduce_node("ReduceLogSumExp", false), 13, {lse}), {1}, {60000}, 0);
}

TEST(ReduceSum, ParallelSplitsGiveExactResults) {
  // Few outputs and many inputs: both threads share one output's rows.
  std::vector<float> v(200000);
  for (int i = 0; i < 200000; ++i) v[i] = static_cast<float>(i % 3);
  Tensor flat = Tensor::from_vector<float>({200000}, v);
  expect_values<float>(run1(reduce_node("ReduceSum", false), 13, {flat}, 2), {1}, {199999}, 0);
  Tensor rk = flat.reshaped({50000, 4});
  expect_values<float>(run1(reduce_node("ReduceSum", true), 13, {rk, axes({0})}, 2), {1, 4},
                       {49999, 50001, 50000, 49999}, 0);
  expect_values<float>(run1(reduce_node("ReduceMax", true), 18, {rk, axes({0})}, 2), {1, 4},
                       {2, 2, 2, 2}, 0);
}

// 32-bit integers run on the 64-bit loops (and 16-bit floats on the float ones): the results
// keep the input's type, and a sum that overflows it wraps as before.
TEST(ReduceSum, ThirtyTwoBitIntegersWidenAndWrapBack) {
  Tensor u = Tensor::from_vector<uint32_t>({2}, {4000000000u, 500000000u});
  Tensor su = run1(reduce_node("ReduceSum", false), 13, {u});
  ASSERT_EQ(su.dtype(), DataType::kUInt32);
  EXPECT_EQ(su.data<uint32_t>()[0], 205032704u);  // 4.5e9 mod 2^32
  Tensor i = Tensor::from_vector<int32_t>({2, 2}, {-7, 3, 2147483647, 1});
  Tensor si = run1(reduce_node("ReduceSum", true), 13, {i, axes({1})});
  ASSERT_EQ(si.dtype(), DataType::kInt32);
  EXPECT_EQ(si.data<int32_t>()[0], -4);
  EXPECT_EQ(si.data<int32_t>()[1], std::numeric_limits<int32_t>::min());
}

TEST(ReduceErrors, ElementTypesOutsideTheSpecAreRefused) {
  Tensor x = Tensor::from_vector<int8_t>({2}, {1, 2});
  try {
    run1(reduce_node("ReduceSum", false), 13, {x});
    FAIL() << "ReduceSum took int8, which the spec does not allow";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ReduceSum: element type int8 is not supported"), std::string::npos)
        << e.what();
  }
}

TEST(ReduceErrors, AxisOutOfRangeOrRepeated) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  EXPECT_THROW(run1(reduce_node("ReduceSum", true), 13, {x, axes({2})}), Error);
  EXPECT_THROW(run1(reduce_node("ReduceMean", true), 18, {x, axes({-3})}), Error);
  EXPECT_THROW(run1(reduce_node("ReduceMax", true), 18, {x, axes({0, -2})}), Error);
  Tensor s = Tensor::from_vector<std::string>({1}, {"a"});
  EXPECT_THROW(run1(reduce_node("ReduceSum", false), 13, {s}), Error);
}

TEST(ReduceShapeRule, KnownAndUnknownAxes) {
  const ShapeRule* rule = ShapeRuleRegistry::global().find("", "ReduceSum");
  ASSERT_NE(rule, nullptr);
  Node node = reduce_node("ReduceSum", true, {make_attribute("keepdims", int64_t{0})});
  TypeInfo in = TypeInfo::tensor_of_shape(DataType::kFloat, {2, 3, 4});
  Tensor ax = axes({-2});
  InferenceContext known(node, 13, {&in, nullptr}, {nullptr, &ax});
  // An axes input not given counts as empty: reduce all.
  (*rule)(known);
  EXPECT_EQ(known.output_types()[0].static_shape(), Shape{});
  TypeInfo ax_type = TypeInfo::tensor_of_shape(DataType::kInt64, {1});
  InferenceContext with_axes(node, 13, {&in, &ax_type}, {nullptr, &ax});
  (*rule)(with_axes);
  EXPECT_EQ(with_axes.output_types()[0].static_shape(), (Shape{2, 4}));
  Node keep = reduce_node("ReduceSum", true);
  InferenceContext unknown(keep, 13, {&in, &ax_type}, {nullptr, nullptr});
  (*rule)(unknown);
  ASSERT_TRUE(unknown.output_types()[0].shape.has_value());
  EXPECT_EQ(unknown.output_types()[0].shape->size(), 3u);
  EXPECT_FALSE(unknown.output_types()[0].has_static_shape());
}

}  // namespace
}  // namespace onyx

namespace onyx {
namespace {

// Naive reference: for every input element, add into the output element its kept indices name.
std::vector<double> reference_sum(const std::vector<float>& x, const Shape& shape,
                                  const std::vector<int64_t>& axes, bool square) {
  Shape out_shape = reduced_shape(shape, axes, true);
  std::vector<double> out(shape_element_count(out_shape), 0.0);
  for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
    int64_t rest = i, o = 0, out_stride = 1;
    for (size_t d = shape.size(); d-- > 0;) {
      const int64_t index = rest % shape[d];
      rest /= shape[d];
      o += (out_shape[d] == 1 ? 0 : index) * out_stride;
      out_stride *= out_shape[d];
    }
    out[o] += square ? double(x[i]) * x[i] : x[i];
  }
  return out;
}

TEST(ReducePlan, MatchesNaiveReferenceOnMixedAxesAndThreads) {
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases = {
      {{3, 1, 4, 5}, {0, 2}}, {{2, 3, 4, 5}, {1, 3}}, {{2, 3, 4, 5}, {0, 3}},
      {{7, 600, 3}, {1}},     {{40000, 3}, {0}},      {{3, 20000}, {1}},
      {{5, 6, 7}, {0, 1, 2}}, {{2, 700, 2, 30}, {0, 2}}, {{1, 1, 9}, {0, 1}}};
  for (const auto& [shape, ax] : cases) {
    SCOPED_TRACE(shape_to_string(shape));
    const int64_t n = shape_element_count(shape);
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 37) % 11) - 5.0f;
    Tensor x = Tensor::from_vector<float>(shape, v);
    for (const char* op : {"ReduceSum", "ReduceSumSquare"}) {
      std::vector<double> want = reference_sum(v, shape, ax, std::string(op) == "ReduceSumSquare");
      for (int threads : {1, 2}) {
        Tensor y = run1(reduce_node(op, true), 18, {x, axes(ax)}, threads);
        EXPECT_EQ(y.shape(), reduced_shape(shape, ax, true));
        ASSERT_EQ(y.element_count(), static_cast<int64_t>(want.size()));
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_EQ(y.element_as_double(static_cast<int64_t>(i)), want[i]) << op << " at " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace onyx
