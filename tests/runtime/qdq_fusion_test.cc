// The QDQ pass (runtime/optimizer/qdq_fusion.h) turns DequantizeLinear -> Conv/MatMul/Gemm ->
// QuantizeLinear, as onnxruntime's quantizer writes it, into QLinearConv/QLinearMatMul, which
// run on oneDNN's int8 kernels; and it leaves every pattern alone whose meaning those ops
// cannot keep. Each model runs at level 1 (the float ops on dequantized values) and level 2;
// the fused result may differ from the float one by one output step where the float sum
// rounds differently, on a few elements.
#include <gtest/gtest.h>

#include <random>

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

constexpr float kOutputScale = 0.05f;

Tensor int8_tensor(const Shape& shape, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int> values(-100, 100);
  Tensor tensor(DataType::kInt8, shape);
  for (int64_t i = 0; i < tensor.element_count(); ++i) tensor.mutable_data<int8_t>()[i] = static_cast<int8_t>(values(generator));
  return tensor;
}

Tensor filled(DataType type, const Shape& shape, double value) {
  Tensor tensor(type, shape);
  for (int64_t i = 0; i < tensor.element_count(); ++i) {
    switch (type) {
      case DataType::kFloat: tensor.mutable_data<float>()[i] = static_cast<float>(value); break;
      case DataType::kUInt8: tensor.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(value); break;
      case DataType::kInt8: tensor.mutable_data<int8_t>()[i] = static_cast<int8_t>(value); break;
      default: ADD_FAILURE() << "filled: unexpected type";
    }
  }
  return tensor;
}

// What to change in the quantized convolution below, one thing per negative case.
struct ConvCase {
  bool weights_are_an_input = false;  // not a constant: QLinearConv's int8 kernel needs them fixed
  bool conv_output_also_read = false;  // the float product is a graph output too
  bool blocked_weights = false;       // block_size on the weights' DequantizeLinear
  bool per_channel_activation = false;  // x quantized along channels: QLinearConv's x_scale is one value
  bool weight_zero_point = false;     // nonzero weight zero points: QLinearConv, but not oneDNN's
};

// x -> Q -> DQ -> Conv(DQ(w), DQ(b)) -> Q -> DQ -> y, as onnxruntime's QDQ quantizer writes a
// convolution (per-channel int8 weights, int32 bias of scale x_scale * w_scale, uint8 activations).
Model quantized_conv(const ConvCase& c) {
  const int64_t maps = 3, channels = 4;
  std::vector<Node> nodes{
      make_node("QuantizeLinear", {"x", "x_scale", "x_zero"}, {"xq"}),
      make_node("DequantizeLinear", {"xq", "x_scale", "x_zero"}, {"xd"}),
      make_node("DequantizeLinear", {"wq", "w_scale", "w_zero"}, {"wd"},
                c.blocked_weights ? std::vector<Attribute>{make_attribute("axis", int64_t{1}), make_attribute("block_size", int64_t{2})}
                                  : std::vector<Attribute>{make_attribute("axis", int64_t{0})}),
      make_node("DequantizeLinear", {"bq", "b_scale"}, {"bd"}, {make_attribute("axis", int64_t{0})}),
      make_node("Conv", {"xd", "wd", "bd"}, {"c"}, {make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})}),
      make_node("QuantizeLinear", {"c", "y_scale", "y_zero"}, {"yq"}),
      make_node("DequantizeLinear", {"yq", "y_scale", "y_zero"}, {"y"})};
  std::vector<ValueInfo> inputs{tensor_value("x", DataType::kFloat, {1, channels, 6, 6})};
  std::vector<ValueInfo> outputs{tensor_value("y", DataType::kFloat, {1, maps, 6, 6})};
  if (c.conv_output_also_read) outputs.push_back(tensor_value("c", DataType::kFloat, {1, maps, 6, 6}));
  if (c.weights_are_an_input) inputs.push_back(tensor_value("wq", DataType::kInt8, {maps, channels, 3, 3}));
  Model model = make_model(nodes, inputs, outputs, 21);
  Graph& g = model.graph;
  const float x_scale = 0.02f;
  if (c.per_channel_activation) {
    g.nodes[0].attributes.push_back(make_attribute("axis", int64_t{1}));
    g.nodes[1].attributes.push_back(make_attribute("axis", int64_t{1}));
    g.set_initializer("x_scale", filled(DataType::kFloat, {channels}, x_scale));
    g.set_initializer("x_zero", filled(DataType::kUInt8, {channels}, 128));
  } else {
    g.set_initializer("x_scale", Tensor::scalar<float>(x_scale));
    g.set_initializer("x_zero", Tensor::scalar<uint8_t>(128));
  }
  Tensor w_scale(DataType::kFloat, {maps});
  for (int64_t m = 0; m < maps; ++m) w_scale.mutable_data<float>()[m] = 0.004f * static_cast<float>(m + 1);
  if (!c.weights_are_an_input) g.set_initializer("wq", int8_tensor({maps, channels, 3, 3}, 7));
  if (c.blocked_weights) {
    g.set_initializer("w_scale", filled(DataType::kFloat, {maps, channels / 2, 3, 3}, 0.004));
    g.set_initializer("w_zero", filled(DataType::kInt8, {maps, channels / 2, 3, 3}, 0));
  } else {
    g.set_initializer("w_scale", w_scale);
    g.set_initializer("w_zero", filled(DataType::kInt8, {maps}, c.weight_zero_point ? 3 : 0));
  }
  Tensor b_scale(DataType::kFloat, {maps});
  for (int64_t m = 0; m < maps; ++m) b_scale.mutable_data<float>()[m] = x_scale * w_scale.data<float>()[m];
  g.set_initializer("b_scale", b_scale);
  Tensor bias(DataType::kInt32, {maps});
  for (int64_t m = 0; m < maps; ++m) bias.mutable_data<int32_t>()[m] = static_cast<int32_t>(50 * m - 40);
  g.set_initializer("bq", bias);
  g.set_initializer("y_scale", Tensor::scalar<float>(kOutputScale));
  g.set_initializer("y_zero", Tensor::scalar<uint8_t>(100));
  return model;
}

