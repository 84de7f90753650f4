// Activations and the softmax family: values from NumPy/SciPy, stability on large inputs,
// opset-dependent axis handling, 16-bit floats and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

Tensor run(const std::string& op, int64_t opset, std::vector<Value> inputs,
           std::vector<Attribute> attributes = {}) {
  Node node;
  node.op_type = op;
  node.name = op + "_node";
  for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back("in" + std::to_string(i));
  node.outputs = {"out"};
  node.attributes = std::move(attributes);
  return call_node_on_cpu(node, opset, inputs)[0].tensor();
}

template <typename T>
void expect_near(const Tensor& t, const std::vector<double>& expected, double tolerance) {
  ASSERT_EQ(t.element_count(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    double actual;
    if constexpr (std::is_same_v<T, double>) {
      actual = t.data<T>()[i];
    } else {
      actual = static_cast<float>(t.data<T>()[i]);
    }
    EXPECT_NEAR(actual, expected[i], tolerance) << "element " << i;
  }
}

TEST(Softmax, IsStableOnLargeInputs) {
  Tensor x = Tensor::from_vector<float>({1, 3}, {1000, 1001, 1002});
  expect_near<float>(run("Softmax", 13, {x}), {0.09003057317038046, 0.24472847105479767,
                                                0.6652409557748219}, 1e-6);
  expect_near<float>(run("LogSoftmax", 13, {x}), {-2.4076059644443806, -1.4076059644443806,
                                                   -0.4076059644443806}, 1e-5);
  Tensor h = Tensor::from_vector<Float16>({3}, {Float16(1000.0f), Float16(1001.0f), Float16(1002.0f)});
  expect_near<Float16>(run("Softmax", 13, {h}), {0.0900306, 0.2447285, 0.6652410}, 1e-3);
}

TEST(Softmax, OldOpsetsCoerceTo2DNewOnesUseOneAxis) {
  Tensor x = Tensor::from_vector<double>({2, 2}, {1, 2, 3, 4});
  std::vector<Attribute> axis0 = {make_attribute("axis", int64_t{0})};
  expect_near<double>(run("Softmax", 11, {x}, axis0),
                      {0.03205860328008499, 0.08714431874203257, 0.23688281808991013,
                       0.6439142598879722}, 1e-12);
  expect_near<double>(run("Softmax", 13, {x}, axis0),
                      {0.11920292202211755, 0.11920292202211755, 0.8807970779778823,
                       0.8807970779778823}, 1e-12);
}

TEST(Softmax, HardmaxPicksTheFirstMaximum) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {3, 3, 1, 0, 5, 5});
  expect_near<float>(run("Hardmax", 13, {x}), {1, 0, 0, 0, 1, 0}, 0);
}

TEST(Softmax, RejectsAnAxisOutOfRange) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  try {
    run("Softmax", 13, {x}, {make_attribute("axis", int64_t{2})});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("axis"), std::string::npos) << e.what();
  }
}

TEST(Activations, MatchReferenceValues) {
  Tensor x = Tensor::from_vector<float>({3}, {-1, 0, 1});
  expect_near<float>(run("Gelu", 20, {x}), {-0.15865525393145707, 0, 0.8413447460685429}, 1e-6);
  expect_near<float>(run("Gelu", 20, {x}, {make_attribute("approximate", "tanh")}),
                     {-0.15880800939172324, 0, 0.8411919906082768}, 1e-6);
  expect_near<float>(run("Mish", 18, {x}), {-0.30340146137410895, 0, 0.8650983882673103}, 1e-6);
  // x * sigmoid(2x)
  expect_near<float>(run("Swish", 24, {x}, {make_attribute("alpha", 2.0f)}),
                     {-0.11920292202211755, 0, 0.8807970779778823}, 1e-6);
  expect_near<float>(run("Elu", 6, {x}, {make_attribute("alpha", 2.0f)}),
                     {-1.2642411176571153, 0, 1}, 1e-6);
  expect_near<float>(run("LeakyRelu", 16, {x}), {-0.01, 0, 1}, 1e-7);
  expect_near<float>(run("Selu", 6, {x}), {-1.1113307378125625, 0, 1.0507010221481323}, 1e-6);
  expect_near<float>(run("HardSigmoid", 6, {x}), {0.3, 0.5, 0.7}, 1e-6);
  Tensor big = Tensor::from_vector<float>({4}, {-4, 1, 4, 100});
  expect_near<float>(run("HardSwish", 14, {big}), {0, 0.6666667, 4, 100}, 1e-6);
  expect_near<float>(run("Softsign", 1, {big}), {-0.8, 0.5, 0.8, 100.0 / 101}, 1e-6);
  expect_near<float>(run("ThresholdedRelu", 10, {big}, {make_attribute("alpha", 2.0f)}),
                     {0, 0, 4, 100}, 0);
}

TEST(Activations, StayFiniteOnLargeInputs) {
  Tensor x = Tensor::from_vector<float>({3}, {-100, 0, 100});
  expect_near<float>(run("Softplus", 1, {x}), {0, 0.6931471805599453, 100}, 1e-5);
  expect_near<float>(run("Sigmoid", 13, {x}), {0, 0.5, 1}, 1e-7);
  expect_near<float>(run("Tanh", 13, {x}), {-1, 0, 1}, 1e-7);
  expect_near<float>(run("Mish", 18, {x}), {0, 0, 100}, 1e-5);
}

TEST(Activations, ReluCoversIntegersAndHalfFloats) {
  Tensor i = Tensor::from_vector<int8_t>({3}, {-5, 0, 7});
  Tensor y = run("Relu", 14, {i});
  EXPECT_EQ(y.data<int8_t>()[0], 0);
  EXPECT_EQ(y.data<int8_t>()[2], 7);
  Tensor b = Tensor::from_vector<BFloat16>({2}, {BFloat16(-2.0f), BFloat16(3.0f)});
  expect_near<BFloat16>(run("Relu", 14, {b}), {0, 3}, 0);
  EXPECT_THROW(run("Relu", 14, {Tensor::from_vector<std::string>({1}, {"a"})}), Error);
}

TEST(Activations, PReluBroadcastsTheSlope) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {-1, 2, -3, 4, -5, 6});
  Tensor slope = Tensor::from_vector<float>({3}, {0.1f, 0.2f, 0.3f});
  expect_near<float>(run("PRelu", 16, {x, slope}), {-0.1, 2, -0.9, 4, -1.0, 6}, 1e-6);
  Tensor bad = Tensor::from_vector<float>({2, 3, 1}, {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(run("PRelu", 16, {x, bad}), Error);  // would grow X
}

}  // namespace
}  // namespace onyx
