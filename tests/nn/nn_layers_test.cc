// The stateful and random layers of onyx::nn, each against values worked out in the test from
// their definitions (hand loops over the input), never against numbers onyx produced before:
// BatchNorm (batch statistics in training mode, running statistics with momentum, eval mode on
// the running statistics, (N, C) and (N, C, H, W) inputs), LayerNorm (over the trailing dims,
// affine), Dropout (fraction dropped, 1 / (1 - p) scaling, identity in eval, seeded repeats,
// p = 0 and invalid p) and Embedding (row lookup, out-of-range indices, scattered gradients),
// with tape gradients compared to central differences where they are deterministic.
#include <cmath>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "runtime/common/error.h"
#include "runtime/common/portable_random.h"
#include "training/nn/nn.h"

namespace onyx::nn {
namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, double mean = 0, double stddev = 1) {
  portable_random::Engine engine(seed);
  Tensor tensor(DataType::kFloat, shape);
  float* out = tensor.mutable_data<float>();
  for (int64_t i = 0; i < tensor.element_count(); ++i) {
    out[i] = static_cast<float>(portable_random::normal(engine, mean, stddev));
  }
  return tensor;
}

void expect_close(const std::vector<float>& actual, const std::vector<double>& expected, double tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tolerance) << "element " << i;
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

// Per-channel mean and population variance of an (N, C, ...) input, by hand.
struct ChannelMoments {
  std::vector<double> mean, var;
};
ChannelMoments channel_moments(const Tensor& x) {
  const int64_t n = x.dim(0), c = x.dim(1), inner = x.element_count() / (n * c);
  const std::vector<float> v = to_vector<float>(x);
  ChannelMoments m{std::vector<double>(c, 0.0), std::vector<double>(c, 0.0)};
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < inner; ++k) m.mean[ch] += v[(b * c + ch) * inner + k] / double(n * inner);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < inner; ++k) {
        const double d = v[(b * c + ch) * inner + k] - m.mean[ch];
        m.var[ch] += d * d / double(n * inner);
      }
  return m;
}

// (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + shift[c] over an (N, C, ...) input, by hand.
std::vector<double> normalize_channels(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& var,
                                       const std::vector<double>& scale, const std::vector<double>& shift, double eps) {
  const int64_t n = x.dim(0), c = x.dim(1), inner = x.element_count() / (n * c);
  const std::vector<float> v = to_vector<float>(x);
  std::vector<double> out(v.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < inner; ++k) {
        const int64_t i = (b * c + ch) * inner + k;
        out[i] = (v[i] - mean[ch]) / std::sqrt(var[ch] + eps) * scale[ch] + shift[ch];
      }
  return out;
}

// sum(layer(x) * weights): a scalar whose gradient reaches every output element differently.
Tensor weighted_sum(Layer& layer, const Tensor& x, const Tensor& weights) {
  return ops::reduce_sum(layer(x) * weights, {.keepdims = 0, .noop_with_empty_axes = std::nullopt});
}

// The tape's gradient of weighted_sum with respect to `source` (x, or one of the layer's
// parameter tensors, which `perturb` reaches) against central differences of the same function.
void expect_gradient_matches_finite_differences(Layer& layer, Tensor x, const Tensor& weights, bool of_input,
                                                Tensor* parameter, double tolerance) {
  Tensor& source = of_input ? x : *parameter;
  Tensor grad;
  {
    GradientTape tape;
    tape.watch(source);
    grad = tape.gradient(weighted_sum(layer, x, weights), {source})[0];
  }
  const std::vector<float> tape_grad = to_vector<float>(grad);
  const float h = 1e-2f;
  const Tensor original = source.clone();
  for (int64_t i = 0; i < original.element_count(); ++i) {
    auto loss_with = [&](float delta) {
      Tensor changed = original.clone();
      changed.mutable_data<float>()[i] += delta;
      source = changed;
      return weighted_sum(layer, x, weights).element_as_double(0);
    };
    const double numeric = (loss_with(h) - loss_with(-h)) / (2 * h);
    EXPECT_NEAR(tape_grad[static_cast<size_t>(i)], numeric, tolerance) << "element " << i;
  }
  source = original;
}

