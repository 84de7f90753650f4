// MatMul and Gemm in double (Eigen), float16 and bfloat16 (widened onto oneDNN's f32 GEMM), and
// float at a single row (the GEMV path), against a double-precision loop over the same (rounded)
// inputs: every transpose, alpha/beta, every shape of C, broadcast batches, and constant weights
// (packed at session creation).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/ir/attribute_builders.h"
#include "runtime/session/inference_session.h"
#include "runtime/session/node_call.h"
#include "tests/runtime/model_building.h"

namespace onyx {
namespace {

template <typename T>
Tensor random_values(const Shape& shape, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  Tensor t(dtype_of<T>(), shape);
  for (int64_t i = 0; i < t.element_count(); ++i) t.mutable_data<T>()[i] = static_cast<T>(uniform(generator));
  return t;
}

template <typename T>
double value_at(const Tensor& t, int64_t i) {
  return static_cast<double>(static_cast<float>(t.data<T>()[i]));
}
template <>
double value_at<double>(const Tensor& t, int64_t i) {
  return t.data<double>()[i];
}

// Tolerance for a result of magnitude `scale`: the output's own rounding plus float sums.
template <typename T>
double tolerance(double scale) {
  if constexpr (std::is_same_v<T, double>) return 1e-12 * (1 + scale);
  if constexpr (std::is_same_v<T, float>) return 1e-5 * (1 + scale);
  if constexpr (std::is_same_v<T, Float16>) return 2e-3 * (1 + scale);
  return 1.6e-2 * (1 + scale);  // bfloat16: 8 bits of mantissa
}

template <typename T>
void expect_close(const Tensor& actual, const std::vector<double>& expected, const std::string& what) {
  ASSERT_EQ(actual.element_count(), static_cast<int64_t>(expected.size())) << what;
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_NEAR(value_at<T>(actual, static_cast<int64_t>(i)), expected[i], tolerance<T>(std::abs(expected[i])))
        << what << " at " << i;
  }
}

// Gemm's definition in double over the stored values.
template <typename T>
std::vector<double> reference_gemm(const Tensor& a, const Tensor& b, const Tensor* c, bool trans_a, bool trans_b,
                                   double alpha, double beta) {
  const int64_t m = trans_a ? a.dim(1) : a.dim(0), k = trans_a ? a.dim(0) : a.dim(1);
  const int64_t n = trans_b ? b.dim(0) : b.dim(1);
  std::vector<double> y(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) {
        sum += value_at<T>(a, trans_a ? p * m + i : i * k + p) * value_at<T>(b, trans_b ? j * k + p : p * n + j);
      }
      double bias = 0;
      if (c) {
        const int64_t rows = c->rank() == 2 ? c->dim(0) : 1, cols = c->rank() >= 1 ? c->shape().back() : 1;
        bias = value_at<T>(*c, (rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j));
      }
      y[static_cast<size_t>(i * n + j)] = alpha * sum + beta * bias;
    }
  }
  return y;
}

template <typename T>
class GemmLibrary : public ::testing::Test {};
using FloatTypes = ::testing::Types<double, Float16, BFloat16>;
TYPED_TEST_SUITE(GemmLibrary, FloatTypes);

