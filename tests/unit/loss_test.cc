// Unit tests of SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss: reductions, weights,
// ignore_index, N-d inputs, the log_prob output, 16-bit floats, errors and the shape rule.
// Expected values were computed with NumPy (float64) from the formulas of the ONNX spec.
#include <cmath>

#include "onnx_ops/op_schema.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

std::vector<Value> run_loss(const std::string& op, int64_t opset, const std::vector<Value>& inputs,
                            std::vector<Attribute> attributes, size_t outputs = 1,
                            int threads = 1) {
  Node node = make_node(op, inputs.size(), outputs, std::move(attributes));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].is_none()) node.inputs[i] = "";
  }
  return call_node_on_cpu(node, opset, inputs, threads);
}

template <typename T>
void expect_near(const Tensor& t, const Shape& shape, const std::vector<double>& values,
                 double tolerance) {
  ASSERT_EQ(t.dtype(), dtype_of<T>());
  ASSERT_EQ(shape_to_string(t.shape()), shape_to_string(shape));
  ASSERT_EQ(t.element_count(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_NEAR(t.element_as_double(static_cast<int64_t>(i)), values[i], tolerance) << "at " << i;
  }
}

Attribute reduction(const char* r) { return make_attribute("reduction", r); }

const std::vector<float> kLogits = {0.1f, -1.2f, 2.0f, 0.5f, 0.3f, 1.0f, 1.0f, 1.0f,
                                    1.0f, 1.0f, -3.0f, 2.5f, 0.0f, 1.5f, -0.5f};

TEST(SoftmaxCrossEntropyLoss, ReductionsOn2D) {
  Tensor x = f32({3, 5}, kLogits);
  Tensor t = i64({3}, {1, 0, 4});
  Tensor mean = run_loss("SoftmaxCrossEntropyLoss", 13, {x, t}, {})[0].tensor();
  expect_near<float>(mean, {}, {2.8950165479111996}, 1e-5);
  Tensor sum = run_loss("SoftmaxCrossEntropyLoss", 13, {x, t}, {reduction("sum")})[0].tensor();
  expect_near<float>(sum, {}, {8.685049643733599}, 1e-5);
  Tensor none = run_loss("SoftmaxCrossEntropyLoss", 12, {x, t}, {reduction("none")})[0].tensor();
  expect_near<float>(none, {3}, {3.667591038, 1.609437912, 3.408020693}, 1e-5);
}

TEST(SoftmaxCrossEntropyLoss, WeightsIgnoreIndexAndLogProbOnNd) {
  // [N=2, C=3, d=2]; class 2 is ignored, so its weight 1.5 never counts.
  Tensor x = f32({2, 3, 2}, {0.5f, -1.0f, 2.0f, 0.0f, -0.5f, 1.5f, 1.0f, 1.0f, 3.0f, -2.0f, 0.0f,
                             0.25f});
  Tensor t = Tensor::from_vector<int32_t>({2, 2}, {0, 2, 2, 1});
  Tensor w = f32({3}, {0.5f, 2.0f, 1.5f});
  const std::vector<double> log_prob = {-1.7663679,  -2.7663679,  -0.2663679, -1.7663679,
                                        -2.7663679,  -0.2663679,  -2.16984602, -0.420126188,
                                        -0.16984602, -3.420126188, -3.16984602, -1.170126188};
  auto none = run_loss("SoftmaxCrossEntropyLoss", 13, {x, t, w},
                       {reduction("none"), make_attribute("ignore_index", int64_t{2})}, 2);
  expect_near<float>(none[0].tensor(), {2, 2}, {0.88318395, 0, 0, 6.840252376}, 1e-5);
  expect_near<float>(none[1].tensor(), {2, 3, 2}, log_prob, 1e-5);
  auto mean = run_loss("SoftmaxCrossEntropyLoss", 13, {x, t, w},
                       {make_attribute("ignore_index", int64_t{2})}, 2);
  expect_near<float>(mean[0].tensor(), {}, {3.089374530407438}, 1e-5);
}

TEST(SoftmaxCrossEntropyLoss, StableForLargeLogits) {
  Tensor x = Tensor::from_vector<double>({1, 3}, {1000.0, 0.0, -1000.0});
  Tensor loss = run_loss("SoftmaxCrossEntropyLoss", 13, {x, i64({1}, {1})}, {})[0].tensor();
  expect_near<double>(loss, {}, {1000.0}, 1e-9);
}

TEST(SoftmaxCrossEntropyLoss, Float16ComputesInFloat) {
  std::vector<Float16> values;
  for (float v : {1.5f, 0.25f, -0.75f, 0.0f, 2.0f, 1.0f}) values.push_back(Float16(v));
  Tensor x = Tensor::from_vector<Float16>({2, 3}, values);
  Tensor loss = run_loss("SoftmaxCrossEntropyLoss", 13, {x, i64({2}, {0, 2})},
                         {reduction("none")})[0].tensor();
  expect_near<Float16>(loss, {2}, {0.3306726, 1.407606}, 2e-3);
  std::vector<BFloat16> bvalues;
  for (float v : {1.5f, 0.25f, -0.75f, 0.0f, 2.0f, 1.0f}) bvalues.push_back(BFloat16(v));
  Tensor xb = Tensor::from_vector<BFloat16>({2, 3}, bvalues);
  Tensor lossb = run_loss("SoftmaxCrossEntropyLoss", 13, {xb, i64({2}, {0, 2})},
                          {reduction("none")})[0].tensor();
  expect_near<BFloat16>(lossb, {2}, {0.3306726, 1.407606}, 1e-2);
}

// Many d positions (several blocks of work) on two threads, against a plain double loop.
TEST(SoftmaxCrossEntropyLoss, LargeSpatialInputMatchesANaiveReference) {
  const int64_t C = 4, D = 2500;
  std::vector<float> x(static_cast<size_t>(C * D));
  std::vector<int64_t> t(static_cast<size_t>(D));
  for (int64_t i = 0; i < C * D; ++i) x[i] = static_cast<float>(std::sin(0.37 * i) * 5);
  for (int64_t d = 0; d < D; ++d) t[d] = (d * 7) % C;
  auto out = run_loss("SoftmaxCrossEntropyLoss", 13,
                      {f32({1, C, D}, x), i64({1, D}, t)}, {reduction("none")}, 2, 2);
  std::vector<double> expected_loss(static_cast<size_t>(D)), expected_log_prob(x.size());
  for (int64_t d = 0; d < D; ++d) {
    double m = -1e300, s = 0;
    for (int64_t c = 0; c < C; ++c) m = std::max(m, double(x[c * D + d]));
    for (int64_t c = 0; c < C; ++c) s += std::exp(double(x[c * D + d]) - m);
    for (int64_t c = 0; c < C; ++c) expected_log_prob[c * D + d] = double(x[c * D + d]) - m - std::log(s);
    expected_loss[d] = -expected_log_prob[t[d] * D + d];
  }
  expect_near<float>(out[0].tensor(), {1, D}, expected_loss, 1e-4);
  expect_near<float>(out[1].tensor(), {1, C, D}, expected_log_prob, 1e-4);
}

TEST(NegativeLogLikelihoodLoss, WeightedSumAndMean) {
  Tensor x = f32({2, 3}, {-0.5f, -1.5f, -2.0f, -1.0f, -0.25f, -3.0f});
  Tensor t = Tensor::from_vector<int32_t>({2}, {2, 1});
  Tensor w = f32({3}, {1.0f, 0.5f, 2.0f});
  expect_near<float>(run_loss("NegativeLogLikelihoodLoss", 13, {x, t, w}, {reduction("sum")})[0].tensor(),
                     {}, {4.125}, 1e-6);
  expect_near<float>(run_loss("NegativeLogLikelihoodLoss", 22, {x, t, w}, {})[0].tensor(), {},
                     {1.65}, 1e-6);
}

TEST(NegativeLogLikelihoodLoss, MeanSkipsIgnoredTargetsOutsideTheClassRange) {
  Tensor x = f32({4, 2}, {-0.1f, -2.0f, -0.7f, -0.9f, -3.0f, -0.05f, -1.1f, -0.4f});
  Tensor t = i64({4}, {1, -1, 0, 1});
  Tensor loss = run_loss("NegativeLogLikelihoodLoss", 13, {x, t},
                         {make_attribute("ignore_index", int64_t{-1})})[0].tensor();
  expect_near<float>(loss, {}, {1.8}, 1e-6);
}

TEST(NegativeLogLikelihoodLoss, TargetOutOfRangeIsAnError) {
  Tensor x = f32({2, 3}, {-0.5f, -1.5f, -2.0f, -1.0f, -0.25f, -3.0f});
  expect_error([&] { run_loss("NegativeLogLikelihoodLoss", 13, {x, i64({2}, {0, 3})}, {}); },
               {"target class 3", "[0, 3)"});
  expect_error(
      [&] {
        run_loss("NegativeLogLikelihoodLoss", 13, {x, i64({2}, {-1, 0})},
                 {make_attribute("ignore_index", int64_t{5})});
      },
      {"target class -1", "ignore_index 5"});
}

TEST(LossOps, BadShapesAndAttributesAreErrors) {
  Tensor x = f32({2, 3}, {0, 1, 2, 3, 4, 5});
  expect_error([&] { run_loss("SoftmaxCrossEntropyLoss", 13, {x, i64({3}, {0, 1, 2})}, {}); },
               {"target shape [3]", "[2,3]"});
  expect_error(
      [&] { run_loss("SoftmaxCrossEntropyLoss", 13, {x, i64({2}, {0, 1}), f32({2}, {1, 1})}, {}); },
      {"weight shape [2]"});
  expect_error([&] { run_loss("NegativeLogLikelihoodLoss", 13, {f32({3}, {0, 1, 2}), i64({}, {0})}, {}); },
               {"rank >= 2"});
  expect_error([&] { run_loss("SoftmaxCrossEntropyLoss", 13, {x, i64({2}, {0, 1})}, {reduction("avg")}); },
               {"reduction 'avg'"});
  expect_error(
      [&] { run_loss("SoftmaxCrossEntropyLoss", 13, {x, Tensor::from_vector<float>({2}, {0, 1})}, {}); },
      {"int32 or int64"});
}

TEST(LossOps, ShapeRule) {
  const ShapeRule* rule = ShapeRuleRegistry::global().find("", "SoftmaxCrossEntropyLoss");
  ASSERT_NE(rule, nullptr);
  TypeInfo x = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::named("n"), Dim::known(5),
                                                                   Dim{}});
  TypeInfo t = TypeInfo::tensor(DataType::kInt64, std::vector<Dim>{Dim{}, Dim::known(7)});
  Node none = make_node("SoftmaxCrossEntropyLoss", 2, 2, {reduction("none")});
  InferenceContext ctx(none, 13, {&x, &t}, {nullptr, nullptr});
  (*rule)(ctx);
  EXPECT_EQ(ctx.output_types()[0].to_string(), "float[n,7]");
  EXPECT_EQ(ctx.output_types()[1].to_string(), "float[n,5,?]");
  Node mean = make_node("NegativeLogLikelihoodLoss", 2, 1);
  InferenceContext ctx2(mean, 13, {&x, &t}, {nullptr, nullptr});
  (*ShapeRuleRegistry::global().find("", "NegativeLogLikelihoodLoss"))(ctx2);
  EXPECT_EQ(ctx2.output_types()[0].to_string(), "float[]");
}

}  // namespace
}  // namespace onyx::tensor_test