// --- BatchNorm --------------------------------------------------------------------------------

void set_batch_norm_state(BatchNorm& bn, std::vector<float> scale, std::vector<float> shift,
                          std::vector<float> running_mean, std::vector<float> running_var) {
  const int64_t c = static_cast<int64_t>(scale.size());
  bn.load_state_dict({{"weight", Tensor::from_vector<float>({c}, scale)},
                      {"bias", Tensor::from_vector<float>({c}, shift)},
                      {"running_mean", Tensor::from_vector<float>({c}, running_mean)},
                      {"running_var", Tensor::from_vector<float>({c}, running_var)}});
}

TEST(NnBatchNorm, TrainingModeNormalizesNcInputsWithTheBatchStatistics) {
  BatchNorm bn(3);
  set_batch_norm_state(bn, {1.5f, -0.5f, 2.0f}, {0.1f, 0.2f, -0.3f}, {0, 0, 0}, {1, 1, 1});
  Tensor x = random_tensor({8, 3}, 1, 2.0, 3.0);
  const ChannelMoments m = channel_moments(x);
  Tensor y = bn(x);
  EXPECT_EQ(y.shape(), x.shape());
  expect_close(to_vector<float>(y), normalize_channels(x, m.mean, m.var, {1.5, -0.5, 2.0}, {0.1, 0.2, -0.3}, 1e-5),
               1e-4);
}

TEST(NnBatchNorm, TrainingModeNormalizesNchwInputsPerChannelOverBatchAndSpace) {
  BatchNorm bn(3, {.eps = 1e-3});
  set_batch_norm_state(bn, {0.5f, 1.0f, 3.0f}, {0, 1, -1}, {0, 0, 0}, {1, 1, 1});
  Tensor x = random_tensor({4, 3, 2, 5}, 2, -1.0, 2.0);
  const ChannelMoments m = channel_moments(x);
  expect_close(to_vector<float>(bn(x)), normalize_channels(x, m.mean, m.var, {0.5, 1.0, 3.0}, {0, 1, -1}, 1e-3), 1e-4);
}

TEST(NnBatchNorm, RunningStatisticsMoveTowardTheBatchByMomentum) {
  // torch's momentum (the weight of the batch statistic), and torch's unbiased batch variance
  // (n / (n - 1) times the population one; n = 6 * 3 values per channel).
  const double momentum = 0.3;
  BatchNorm bn(2, {.momentum = momentum});
  std::vector<double> mean{0, 0}, var{1, 1};  // the initial running statistics
  for (uint64_t seed : {3u, 4u}) {
    Tensor x = random_tensor({6, 2, 3}, seed, 1.0, 2.0);
    const ChannelMoments m = channel_moments(x);
    bn(x);
    for (size_t c = 0; c < 2; ++c) {
      mean[c] = (1 - momentum) * mean[c] + momentum * m.mean[c];
      var[c] = (1 - momentum) * var[c] + momentum * m.var[c] * 18.0 / 17.0;
    }
    expect_close(to_vector<float>(bn.running_mean()), mean, 1e-5);
    expect_close(to_vector<float>(bn.running_var()), var, 1e-5);
  }
}

TEST(NnBatchNorm, EvalModeUsesTheRunningStatisticsAndLeavesThemAlone) {
  BatchNorm bn(2);
  set_batch_norm_state(bn, {2.0f, 0.5f}, {1.0f, -1.0f}, {0.5f, -2.0f}, {4.0f, 0.25f});
  bn.eval();
  Tensor x = random_tensor({5, 2, 2, 2}, 5);
  expect_close(to_vector<float>(bn(x)), normalize_channels(x, {0.5, -2.0}, {4.0, 0.25}, {2.0, 0.5}, {1.0, -1.0}, 1e-5),
               1e-5);
  expect_close(to_vector<float>(bn.running_mean()), {0.5, -2.0}, 0);
  expect_close(to_vector<float>(bn.running_var()), {4.0, 0.25}, 0);
}