// The float output `name` of both runs: equal, but for a step of `scale` on at most 5% of it.
void expect_within_one_step(const std::vector<NamedValue>& expected, const std::vector<NamedValue>& actual,
                            float scale) {
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    const Tensor& e = expected[k].value.tensor();
    const Tensor& a = actual[k].value.tensor();
    ASSERT_EQ(a.shape(), e.shape()) << expected[k].name;
    int64_t differing = 0;
    for (int64_t i = 0; i < e.element_count(); ++i) {
      const float step = std::abs(a.data<float>()[i] - e.data<float>()[i]) / scale;
      EXPECT_LE(step, 1.001f) << expected[k].name << " element " << i;
      differing += step > 1e-3f;
    }
    EXPECT_LE(differing, e.element_count() / 20) << expected[k].name;
  }
}

struct Runs {
  std::map<std::string, int> level2;           // op types of the optimized plan
  std::map<std::string, std::string> implementations;  // op type -> its kernel's implementation
};

Runs run_both_levels(const Model& model, std::map<std::string, Value> feeds) {
  InferenceSession plain(Model(model), testing::level(1));
  InferenceSession fused(Model(model), testing::level(2));
  expect_within_one_step(plain.run(feeds), fused.run(feeds), kOutputScale);
  Runs runs{op_counts(fused), {}};
  for (const PlanStep& step : fused.plan().steps()) {
    if (step.node && step.kernel) runs.implementations[step.node->op_type] = step.kernel->implementation();
  }
  return runs;
}

std::map<std::string, Value> conv_feeds(const ConvCase& c) {
  std::map<std::string, Value> feeds{{"x", random_tensor({1, 4, 6, 6}, 11, 0.8f)}};
  if (c.weights_are_an_input) feeds["wq"] = int8_tensor({3, 4, 3, 3}, 7);
  return feeds;
}

TEST(QdqFusion, QuantizedConvolutionRunsAsQLinearConvOnOneDnnInt8) {
  const ConvCase plain;
  Runs runs = run_both_levels(quantized_conv(plain), conv_feeds(plain));
  // Channels-last, as the float convolutions are (the channels-last pass follows).
  EXPECT_EQ(runs.level2["NhwcQLinearConv"], 1);
  EXPECT_EQ(runs.level2.count("Conv") + runs.level2.count("NhwcConv"), 0u);
  EXPECT_EQ(runs.implementations["NhwcQLinearConv"], "oneDNN int8");
}

TEST(QdqFusion, NonzeroWeightZeroPointsFuseButRunOnTheLoops) {
  // QLinearConv means the same; oneDNN's int8 convolution takes no weight zero points.
  ConvCase c;
  c.weight_zero_point = true;
  Runs runs = run_both_levels(quantized_conv(c), conv_feeds(c));
  EXPECT_EQ(runs.level2["NhwcQLinearConv"], 1);
  EXPECT_EQ(runs.implementations["NhwcQLinearConv"], "reference loops");
}