TYPED_TEST(GemmLibrary, GemmMatchesItsDefinition) {
  using T = TypeParam;
  const int64_t m = 5, k = 33, n = 7;
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      for (const Shape& c_shape : {Shape{}, Shape{n}, Shape{m, 1}, Shape{m, n}}) {
        for (bool with_c : {false, true}) {
          if (!with_c && !c_shape.empty()) continue;
          Tensor a = random_values<T>(trans_a ? Shape{k, m} : Shape{m, k}, 1);
          Tensor b = random_values<T>(trans_b ? Shape{n, k} : Shape{k, n}, 2);
          Tensor c = random_values<T>(c_shape, 3);
          Node node = testing::make_node("Gemm", {"a", "b"}, {"y"},
                                         {make_attribute("transA", int64_t{trans_a}), make_attribute("transB", int64_t{trans_b}),
                                          make_attribute("alpha", 1.5f), make_attribute("beta", 0.5f)});
          std::vector<Value> inputs{Value(a), Value(b)};
          if (with_c) {
            node.inputs.push_back("c");
            inputs.push_back(Value(c));
          }
          Tensor y = call_node_on_cpu(node, 13, inputs)[0].tensor();
          EXPECT_EQ(y.shape(), (Shape{m, n}));
          expect_close<T>(y, reference_gemm<T>(a, b, with_c ? &c : nullptr, trans_a, trans_b, 1.5, 0.5),
                          std::string("transA ") + (trans_a ? "1" : "0") + " transB " + (trans_b ? "1" : "0") +
                              " C " + shape_to_string(c_shape));
        }
      }
    }
  }
}

TYPED_TEST(GemmLibrary, MatMulBroadcastsBatches) {
  using T = TypeParam;
  // [2, 1, 5, 33] x [3, 33, 7] -> [2, 3, 5, 7]
  Tensor a = random_values<T>({2, 1, 5, 33}, 4), b = random_values<T>({3, 33, 7}, 5);
  Tensor y = call_node_on_cpu(testing::make_node("MatMul", {"a", "b"}, {"y"}), 13, {Value(a), Value(b)})[0].tensor();
  ASSERT_EQ(y.shape(), (Shape{2, 3, 5, 7}));
  std::vector<double> expected;
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      for (int64_t r = 0; r < 5; ++r) {
        for (int64_t col = 0; col < 7; ++col) {
          double sum = 0;
          for (int64_t p = 0; p < 33; ++p) sum += value_at<T>(a, (i * 5 + r) * 33 + p) * value_at<T>(b, (j * 33 + p) * 7 + col);
          expected.push_back(sum);
        }
      }
    }
  }
  expect_close<T>(y, expected, "MatMul");
}

TYPED_TEST(GemmLibrary, ConstantWeightsGiveTheSameResults) {
  // B (and Gemm's C) as initializers: 16-bit weights are widened and packed at session creation.
  using T = TypeParam;
  const DataType dtype = dtype_of<T>();
  Tensor x = random_values<T>({6, 40}, 6), w = random_values<T>({24, 40}, 7), bias = random_values<T>({24}, 8);
  Model model = testing::make_model(
      {testing::make_node("Gemm", {"x", "w", "bias"}, {"g"}, {make_attribute("transB", int64_t{1})}),
       testing::make_node("MatMul", {"x", "wt"}, {"m"})},
      {testing::tensor_value("x", dtype, {6, 40})},
      {testing::tensor_value("g", dtype, {6, 24}), testing::tensor_value("m", dtype, {6, 24})});
  Tensor wt(dtype, {40, 24});
  for (int64_t i = 0; i < 24; ++i) {
    for (int64_t p = 0; p < 40; ++p) wt.mutable_data<T>()[p * 24 + i] = w.data<T>()[i * 40 + p];
  }
  model.graph.set_initializer("w", w);
  model.graph.set_initializer("wt", wt);
  model.graph.set_initializer("bias", bias);
  InferenceSession session(std::move(model));
  auto outputs = session.run({{"x", Value(x)}});
  std::vector<double> gemm = reference_gemm<T>(x, w, &bias, false, true, 1, 1);
  std::vector<double> matmul = reference_gemm<T>(x, w, nullptr, false, true, 1, 1);
  expect_close<T>(outputs[0].value.tensor(), gemm, "Gemm with constant B and C");
  expect_close<T>(outputs[1].value.tensor(), matmul, "MatMul with constant B");
}

TEST(GemmLibrary, DoubleRunsLargeBlockedProducts) {
  // Big enough for Eigen's blocked kernel (several panels in every dim).
  Tensor a = random_values<double>({130, 257}, 9), b = random_values<double>({257, 140}, 10);
  Tensor y = call_node_on_cpu(testing::make_node("MatMul", {"a", "b"}, {"y"}), 13, {Value(a), Value(b)})[0].tensor();
  expect_close<double>(y, reference_gemm<double>(a, b, nullptr, false, false, 1, 0), "MatMul 130x257x140");
}