TEST(NnBatchNorm, WithoutAffineItHasNoParametersAndOnlyNormalizes) {
  BatchNorm bn(2, {.affine = false});
  EXPECT_EQ(bn.parameter_count(), 0);
  Tensor x = random_tensor({7, 2}, 6, 3.0, 0.5);
  const ChannelMoments m = channel_moments(x);
  expect_close(to_vector<float>(bn(x)), normalize_channels(x, m.mean, m.var, {1, 1}, {0, 0}, 1e-5), 1e-4);
}

TEST(NnBatchNorm, RefusesAnInputWithAnotherChannelCount) {
  BatchNorm bn(3);
  EXPECT_NE(error_of([&] { bn(random_tensor({4, 5}, 7)); }).find("does not have 3 channels in dim 1"),
            std::string::npos);
  EXPECT_NE(error_of([] { BatchNorm(0); }).find("num_features must be positive"), std::string::npos);
  EXPECT_NE(error_of([] { BatchNorm(2, {.momentum = 1.5}); }).find("momentum must be in [0, 1]"), std::string::npos);
}

TEST(NnBatchNorm, TrainingModeGradientsMatchFiniteDifferences) {
  BatchNorm bn(2);
  set_batch_norm_state(bn, {1.5f, 0.7f}, {0.2f, -0.4f}, {0, 0}, {1, 1});
  Tensor x = random_tensor({3, 2, 2}, 8);
  Tensor weights = random_tensor({3, 2, 2}, 9);
  Tensor* scale = &bn.named_parameters()[0].second->value;
  expect_gradient_matches_finite_differences(bn, x, weights, /*of_input=*/true, nullptr, 2e-3);
  expect_gradient_matches_finite_differences(bn, x, weights, /*of_input=*/false, scale, 2e-3);
}

// --- LayerNorm --------------------------------------------------------------------------------

// Normalizes each run of `span` trailing elements of x, then scale[k] and shift[k] by position.
std::vector<double> layer_norm_by_hand(const Tensor& x, int64_t span, const std::vector<double>& scale,
                                       const std::vector<double>& shift, double eps) {
  const std::vector<float> v = to_vector<float>(x);
  std::vector<double> out(v.size());
  for (size_t row = 0; row < v.size() / span; ++row) {
    double mean = 0, var = 0;
    for (int64_t k = 0; k < span; ++k) mean += v[row * span + k] / double(span);
    for (int64_t k = 0; k < span; ++k) var += (v[row * span + k] - mean) * (v[row * span + k] - mean) / double(span);
    for (int64_t k = 0; k < span; ++k) {
      out[row * span + k] = (v[row * span + k] - mean) / std::sqrt(var + eps) * scale[k] + shift[k];
    }
  }
  return out;
}

TEST(NnLayerNorm, NormalizesOverTheLastDimWithTheAffineParameters) {
  LayerNorm norm(4);
  norm.load_state_dict({{"weight", Tensor::from_vector<float>({4}, {1.0f, 2.0f, -1.0f, 0.5f})},
                        {"bias", Tensor::from_vector<float>({4}, {0.0f, 0.5f, 1.0f, -2.0f})}});
  Tensor x = random_tensor({2, 3, 4}, 10, 1.0, 3.0);
  Tensor y = norm(x);
  EXPECT_EQ(y.shape(), x.shape());
  expect_close(to_vector<float>(y), layer_norm_by_hand(x, 4, {1, 2, -1, 0.5}, {0, 0.5, 1, -2}, 1e-5), 1e-4);
}

TEST(NnLayerNorm, NormalizesOverSeveralTrailingDims) {
  LayerNorm norm(std::vector<int64_t>{3, 2}, 1e-3);
  std::vector<float> scale{1, 2, 3, 4, 5, 6}, shift{-3, -2, -1, 0, 1, 2};
  norm.load_state_dict({{"weight", Tensor::from_vector<float>({3, 2}, scale)},
                        {"bias", Tensor::from_vector<float>({3, 2}, shift)}});
  Tensor x = random_tensor({4, 3, 2}, 11);
  expect_close(to_vector<float>(norm(x)),
               layer_norm_by_hand(x, 6, {scale.begin(), scale.end()}, {shift.begin(), shift.end()}, 1e-3), 1e-4);
}