TEST(QdqFusion, LeavesAlonePatternsQLinearConvCannotExpress) {
  ConvCase weights_input, read_twice, blocked, per_channel_x;
  weights_input.weights_are_an_input = true;
  read_twice.conv_output_also_read = true;
  blocked.blocked_weights = true;
  per_channel_x.per_channel_activation = true;
  for (const auto& [what, c] : std::vector<std::pair<std::string, ConvCase>>{
           {"weights fed at run time", weights_input},
           {"the float product is also an output", read_twice},
           {"blocked weight quantization", blocked},
           {"activations quantized per channel", per_channel_x}}) {
    SCOPED_TRACE(what);
    Runs runs = run_both_levels(quantized_conv(c), conv_feeds(c));
    EXPECT_EQ(runs.level2.count("QLinearConv") + runs.level2.count("NhwcQLinearConv"), 0u);
    // The float convolution stays (channels-last where its weights are constant).
    EXPECT_EQ(runs.level2["Conv"] + runs.level2["NhwcConv"], 1);
    EXPECT_EQ(runs.level2["QuantizeLinear"], 2);
  }
}

// x -> Q -> DQ -> Gemm/MatMul(DQ(w)) -> Q -> DQ -> y.
Model quantized_product(const std::string& op, std::vector<Attribute> attributes, bool with_bias) {
  std::vector<std::string> product_inputs{"xd", "wd"};
  if (with_bias) product_inputs.push_back("bias");
  std::vector<Node> nodes{make_node("QuantizeLinear", {"x", "x_scale", "x_zero"}, {"xq"}),
                          make_node("DequantizeLinear", {"xq", "x_scale", "x_zero"}, {"xd"}),
                          make_node("DequantizeLinear", {"wq", "w_scale", "w_zero"}, {"wd"},
                                    {make_attribute("axis", int64_t{op == "Gemm" ? 0 : 1})}),
                          make_node(op, product_inputs, {"p"}, std::move(attributes)),
                          make_node("QuantizeLinear", {"p", "y_scale", "y_zero"}, {"yq"}),
                          make_node("DequantizeLinear", {"yq", "y_scale", "y_zero"}, {"y"})};
  Model model = make_model(nodes, {tensor_value("x", DataType::kFloat, {5, 16})},
                           {tensor_value("y", DataType::kFloat, {5, 6})}, 21);
  Graph& g = model.graph;
  g.set_initializer("x_scale", Tensor::scalar<float>(0.02f));
  g.set_initializer("x_zero", Tensor::scalar<uint8_t>(128));
  // Gemm takes the transposed weights (transB, as exported linear layers are): [6, 16].
  g.set_initializer("wq", int8_tensor(op == "Gemm" ? Shape{6, 16} : Shape{16, 6}, 9));
  g.set_initializer("w_scale", filled(DataType::kFloat, {6}, 0.003));
  g.set_initializer("w_zero", filled(DataType::kInt8, {6}, 0));
  g.set_initializer("bias", random_tensor({6}, 4, 0.2f));
  g.set_initializer("y_scale", Tensor::scalar<float>(kOutputScale));
  g.set_initializer("y_zero", Tensor::scalar<uint8_t>(120));
  return model;
}

TEST(QdqFusion, QuantizedMatMulAndTransposedGemmRunAsQLinearMatMul) {
  for (const auto& [op, attributes] : std::vector<std::pair<std::string, std::vector<Attribute>>>{
           {"MatMul", {}}, {"Gemm", {make_attribute("transB", int64_t{1})}}}) {
    SCOPED_TRACE(op);
    Runs runs = run_both_levels(quantized_product(op, attributes, false), {{"x", random_tensor({5, 16}, 3, 0.8f)}});
    EXPECT_EQ(runs.level2["QLinearMatMul"], 1);
    EXPECT_EQ(runs.level2.count(op), 0u);
    EXPECT_EQ(runs.implementations["QLinearMatMul"], "oneDNN int8");
  }
}

TEST(QdqFusion, LeavesAloneGemmsQLinearMatMulCannotExpress) {
  // A float bias, a scaled product or a transposed A are not QLinearMatMul's meaning.
  for (const auto& [what, model] : std::vector<std::pair<std::string, Model>>{
           {"float bias", quantized_product("Gemm", {make_attribute("transB", int64_t{1})}, true)},
           {"alpha", quantized_product("Gemm", {make_attribute("transB", int64_t{1}), make_attribute("alpha", 0.5f)}, false)}}) {
    SCOPED_TRACE(what);
    Runs runs = run_both_levels(model, {{"x", random_tensor({5, 16}, 3, 0.8f)}});
    EXPECT_EQ(runs.level2.count("QLinearMatMul"), 0u);
  }
}

}  // namespace
}  // namespace onyx
