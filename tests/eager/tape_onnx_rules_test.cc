// GradientTape with the ONNX ops' production rules (training/gradient_rules/): gradients of
// losses built from broadcasting arithmetic, MatMul, activations, reductions and MaxPool (whose
// rule asks for the indices output the eager call did not request), checked against central
// finite differences in double precision; Identity views do not merge gradients.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "runtime/eager/eager.h"

namespace onyx {
namespace {

Tensor random_tensor(Shape shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> values(static_cast<size_t>(shape_element_count(shape)));
  for (double& v : values) v = uniform(rng);
  return Tensor::from_vector<double>(shape, values);
}

double scalar(const Tensor& t) { return t.values<double>()[0]; }

// Checks the tape's gradient of f with respect to each input against finite differences.
void expect_gradients_match(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs) {
  GradientTape tape;
  for (const Tensor& input : inputs) tape.watch(input);
  Tensor loss = f(inputs);
  std::vector<Tensor> grads = tape.gradient(loss, inputs);
  const double h = 1e-6;
  for (size_t k = 0; k < inputs.size(); ++k) {
    ASSERT_EQ(grads[k].shape(), inputs[k].shape()) << "input " << k;
    for (int64_t i = 0; i < inputs[k].element_count(); ++i) {
      auto shifted = [&](double delta) {
        std::vector<Tensor> moved = inputs;
        moved[k] = inputs[k].clone();
        moved[k].mutable_data<double>()[i] += delta;
        return scalar(f(moved));
      };
      double numeric = (shifted(h) - shifted(-h)) / (2 * h);
      EXPECT_NEAR(grads[k].values<double>()[i], numeric, 1e-5 * std::max(1.0, std::abs(numeric)))
          << "input " << k << " element " << i;
    }
  }
}

TEST(GradientTapeOnnxRules, LinearRegressionLoss) {
  Tensor x = random_tensor({8, 3}, 1), y = random_tensor({8, 1}, 2);
  expect_gradients_match([&](const std::vector<Tensor>& p) {
    Tensor diff = ops::matmul(x, p[0]) + p[1] - y;  // b broadcasts over the batch
    return ops::reduce_mean(diff * diff);
  }, {random_tensor({3, 1}, 3), random_tensor({1}, 4)});
}

TEST(GradientTapeOnnxRules, ActivationsDivisionAndReductions) {
  expect_gradients_match([](const std::vector<Tensor>& p) {
    Tensor hidden = ops::tanh(p[0] * p[1]) / (ops::sigmoid(p[1]) + 1.0);
    Tensor axes = Tensor::from_vector<int64_t>({1}, {1});
    return ops::reduce_sum(ops::reduce_max(hidden, axes, {.keepdims = 0}));
  }, {random_tensor({2, 3}, 5), random_tensor({3}, 6)});
}

TEST(GradientTapeOnnxRules, MaxPoolRuleGetsTheIndicesOutputItNeeds) {
  expect_gradients_match([](const std::vector<Tensor>& p) {
    Tensor pooled = ops::max_pool(p[0], {.kernel_shape = {2, 2}, .strides = {2, 2}});
    return ops::reduce_sum(pooled * pooled);
  }, {random_tensor({1, 1, 4, 4}, 7)});
}

TEST(GradientTapeOnnxRules, IdentityViewsStayDistinctValues) {
  // Identity returns a view of its input; y = id(x) * id(x) + x must still give 2x + 1.
  Tensor x = random_tensor({3}, 8);
  GradientTape tape;
  tape.watch(x);
  Tensor a = ops::identity(x), b = ops::identity(x);
  Tensor loss = ops::reduce_sum(a * b + x);
  Tensor grad = tape.gradient(loss, {x})[0];
  for (int64_t i = 0; i < 3; ++i) EXPECT_NEAR(grad.values<double>()[i], 2 * x.values<double>()[i] + 1, 1e-12);
}

TEST(GradientTapeOnnxRules, SecondDerivativeThroughNestedTapes) {
  Tensor x = Tensor::scalar<double>(0.8);
  GradientTape outer;
  outer.watch(x);
  Tensor first;
  {
    GradientTape inner;
    inner.watch(x);
    Tensor y = x * x * x;                  // y = x^3
    first = inner.gradient(y, {x})[0];     // 3x^2, recorded by the outer tape
  }
  EXPECT_NEAR(scalar(first), 3 * 0.64, 1e-12);
  EXPECT_NEAR(scalar(outer.gradient(first, {x})[0]), 6 * 0.8, 1e-12);
}

}  // namespace
}  // namespace onyx
