// Unit tests of Det, MeanVarianceNormalization, SwiGLU and the random ops. Expected values of
// the deterministic ops were computed with NumPy (np.linalg.det, the MVN function body,
// a * sigmoid(alpha * a) * b); the random ops are checked for range, moments and seeding.
#include <cmath>

#include "onnx_ops/op_schema.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

Tensor f64(Shape shape, std::vector<double> values) {
  return Tensor::from_vector<double>(std::move(shape), values);
}

void expect_close(const Tensor& t, const Shape& shape, const std::vector<double>& values,
                  double tolerance) {
  ASSERT_EQ(shape_to_string(t.shape()), shape_to_string(shape));
  ASSERT_EQ(t.element_count(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_NEAR(t.element_as_double(static_cast<int64_t>(i)), values[i], tolerance) << "at " << i;
  }
}

TEST(Det, BatchedWithPivoting) {
  // The second matrix has a zero in its first pivot position.
  Tensor x = f64({2, 3, 3}, {2, -1, 0, 1, 3, 2, 0, 1, 4, 0, 1, 2, 1, 0, 3, 4, -3, 8});
  expect_close(run1("Det", 11, {x}), {2}, {24.0, -2.0}, 1e-12);
  expect_close(run1("Det", 22, {f32({2, 2}, {0, 1, 1, 0})}), {}, {-1.0}, 1e-6);
  expect_close(run1("Det", 22, {f32({2, 2}, {1, 2, 2, 4})}), {}, {0.0}, 1e-6);
  expect_error([] { run1("Det", 22, {f32({2, 3}, std::vector<float>(6, 1.0f))}); }, {"[*, M, M]"});
  expect_error([] { run1("Det", 22, {i64({1, 1}, {3})}); }, {"Det", "int64"});
}

TEST(MeanVarianceNormalization, DefaultAndCustomAxes) {
  Tensor x = f32({1, 2, 2, 2}, {1, 2, 4, 7, 0, -1, 3, 5});
  expect_close(run1("MeanVarianceNormalization", 13, {x}), {1, 2, 2, 2},
               {-1.0910894507037714, -0.6546536704222629, 0.2182178901407543, 1.52752523098528,
                -0.7337993853976505, -1.1531133199105936, 0.5241424181411789, 1.3627702871670653},
               1e-5);
  Tensor y = run1("MeanVarianceNormalization", 9, {x}, {make_attribute("axes", std::vector<int64_t>{-1})});
  expect_close(y, {1, 2, 2, 2}, {-1, 1, -1, 1, 1, -1, -1, 1}, 1e-6);
  expect_error([&] {
    run1("MeanVarianceNormalization", 13, {x}, {make_attribute("axes", std::vector<int64_t>{4})});
  }, {"axes"});
}

TEST(SwiGLU, AlphaAndErrors) {
  Tensor a = f64({5}, {-2, -0.5, 0, 1, 3});
  Tensor b = f64({5}, {1, 2, -1, 0.5, -2});
  expect_close(run1("SwiGLU", 28, {a, b}), {5},
               {-0.2384058440442351, -0.3775406687981454, 0, 0.36552928931500245, -5.7154447609345995},
               1e-12);
  expect_close(run1("SwiGLU", 28, {a, b}, {make_attribute("alpha", 1.5f)}), {5},
               {-0.09485174635513356, -0.320821300824607, 0, 0.4087872380968218, -5.9340783442164415},
               1e-12);
  expect_error([&] { run1("SwiGLU", 28, {a, f64({1}, {1})}); }, {"identical shapes"});
}

TEST(RandomOps, RangesMomentsAndSeeds) {
  Tensor u = run1("RandomUniform", 22, {}, {make_attribute("shape", std::vector<int64_t>{100, 100}),
                                           make_attribute("low", -2.0f), make_attribute("high", 3.0f),
                                           make_attribute("seed", 5.0f)});
  ASSERT_EQ(u.dtype(), DataType::kFloat);
  double sum = 0;
  for (float v : u.values<float>()) {
    ASSERT_GE(v, -2.0f);
    ASSERT_LT(v, 3.0f);
    sum += v;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.05);
  // The same seed gives the same values in a fresh kernel.
  Tensor u2 = run1("RandomUniform", 22, {}, {make_attribute("shape", std::vector<int64_t>{100, 100}),
                                            make_attribute("low", -2.0f), make_attribute("high", 3.0f),
                                            make_attribute("seed", 5.0f)});
  EXPECT_TRUE(std::equal(u.values<float>().begin(), u.values<float>().end(), u2.values<float>().begin()));

  Tensor like = f64({50, 100}, std::vector<double>(5000, 0.0));
  Tensor n = run1("RandomNormalLike", 22, {like}, {make_attribute("mean", 1.0f), make_attribute("scale", 2.0f)});
  ASSERT_EQ(n.dtype(), DataType::kDouble);
  double mean = 0, sq = 0;
  for (double v : n.values<double>()) mean += v;
  mean /= 5000;
  for (double v : n.values<double>()) sq += (v - mean) * (v - mean);
  EXPECT_NEAR(mean, 1.0, 0.15);
  EXPECT_NEAR(std::sqrt(sq / 5000), 2.0, 0.15);

  Tensor p = f32({4}, {0, 1, 0, 1});
  Tensor bern = run1("Bernoulli", 22, {p}, {make_attribute("dtype", int64_t{7})});
  expect_tensor<int64_t>(bern, {4}, {0, 1, 0, 1});

  // Class 1 has all the mass.
  Tensor logits = f32({2, 3}, {-1e9f, 0, -1e9f, -1e9f, 0, -1e9f});
  Tensor picks = run1("Multinomial", 22, {logits}, {make_attribute("sample_size", int64_t{3})});
  expect_tensor<int32_t>(picks, {2, 3}, {1, 1, 1, 1, 1, 1});
  expect_error([] { run1("Multinomial", 22, {f32({3}, {0, 0, 0})}); }, {"[batch, classes"});
}

TEST(MiscMathShapeRules, DetAndMultinomial) {
  Node det = make_node("Det", 1, 1);
  TypeInfo in = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::known(4), Dim::known(3), Dim::known(3)});
  InferenceContext ctx(det, 22, {&in}, {nullptr});
  (*ShapeRuleRegistry::global().find("", "Det"))(ctx);
  EXPECT_EQ(ctx.output_types()[0].to_string(), "float[4]");
  Node mn = make_node("Multinomial", 1, 1, {make_attribute("sample_size", int64_t{5})});
  TypeInfo logits = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::known(2), Dim::known(7)});
  InferenceContext ctx2(mn, 22, {&logits}, {nullptr});
  (*ShapeRuleRegistry::global().find("", "Multinomial"))(ctx2);
  EXPECT_EQ(ctx2.output_types()[0].to_string(), "int32[2,5]");
}

}  // namespace
}  // namespace onyx::tensor_test