TEST(NnLayerNorm, WithoutAffineItHasNoParametersAndRefusesOtherTrailingShapes) {
  LayerNorm norm(std::vector<int64_t>{5}, 1e-5, /*elementwise_affine=*/false);
  EXPECT_EQ(norm.parameter_count(), 0);
  Tensor x = random_tensor({3, 5}, 12);
  expect_close(to_vector<float>(norm(x)), layer_norm_by_hand(x, 5, {1, 1, 1, 1, 1}, {0, 0, 0, 0, 0}, 1e-5), 1e-4);
  EXPECT_NE(error_of([&] { norm(random_tensor({3, 4}, 13)); }).find("does not end in"), std::string::npos);
}

TEST(NnLayerNorm, GradientsMatchFiniteDifferences) {
  LayerNorm norm(3);
  norm.load_state_dict({{"weight", Tensor::from_vector<float>({3}, {1.2f, -0.7f, 0.4f})},
                        {"bias", Tensor::from_vector<float>({3}, {0.1f, 0.0f, -0.3f})}});
  Tensor x = random_tensor({4, 3}, 14);
  Tensor weights = random_tensor({4, 3}, 15);
  expect_gradient_matches_finite_differences(norm, x, weights, /*of_input=*/true, nullptr, 2e-3);
  for (auto& [name, parameter] : norm.named_parameters()) {
    SCOPED_TRACE(name);
    expect_gradient_matches_finite_differences(norm, x, weights, /*of_input=*/false, &parameter->value, 2e-3);
  }
}

// --- Dropout ----------------------------------------------------------------------------------

TEST(NnDropout, TrainingDropsAboutPAndScalesTheRestByOneOverOneMinusP) {
  manual_seed(1);
  const double p = 0.3;
  Dropout dropout(p);
  Tensor x = random_tensor({200, 500}, 16, 2.0, 1.0);
  const std::vector<float> in = to_vector<float>(x), out = to_vector<float>(dropout(x));
  int64_t dropped = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (out[i] == 0.0f) {
      ++dropped;
    } else {
      ASSERT_NEAR(out[i], in[i] / (1 - p), 1e-5 * std::fabs(in[i])) << "element " << i;
    }
  }
  // 100000 draws: the standard deviation of the fraction is sqrt(p (1 - p) / n) = 0.00145.
  EXPECT_NEAR(static_cast<double>(dropped) / static_cast<double>(in.size()), p, 0.006);
}

TEST(NnDropout, EvalModeAndPZeroAreTheIdentity) {
  Tensor x = random_tensor({10, 10}, 17);
  Dropout dropout(0.5);
  dropout.eval();
  EXPECT_EQ(to_vector<float>(dropout(x)), to_vector<float>(x));
  Dropout none(0.0);
  EXPECT_TRUE(none.is_training());
  EXPECT_EQ(to_vector<float>(none(x)), to_vector<float>(x));
}

TEST(NnDropout, TheGlobalSeedRepeatsTheMasksAndEachCallDrawsANewOne) {
  Tensor x = random_tensor({1000}, 18, 1.0, 0.1);
  manual_seed(7);
  Dropout a(0.5);
  manual_seed(7);
  Dropout b(0.5);
  const std::vector<float> first = to_vector<float>(a(x));
  EXPECT_EQ(first, to_vector<float>(b(x)));
  EXPECT_NE(first, to_vector<float>(a(x)));
}

TEST(NnDropout, RefusesAPOutsideZeroToOne) {
  for (double p : {-0.1, 1.0, 1.5}) {
    EXPECT_NE(error_of([p] { Dropout dropout(p); }).find("p must be in [0, 1)"), std::string::npos) << p;
  }
}