TEST(GemmSingleRow, EveryTransposeAndCMatchesTheDefinition) {
  // M = 1 with B given at run time, small and large enough to be split between threads.
  for (int64_t k : {33, 600}) {
    const int64_t n = k == 33 ? 7 : 700;
    for (bool trans_b : {false, true}) {
      for (const Shape& c_shape : {Shape{}, Shape{n}, Shape{1, n}, Shape{1, 1}}) {
        Tensor a = random_values<float>({1, k}, 11), b = random_values<float>(trans_b ? Shape{n, k} : Shape{k, n}, 12);
        Tensor c = random_values<float>(c_shape, 13);
        for (float alpha : {1.f, 1.5f}) {
          Node node = testing::make_node("Gemm", {"a", "b"}, {"y"},
                                         {make_attribute("transB", int64_t{trans_b}), make_attribute("alpha", alpha),
                                          make_attribute("beta", 1.f)});
          std::vector<Value> inputs{Value(a), Value(b)};
          if (!c_shape.empty()) {
            node.inputs.push_back("c");
            inputs.push_back(Value(c));
          }
          Tensor y = call_node_on_cpu(node, 13, inputs, 2)[0].tensor();
          expect_close<float>(y, reference_gemm<float>(a, b, c_shape.empty() ? nullptr : &c, false, trans_b, alpha, 1),
                              "k " + std::to_string(k) + " transB " + std::to_string(trans_b) + " C " +
                                  shape_to_string(c_shape) + " alpha " + std::to_string(alpha));
        }
      }
    }
  }
}

TEST(GemmSingleRow, ConstantWeightsWithBiasAndActivation) {
  // A classifier head at batch 1: Gemm(transB) + Relu and MatMul + Add + Sigmoid, weights constant
  // (packed as [K, N] once), fused at level 2 and plain at level 0.
  const int64_t k = 512, n = 300;
  Tensor x = random_values<float>({1, k}, 14), w = random_values<float>({n, k}, 15), wt(DataType::kFloat, {k, n});
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t p = 0; p < k; ++p) wt.mutable_data<float>()[p * n + j] = w.data<float>()[j * k + p];
  }
  Tensor bias = random_values<float>({n}, 16);
  Model model = testing::make_model(
      {testing::make_node("Gemm", {"x", "w", "bias"}, {"g"}, {make_attribute("transB", int64_t{1})}),
       testing::make_node("Relu", {"g"}, {"y1"}), testing::make_node("MatMul", {"x", "wt"}, {"m"}),
       testing::make_node("Add", {"m", "bias"}, {"s"}), testing::make_node("Sigmoid", {"s"}, {"y2"})},
      {testing::tensor_value("x", DataType::kFloat, {1, k})},
      {testing::tensor_value("y1", DataType::kFloat, {1, n}), testing::tensor_value("y2", DataType::kFloat, {1, n})});
  model.graph.set_initializer("w", w);
  model.graph.set_initializer("wt", wt);
  model.graph.set_initializer("bias", bias);
  std::vector<double> expected = reference_gemm<float>(x, w, &bias, false, true, 1, 1);
  std::vector<double> relu(expected), sigmoid(expected);
  for (double& v : relu) v = std::max(v, 0.0);
  for (double& v : sigmoid) v = 1 / (1 + std::exp(-v));
  for (int level : {0, 2}) {
    SessionOptions options;
    options.optimization_level = level;
    InferenceSession session(Model(model), options);
    auto outputs = session.run({{"x", Value(x)}});
    expect_close<float>(outputs[0].value.tensor(), relu, "Gemm + Relu, level " + std::to_string(level));
    expect_close<float>(outputs[1].value.tensor(), sigmoid, "MatMul + Add + Sigmoid, level " + std::to_string(level));
  }
}

}  // namespace
}  // namespace onyx
