// QLinearConv runs channels-last at level 2 (com.onyx NhwcQLinearConv, with the per-tensor
// QuantizeLinear/DequantizeLinear around it channels-last too) and gives exactly the level-1
// result: the same integer arithmetic, only the layout differs. Cases: uint8 and int8
// activations, per-tensor and per-channel weights, a bias, strides and padding, a grouped
// (depthwise) convolution, a 1-D one, and nonzero weight zero points (oneDNN takes none: those
// run the portable loops, channels-first in between).
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "runtime/ir/attribute_builders.h"
#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"
#include "tests/runtime/optimization_levels.h"

namespace onyx {
namespace {

using testing::make_model;
using testing::make_node;
using testing::op_counts;
using testing::random_tensor;
using testing::tensor_value;

struct QConvCase {
  std::string name;
  DataType activation = DataType::kUInt8;
  std::vector<int64_t> x_shape{1, 8, 9, 9};
  int64_t maps = 6, group = 1;
  std::vector<int64_t> kernel{3, 3};
  std::vector<int64_t> strides{1, 1};
  bool per_channel = true, bias = true, weight_zero_point = false;
};

template <typename T>
Tensor integer_tensor(const Shape& shape, int lo, int hi, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int> values(lo, hi);
  Tensor tensor(dtype_of<T>(), shape);
  for (int64_t i = 0; i < tensor.element_count(); ++i) tensor.mutable_data<T>()[i] = static_cast<T>(values(generator));
  return tensor;
}

// x (float) -> QuantizeLinear -> QLinearConv -> DequantizeLinear -> y, as the QOperator format
// writes a quantized convolution.
Model qlinear_conv_model(const QConvCase& c) {
  const int64_t channels = c.x_shape[1];
  Shape w_shape{c.maps, channels / c.group};
  w_shape.insert(w_shape.end(), c.kernel.begin(), c.kernel.end());
  std::vector<int64_t> pads(2 * c.kernel.size(), 1);
  std::vector<std::string> conv_inputs{"xq", "x_scale", "x_zero", "w", "w_scale", "w_zero", "y_scale", "y_zero"};
  if (c.bias) conv_inputs.push_back("b");
  std::vector<Node> nodes{
      make_node("QuantizeLinear", {"x", "x_scale", "x_zero"}, {"xq"}),
      make_node("QLinearConv", conv_inputs, {"yq"},
                {make_attribute("pads", pads), make_attribute("strides", c.strides), make_attribute("group", c.group)}),
      make_node("DequantizeLinear", {"yq", "y_scale", "y_zero"}, {"y"})};
  Model model = make_model(nodes, {tensor_value("x", DataType::kFloat, c.x_shape)},
                           {{"y", TypeInfo::tensor(DataType::kFloat), ""}}, 21);
  Graph& g = model.graph;
  g.set_initializer("x_scale", Tensor::scalar<float>(0.03f));
  if (c.activation == DataType::kUInt8) {
    g.set_initializer("x_zero", Tensor::scalar<uint8_t>(120));
    g.set_initializer("y_zero", Tensor::scalar<uint8_t>(110));
  } else {
    g.set_initializer("x_zero", Tensor::scalar<int8_t>(-5));
    g.set_initializer("y_zero", Tensor::scalar<int8_t>(3));
  }
  g.set_initializer("w", integer_tensor<int8_t>(w_shape, -90, 90, 3));
  const int64_t scales = c.per_channel ? c.maps : 1;
  Tensor w_scale(DataType::kFloat, {scales});
  for (int64_t m = 0; m < scales; ++m) w_scale.mutable_data<float>()[m] = 0.002f + 0.001f * static_cast<float>(m);
  g.set_initializer("w_scale", w_scale);
  g.set_initializer("w_zero", c.weight_zero_point ? integer_tensor<int8_t>({scales}, -4, 4, 5)
                                                  : Tensor(DataType::kInt8, {scales}));
  if (!c.weight_zero_point) std::fill_n(g.initializers.at("w_zero").mutable_data<int8_t>(), scales, int8_t{0});
  g.set_initializer("y_scale", Tensor::scalar<float>(0.04f));
  if (c.bias) g.set_initializer("b", integer_tensor<int32_t>({c.maps}, -300, 300, 7));
  return model;
}

TEST(ChannelsLastQLinearConv, GivesExactlyTheChannelsFirstResult) {
  std::vector<QConvCase> cases(7);
  cases[0].name = "uint8, per-channel, bias";
  cases[1].name = "int8 activations, per-tensor weights, no bias";
  cases[1].activation = DataType::kInt8;
  cases[1].per_channel = false;
  cases[1].bias = false;
  cases[2].name = "stride 2, batch 2";
  cases[2].strides = {2, 2};
  cases[2].x_shape = {2, 8, 10, 10};
  cases[3].name = "depthwise";
  cases[3].group = 8;
  cases[3].maps = 8;
  cases[4].name = "1x1";
  cases[4].kernel = {1, 1};
  cases[5].name = "1-D";
  cases[5].x_shape = {1, 8, 17};
  cases[5].kernel = {3};
  cases[5].strides = {1};
  cases[6].name = "nonzero weight zero points (the loops)";
  cases[6].weight_zero_point = true;
  for (const QConvCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Model model = qlinear_conv_model(c);
    InferenceSession first(Model(model), testing::level(1));
    InferenceSession last(Model(model), testing::level(2));
    EXPECT_EQ(op_counts(last)["NhwcQLinearConv"], 1);
    EXPECT_EQ(op_counts(last).count("QLinearConv"), 0u);
    const std::map<std::string, Value> feeds{{"x", random_tensor(c.x_shape, 11, 1.5f)}};
    const Tensor expected = first.run(feeds)[0].value.tensor();
    const Tensor actual = last.run(feeds)[0].value.tensor();
    ASSERT_EQ(actual.shape(), expected.shape());
    int64_t mismatches = 0;
    for (int64_t i = 0; i < expected.element_count(); ++i) mismatches += actual.data<float>()[i] != expected.data<float>()[i];
    EXPECT_EQ(mismatches, 0);
    // The case is not trivial: its outputs take many values.
    std::set<float> distinct(expected.data<float>(), expected.data<float>() + expected.element_count());
    EXPECT_GT(distinct.size(), 10u);
  }
}

}  // namespace
}  // namespace onyx