TEST(NnDropout, TheGradientIsTheMaskScaledByOneOverOneMinusP) {
  manual_seed(2);
  const double p = 0.25;
  Dropout dropout(p);
  Tensor x = random_tensor({40}, 19, 3.0, 0.5);  // no element near zero: a kept one is never 0
  Tensor weights = random_tensor({40}, 20);
  Tensor y, grad;
  {
    GradientTape tape;
    tape.watch(x);
    y = dropout(x);
    grad = tape.gradient(ops::reduce_sum(y * weights, {.keepdims = 0, .noop_with_empty_axes = std::nullopt}), {x})[0];
  }
  const std::vector<float> out = to_vector<float>(y), w = to_vector<float>(weights), g = to_vector<float>(grad);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_NEAR(g[i], out[i] == 0.0f ? 0.0 : w[i] / (1 - p), 1e-5) << "element " << i;
  }
}

// --- Embedding --------------------------------------------------------------------------------

TEST(NnEmbedding, LooksUpRowsOfTheTableForAnyIndexShape) {
  Embedding embedding(5, 3);
  const std::vector<float> table = to_vector<float>(embedding.weight().value);
  for (DataType dtype : {DataType::kInt64, DataType::kInt32}) {
    const std::vector<int64_t> rows{4, 0, 2, 2, 1, 3};
    Tensor indices = dtype == DataType::kInt64
                         ? Tensor::from_vector<int64_t>({2, 3}, rows)
                         : Tensor::from_vector<int32_t>({2, 3}, std::vector<int32_t>(rows.begin(), rows.end()));
    Tensor y = embedding(indices);
    EXPECT_EQ(y.shape(), (Shape{2, 3, 3}));
    std::vector<double> expected;
    for (int64_t row : rows)
      for (int64_t k = 0; k < 3; ++k) expected.push_back(table[row * 3 + k]);
    expect_close(to_vector<float>(y), expected, 0);
  }
}

TEST(NnEmbedding, AnIndexOutsideTheTableNamesItAndTheSize) {
  Embedding embedding(5, 3);
  const std::string message = error_of([&] { embedding(Tensor::from_vector<int64_t>({2}, {1, 5})); });
  EXPECT_NE(message.find("index 5 is out of range"), std::string::npos) << message;
  EXPECT_NE(message.find("Embedding"), std::string::npos) << message;
  EXPECT_NE(message.find("table of 5 embeddings"), std::string::npos) << message;
  // As in torch, a negative index is an error, not a row counted from the end.
  EXPECT_NE(error_of([&] { embedding(Tensor::from_vector<int64_t>({1}, {-1})); }).find("index -1 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of([&] { embedding(Tensor::from_vector<int32_t>({1}, {-6})); }).find("index -6 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of([&] { embedding(Tensor::from_vector<float>({1}, {1.0f})); }).find("must be int64 or int32"),
            std::string::npos);
  EXPECT_NE(error_of([] { Embedding(0, 3); }).find("sizes must be positive"), std::string::npos);
}

TEST(NnEmbedding, TheGradientAddsUpInTheRowsUsed) {
  Embedding embedding(4, 2);
  const std::vector<int64_t> rows{1, 3, 1, 1};
  Tensor weights = random_tensor({4, 2}, 21);
  Tensor grad;
  {
    GradientTape tape;
    tape.watch(embedding.weight().value);
    Tensor y = embedding(Tensor::from_vector<int64_t>({4}, rows));
    grad = tape.gradient(ops::reduce_sum(y * weights, {.keepdims = 0, .noop_with_empty_axes = std::nullopt}),
                         {embedding.weight().value})[0];
  }
  const std::vector<float> w = to_vector<float>(weights);
  std::vector<double> expected(8, 0.0);  // row 0 and 2 unused: zero
  for (size_t position = 0; position < rows.size(); ++position)
    for (int64_t k = 0; k < 2; ++k) expected[rows[position] * 2 + k] += w[position * 2 + k];
  expect_close(to_vector<float>(grad), expected, 1e-6);
}

}  // namespace
}  // namespace onyx::nn
