// Unit tests of the ai.onnx.preview.training optimizers: Adagrad, Momentum (standard, Nesterov,
// first step), Adam with both norm coefficients, several tensors per node, errors and the
// shape rule. Expected values were computed with NumPy (float64) from the ONNX spec formulas.
#include "onnx_ops/op_schema.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

constexpr const char* kDomain = "ai.onnx.preview.training";

std::vector<Value> run_optimizer(const std::string& op, const std::vector<Value>& inputs,
                                 size_t outputs, std::vector<Attribute> attributes) {
  Node node = make_node(op, inputs.size(), outputs, std::move(attributes));
  node.domain = kDomain;
  return call_node_on_cpu(node, 1, inputs);
}

void expect_close(const Value& v, const std::vector<double>& expected, double tol = 1e-5) {
  const Tensor& t = v.tensor();
  ASSERT_EQ(t.element_count(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(t.element_as_double(static_cast<int64_t>(i)), expected[i], tol) << "at " << i;
  }
}

const Tensor kX = f32({3}, {1.0f, -2.0f, 0.5f});
const Tensor kG = f32({3}, {0.3f, -0.1f, 2.0f});
const Tensor kH = f32({3}, {0.5f, 0.0f, 1.0f});
const Tensor kV = f32({3}, {0.2f, 0.1f, -0.4f});
Tensor rate() { return Tensor::scalar<float>(0.1f); }
Tensor step(int64_t t) { return Tensor::scalar<int64_t>(t); }

TEST(Adagrad, DecayAndNormCoefficient) {
  auto out = run_optimizer("Adagrad", {rate(), step(3), kX, kG, kH}, 2,
                           {make_attribute("decay_factor", 0.1f),
                            make_attribute("norm_coefficient", 0.01f)});
  expect_close(out[0], {0.969114245, -1.923077564, 0.431163641});
  expect_close(out[1], {0.5961, 0.0144, 5.020025});
}

std::vector<Attribute> momentum_attrs(const char* mode) {
  return {make_attribute("alpha", 0.9f), make_attribute("beta", 0.5f),
          make_attribute("norm_coefficient", 0.01f), make_attribute("mode", mode)};
}

TEST(Momentum, StandardNesterovAndFirstStep) {
  auto out = run_optimizer("Momentum", {rate(), step(3), kX, kG, kV}, 2, momentum_attrs("standard"));
  expect_close(out[0], {0.9665, -2.003, 0.43575});
  expect_close(out[1], {0.335, 0.03, 0.6425});
  out = run_optimizer("Momentum", {rate(), step(3), kX, kG, kV}, 2, momentum_attrs("nesterov"));
  expect_close(out[0], {0.93885, -1.9907, 0.241675});
  // At T = 0 the gradient's coefficient is 1, not beta.
  out = run_optimizer("Momentum", {rate(), step(0), kX, kG, kV}, 2, momentum_attrs("standard"));
  expect_close(out[0], {0.951, -1.997, 0.3355});
  expect_close(out[1], {0.49, -0.03, 1.645});
}

TEST(Adam, BiasCorrectionAndNormCoefficients) {
  std::vector<Attribute> attrs = {make_attribute("alpha", 0.85f), make_attribute("beta", 0.95f),
                                  make_attribute("norm_coefficient", 0.01f),
                                  make_attribute("norm_coefficient_post", 0.02f)};
  auto out = run_optimizer("Adam", {rate(), step(3), kX, kG, kV, kH}, 3, attrs);
  expect_close(out[0], {0.950022035, -2.199480211, 0.493508962});
  expect_close(out[1], {0.2165, 0.067, -0.03925});
  expect_close(out[2], {0.479805, 0.00072, 1.15100125});
}

TEST(Adagrad, TwoTensorsPerNodeAndDouble) {
  Tensor x2 = Tensor::from_vector<double>({3}, {1.0, -2.0, 0.5});
  Tensor g2 = Tensor::from_vector<double>({3}, {0.3, -0.1, 2.0});
  Tensor h2 = Tensor::from_vector<double>({3}, {0.5, 0.0, 1.0});
  auto out = run_optimizer("Adagrad", {rate(), step(3), kX, x2, kG, g2, kH, h2}, 4,
                           {make_attribute("decay_factor", 0.1f),
                            make_attribute("norm_coefficient", 0.01f)});
  EXPECT_EQ(out[1].tensor().dtype(), DataType::kDouble);
  expect_close(out[0], {0.969114245, -1.923077564, 0.431163641});
  expect_close(out[1], {0.969114245, -1.923077564, 0.431163641}, 1e-7);
  expect_close(out[3], {0.5961, 0.0144, 5.020025}, 1e-7);
}

TEST(Optimizers, Errors) {
  expect_error([&] { run_optimizer("Adagrad", {rate(), step(1), kX, kG}, 1, {}); },
               {"Adagrad", "inputs"});
  expect_error([&] { run_optimizer("Adagrad", {rate(), step(1), kX, f32({2}, {1, 2}), kH}, 2, {}); },
               {"float [2]", "[3]"});
  expect_error([&] { run_optimizer("Momentum", {rate(), step(1), kX, kG, kV}, 2, momentum_attrs("fast")); },
               {"mode", "fast"});
  expect_error([&] { run_optimizer("Adagrad", {f32({2}, {1, 2}), step(1), kX, kG, kH}, 2, {}); },
               {"R must be a scalar"});
}

TEST(Optimizers, ShapeRuleTypesOutputsLikeTheirInputs) {
  const ShapeRule* rule = ShapeRuleRegistry::global().find(kDomain, "Adam");
  ASSERT_NE(rule, nullptr);
  Node node = make_node("Adam", 6, 3);
  node.domain = kDomain;
  TypeInfo r = TypeInfo::tensor_of_shape(DataType::kFloat, {});
  TypeInfo x = TypeInfo::tensor_of_shape(DataType::kDouble, {2, 3});
  TypeInfo v = TypeInfo::tensor_of_shape(DataType::kFloat, {4});
  TypeInfo h = TypeInfo::tensor_of_shape(DataType::kFloat, {5});
  InferenceContext ctx(node, 1, {&r, &r, &x, &x, &v, &h}, {});
  (*rule)(ctx);
  EXPECT_EQ(ctx.output_types()[0].to_string(), x.to_string());
  EXPECT_EQ(ctx.output_types()[1].to_string(), v.to_string());
  EXPECT_EQ(ctx.output_types()[2].to_string(), h.to_string());
}

}  // namespace
}  // namespace onyx::tensor_test
