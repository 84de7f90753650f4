// The channels-last pass (optimization level 2) must not change any result: each model here
// runs at level 1 (channels-first Conv, whose oneDNN path the Conv tests check against the
// reference kernel) and at level 2, and the plans show that the rewrite really happened.
#include <gtest/gtest.h>

#include <random>

#include "onnx_ops/op_schema.h"
#include "runtime/session/inference_session.h"
#include "runtime/session/node_call.h"
#include "tests/runtime/model_building.h"
#include "tests/runtime/optimization_levels.h"

namespace onyx {
namespace {

using testing::compare_levels;
using testing::level;
using testing::LevelCounts;
using testing::make_model;
using testing::op_counts;
using testing::random_tensor;
using testing::make_node;
using testing::tensor_value;

Attribute ints(const std::string& name, std::vector<int64_t> values) { return make_attribute(name, std::move(values)); }

// Adds the initializer `name` with random values to `model`.
void add_weight(Model& model, const std::string& name, const Shape& shape, uint32_t seed) {
  model.graph.set_initializer(name, random_tensor(shape, seed, 0.3f));
}

void add_scalar(Model& model, const std::string& name, float value) {
  model.graph.set_initializer(name, Tensor::scalar<float>(value));
}

// Runs `model` at levels 1 and 2 on `feeds` and expects the same outputs; returns the level-2
// session's op counts.
std::map<std::string, int> expect_same_results(const Model& model, const std::map<std::string, Value>& feeds) {
  LevelCounts counts = compare_levels(model, feeds);
  EXPECT_EQ(counts.level1.count("NhwcConv"), 0u);
  return counts.level2;
}

// x[1,8,10,10] -> 1x1 Conv(16) -> Clip(0,6) -> depthwise 3x3 Conv -> Clip(0,6) -> 1x1 Conv(8)
// -> Add(x) -> y: MobileNetV2's inverted residual block.
Model inverted_residual(std::vector<int64_t> x_shape) {
  Model model = make_model(
      {make_node("Conv", {"x", "w1", "b1"}, {"expand"}, {ints("kernel_shape", {1, 1})}),
       make_node("Clip", {"expand", "zero", "six"}, {"expand6"}),
       make_node("Conv", {"expand6", "w2", "b2"}, {"depthwise"},
                 {ints("kernel_shape", {3, 3}), ints("pads", {1, 1, 1, 1}), make_attribute("group", int64_t{16})}),
       make_node("Clip", {"depthwise", "zero", "six"}, {"depthwise6"}),
       make_node("Conv", {"depthwise6", "w3", "b3"}, {"project"}),
       make_node("Add", {"project", "x"}, {"y"})},
      {tensor_value("x", DataType::kFloat, x_shape)},
      {tensor_value("y", DataType::kFloat, x_shape)});
  add_weight(model, "w1", {16, 8, 1, 1}, 1);
  add_weight(model, "b1", {16}, 2);
  add_weight(model, "w2", {16, 1, 3, 3}, 3);
  add_weight(model, "b2", {16}, 4);
  add_weight(model, "w3", {8, 16, 1, 1}, 5);
  add_weight(model, "b3", {8}, 6);
  add_scalar(model, "zero", 0.f);
  add_scalar(model, "six", 0.5f);  // low enough that the clip bites
  return model;
}

TEST(ChannelsLast, InvertedResidualBlockRunsChannelsLastWithFusedClips) {
  Model model = inverted_residual({1, 8, 10, 10});
  auto counts = expect_same_results(model, {{"x", random_tensor({1, 8, 10, 10}, 7)}});
  EXPECT_EQ(counts["NhwcConv"], 3);
  EXPECT_EQ(counts["Conv"], 0);
  EXPECT_EQ(counts["Clip"], 0);       // both fused into their convolutions
  EXPECT_EQ(counts["Transpose"], 2);  // x in (read by a Conv and as the residual), y out
  EXPECT_EQ(counts["Add"], 0);        // the residual Add runs inside the last convolution
}

// ResNet's downsampling basic block: Relu(BN-folded Conv(Relu(Conv(x))) + Conv1x1(x)), with the
// skip branch's convolution after the main branch's in node order.
Model basic_block(std::vector<int64_t> x_shape, std::vector<int64_t> y_shape) {
  Model model = make_model(
      {make_node("Conv", {"x", "w1", "b1"}, {"c1"}, {ints("pads", {1, 1, 1, 1}), ints("strides", {2, 2})}),
       make_node("Relu", {"c1"}, {"r1"}),
       make_node("Conv", {"r1", "w2", "b2"}, {"c2"}, {ints("pads", {1, 1, 1, 1})}),
       make_node("Conv", {"x", "wd"}, {"down"}, {ints("strides", {2, 2})}),
       make_node("Add", {"c2", "down"}, {"sum"}),
       make_node("Relu", {"sum"}, {"y"})},
      {tensor_value("x", DataType::kFloat, x_shape)}, {tensor_value("y", DataType::kFloat, y_shape)});
  add_weight(model, "w1", {6, 4, 3, 3}, 1);
  add_weight(model, "b1", {6}, 2);
  add_weight(model, "w2", {6, 6, 3, 3}, 3);
  add_weight(model, "b2", {6}, 4);
  add_weight(model, "wd", {6, 4, 1, 1}, 5);
  return model;
}

TEST(ChannelsLast, ResidualAddAndReluRunInsideTheConvolution) {
  Model model = basic_block({2, 4, 9, 9}, {2, 6, 5, 5});
  auto counts = expect_same_results(model, {{"x", random_tensor({2, 4, 9, 9}, 6)}});
  EXPECT_EQ(counts["NhwcConv"], 3);
  EXPECT_EQ(counts["Add"], 0);
  EXPECT_EQ(counts["Relu"], 0);
  EXPECT_EQ(counts["Transpose"], 2);  // x in, y out
}

TEST(ChannelsLast, ResidualOfAnotherBatchBroadcastsAtRunTime) {
  // The skip is a graph input of batch 2; x's batch is symbolic. Fed batch 1, the sum has the
  // skip's batch, bigger than the convolution's output, which the kernel broadcasts.
  Model model = make_model({make_node("Conv", {"x", "w"}, {"c"}, {ints("pads", {1, 1, 1, 1})}),
                            make_node("Add", {"c", "skip"}, {"sum"}),
                            make_node("Relu", {"sum"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {-1, 3, 4, 4}),
                            tensor_value("skip", DataType::kFloat, {2, 5, 4, 1})},
                           {{"y", TypeInfo::tensor(DataType::kFloat), ""}});
  add_weight(model, "w", {5, 3, 3, 3}, 1);
  for (int64_t batch : {1, 2}) {
    auto counts = expect_same_results(model, {{"x", random_tensor({batch, 3, 4, 4}, 2)},
                                              {"skip", random_tensor({2, 5, 4, 1}, 3)}});
    EXPECT_EQ(counts["NhwcConv"], 1) << batch;
    EXPECT_EQ(counts["Add"], 0) << batch;
  }
}

TEST(ChannelsLast, ResidualIsNotFusedIntoAConvWithOtherReadersOrTwice) {
  // "c" is also a graph output: its Add stays. "d" takes the first Add only.
  Model model = make_model({make_node("Conv", {"x", "w"}, {"c"}, {ints("pads", {1, 1, 1, 1})}),
                            make_node("Add", {"c", "x"}, {"y1"}),
                            make_node("Conv", {"x", "w"}, {"d"}, {ints("pads", {1, 1, 1, 1})}),
                            make_node("Add", {"x", "d"}, {"e"}),
                            make_node("Add", {"e", "x"}, {"y2"})},
                           {tensor_value("x", DataType::kFloat, {1, 3, 5, 5})},
                           {tensor_value("c", DataType::kFloat, {1, 3, 5, 5}),
                            tensor_value("y1", DataType::kFloat, {1, 3, 5, 5}),
                            tensor_value("y2", DataType::kFloat, {1, 3, 5, 5})});
  add_weight(model, "w", {3, 3, 3, 3}, 1);
  auto counts = expect_same_results(model, {{"x", random_tensor({1, 3, 5, 5}, 2)}});
  EXPECT_EQ(counts["NhwcConv"], 2);
  EXPECT_EQ(counts["Add"], 2);  // c + x and e + x
}

TEST(ChannelsLast, SymbolicBatchAndSizes) {
  Model model = inverted_residual({-1, 8, -1, -1});
  InferenceSession first(Model(model), level(1));
  InferenceSession last(Model(model), level(2));
  for (const Shape& shape : {Shape{1, 8, 10, 10}, Shape{3, 8, 7, 5}}) {
    Tensor x = random_tensor(shape, 11);
    auto e = first.run({{"x", x}})[0].value.tensor();
    auto a = last.run({{"x", x}})[0].value.tensor();
    ASSERT_EQ(a.shape(), e.shape());
    for (int64_t i = 0; i < e.element_count(); ++i) ASSERT_NEAR(a.data<float>()[i], e.data<float>()[i], 1e-5f) << i;
  }
  EXPECT_EQ(op_counts(last)["NhwcConv"], 3);
}

TEST(ChannelsLast, FusesHardSwishAndSiLU) {
  // c1 -> HardSwish; c2 -> SiLU written as Mul(c2, Sigmoid(c2)) (both operand orders); c3's
  // Sigmoid has a second reader, so that SiLU stays as it is.
  Model model = make_model(
      {make_node("Conv", {"x", "w1"}, {"c1"}, {ints("pads", {1, 1, 1, 1})}),
       make_node("HardSwish", {"c1"}, {"h"}),
       make_node("Conv", {"h", "w2"}, {"c2"}),
       make_node("Sigmoid", {"c2"}, {"s2"}),
       make_node("Mul", {"s2", "c2"}, {"silu2"}),
       make_node("Conv", {"silu2", "w3"}, {"c3"}),
       make_node("Sigmoid", {"c3"}, {"s3"}),
       make_node("Mul", {"c3", "s3"}, {"silu3"}),
       make_node("Add", {"silu3", "s3"}, {"y"})},
      {tensor_value("x", DataType::kFloat, {1, 3, 7, 7})}, {{"y", TypeInfo::tensor(DataType::kFloat), ""}});
  add_weight(model, "w1", {4, 3, 3, 3}, 1);
  add_weight(model, "w2", {5, 4, 1, 1}, 2);
  add_weight(model, "w3", {6, 5, 1, 1}, 3);
  auto counts = expect_same_results(model, {{"x", random_tensor({1, 3, 7, 7}, 4, 2.f)}});
  EXPECT_EQ(counts["NhwcConv"], 3);
  EXPECT_EQ(counts["HardSwish"], 0);
  EXPECT_EQ(counts["Sigmoid"], 1);  // c3's
  EXPECT_EQ(counts["Mul"], 1);
}

TEST(ChannelsLast, ConvOutputWithSeveralReadersIsNotFused) {
  // "conv" is a graph output and also feeds Relu: the Relu stays a node of its own.
  Model model = make_model({make_node("Conv", {"x", "w"}, {"conv"}, {ints("pads", {1, 1, 1, 1})}),
                            make_node("Relu", {"conv"}, {"relu"}),
                            make_node("LeakyRelu", {"relu"}, {"leaky"}, {make_attribute("alpha", 0.2f)})},
                           {tensor_value("x", DataType::kFloat, {2, 3, 6, 6})},
                           {tensor_value("conv", DataType::kFloat, {2, 4, 6, 6}),
                            tensor_value("leaky", DataType::kFloat, {2, 4, 6, 6})});
  add_weight(model, "w", {4, 3, 3, 3}, 1);
  auto counts = expect_same_results(model, {{"x", random_tensor({2, 3, 6, 6}, 2)}});
  EXPECT_EQ(counts["NhwcConv"], 1);
  EXPECT_EQ(counts["Relu"], 1);
  EXPECT_EQ(counts["LeakyRelu"], 1);
  EXPECT_EQ(counts["Transpose"], 3);  // x in; conv and leaky out
}

TEST(ChannelsLast, FusesReluAndLeakyRelu) {
  for (const char* activation : {"Relu", "LeakyRelu"}) {
    std::vector<Attribute> attributes;
    if (std::string(activation) == "LeakyRelu") attributes.push_back(make_attribute("alpha", 0.3f));
    Model model = make_model({make_node("Conv", {"x", "w", "b"}, {"conv"}, {ints("strides", {2, 2})}),
                              make_node(activation, {"conv"}, {"y"}, attributes)},
                             {tensor_value("x", DataType::kFloat, {1, 4, 9, 9})},
                             {tensor_value("y", DataType::kFloat, {1, 6, 4, 4})});
    add_weight(model, "w", {6, 4, 3, 3}, 3);
    add_weight(model, "b", {6}, 4);
    auto counts = expect_same_results(model, {{"x", random_tensor({1, 4, 9, 9}, 5)}});
    EXPECT_EQ(counts["NhwcConv"], 1) << activation;
    EXPECT_EQ(counts[activation], 0) << activation;
  }
}

TEST(ChannelsLast, ConvolutionGeometries) {
  struct Case {
    const char* what;
    Shape x, w;
    std::vector<Attribute> attributes;
  };
  std::vector<Case> cases = {
      {"strides, dilations, asymmetric pads", {2, 4, 11, 9}, {6, 4, 3, 3},
       {ints("strides", {2, 1}), ints("dilations", {2, 1}), ints("pads", {0, 1, 2, 1})}},
      {"auto_pad SAME_UPPER", {1, 3, 8, 7}, {5, 3, 4, 4},
       {make_attribute("auto_pad", "SAME_UPPER"), ints("strides", {2, 2})}},
      {"groups", {1, 6, 7, 7}, {4, 3, 3, 3}, {make_attribute("group", int64_t{2})}},
      {"1-D", {2, 3, 17}, {5, 3, 5}, {ints("pads", {2, 2})}},
      {"3-D", {1, 2, 5, 6, 7}, {3, 2, 3, 3, 3}, {ints("pads", {1, 1, 1, 1, 1, 1})}},
      {"padding wider than the kernel", {1, 2, 4, 4}, {3, 2, 1, 1}, {ints("pads", {2, 2, 2, 2})}},
  };
  for (const Case& c : cases) {
    Shape y_shape;  // declared unknown: shape inference fills it
    Model model = make_model({make_node("Conv", {"x", "w"}, {"y"}, c.attributes)},
                             {tensor_value("x", DataType::kFloat, c.x)}, {{"y", TypeInfo::tensor(DataType::kFloat), ""}});
    add_weight(model, "w", c.w, 9);
    auto counts = expect_same_results(model, {{"x", random_tensor(c.x, 10)}});
    EXPECT_EQ(counts["NhwcConv"], 1) << c.what;
  }
}

TEST(ChannelsLast, PoolingContinuesTheChain) {
  // Conv -> Relu -> MaxPool(3x3 s2 p1) -> Conv -> AveragePool(include pad, ceil) -> MaxPool
  // (dilated) -> two global pools: only the input and the two outputs are transposed.
  Model model = make_model(
      {make_node("Conv", {"x", "w1"}, {"c1"}, {ints("pads", {1, 1, 1, 1})}),
       make_node("Relu", {"c1"}, {"r1"}),
       make_node("MaxPool", {"r1"}, {"p1"}, {ints("kernel_shape", {3, 3}), ints("strides", {2, 2}), ints("pads", {1, 1, 1, 1})}),
       make_node("Conv", {"p1", "w2"}, {"c2"}),
       make_node("AveragePool", {"c2"}, {"p2"},
                 {ints("kernel_shape", {2, 3}), ints("strides", {2, 2}), ints("pads", {1, 0, 0, 1}),
                  make_attribute("count_include_pad", int64_t{1}), make_attribute("ceil_mode", int64_t{1})}),
       make_node("MaxPool", {"p2"}, {"p3"}, {ints("kernel_shape", {2, 2}), ints("dilations", {2, 1})}),
       make_node("GlobalAveragePool", {"p3"}, {"mean"}),
       make_node("GlobalMaxPool", {"p3"}, {"max"})},
      {tensor_value("x", DataType::kFloat, {2, 3, 21, 19})},
      {{"mean", TypeInfo::tensor(DataType::kFloat), ""}, {"max", TypeInfo::tensor(DataType::kFloat), ""}});
  add_weight(model, "w1", {8, 3, 3, 3}, 1);
  add_weight(model, "w2", {5, 8, 1, 1}, 2);
  auto counts = expect_same_results(model, {{"x", random_tensor({2, 3, 21, 19}, 3)}});
  EXPECT_EQ(counts["NhwcConv"], 2);
  EXPECT_EQ(counts["NhwcMaxPool"], 2);
  EXPECT_EQ(counts["NhwcAveragePool"], 1);
  EXPECT_EQ(counts["NhwcGlobalAveragePool"], 1);
  EXPECT_EQ(counts["NhwcGlobalMaxPool"], 1);
  EXPECT_EQ(counts["MaxPool"] + counts["AveragePool"] + counts["Relu"], 0);
  EXPECT_EQ(counts["Transpose"], 3);
}

TEST(ChannelsLast, PoolingIn1DAnd3D) {
  for (const Shape& x_shape : {Shape{2, 3, 19}, Shape{1, 3, 7, 6, 9}}) {
    const size_t spatial = x_shape.size() - 2;
    Shape w_shape{4, 3};
    w_shape.insert(w_shape.end(), spatial, 1);
    std::vector<int64_t> kernel(spatial, 3), strides(spatial, 2), pads(2 * spatial, 1);
    Model model = make_model(
        {make_node("Conv", {"x", "w"}, {"c"}),
         make_node("MaxPool", {"c"}, {"max"}, {ints("kernel_shape", kernel), ints("strides", strides)}),
         make_node("AveragePool", {"c"}, {"mean"},
                   {ints("kernel_shape", kernel), ints("pads", pads), make_attribute("count_include_pad", int64_t{1})}),
         make_node("AveragePool", {"c"}, {"mean_valid"}, {ints("kernel_shape", kernel), ints("pads", pads)})},
        {tensor_value("x", DataType::kFloat, x_shape)},
        {{"max", TypeInfo::tensor(DataType::kFloat), ""}, {"mean", TypeInfo::tensor(DataType::kFloat), ""},
         {"mean_valid", TypeInfo::tensor(DataType::kFloat), ""}});
    add_weight(model, "w", w_shape, 1);
    auto counts = expect_same_results(model, {{"x", random_tensor(x_shape, 2)}});
    EXPECT_EQ(counts["NhwcMaxPool"], 1) << shape_to_string(x_shape);
    EXPECT_EQ(counts["NhwcAveragePool"], 2) << shape_to_string(x_shape);
  }
}

// 2x2 windows at stride 2 take NhwcMaxPool's row loop (one channel vector, or a runtime
// count): odd sizes drop the last row and column, ceil_mode keeps them (the general loop then).
// Other windows take the general loop, in 16-channel vectors when the channels come in 16s.
TEST(ChannelsLast, MaxAndAveragePoolsOfEachChannelBlockMatchChannelsFirst) {
  for (int64_t maps : {8, 16, 32, 5, 24}) {
    for (int64_t ceil : {0, 1}) {
      const Shape x_shape{2, 3, 9, 7};
      Model model = make_model(
          {make_node("Conv", {"x", "w"}, {"c"}, {ints("pads", {1, 1, 1, 1})}),
           make_node("MaxPool", {"c"}, {"max"},
                     {ints("kernel_shape", {2, 2}), ints("strides", {2, 2}), make_attribute("ceil_mode", ceil)}),
           make_node("MaxPool", {"c"}, {"max3"},
                     {ints("kernel_shape", {3, 3}), ints("strides", {2, 2}), ints("pads", {1, 1, 1, 1}),
                      make_attribute("ceil_mode", ceil)}),
           make_node("AveragePool", {"c"}, {"mean"}, {ints("kernel_shape", {3, 3}), ints("pads", {1, 1, 1, 1})})},
          {tensor_value("x", DataType::kFloat, x_shape)},
          {{"max", TypeInfo::tensor(DataType::kFloat), ""}, {"max3", TypeInfo::tensor(DataType::kFloat), ""},
           {"mean", TypeInfo::tensor(DataType::kFloat), ""}});
      add_weight(model, "w", {maps, 3, 3, 3}, 1);
      auto counts = expect_same_results(model, {{"x", random_tensor(x_shape, 3)}});
      EXPECT_EQ(counts["NhwcMaxPool"], 2) << maps << " maps, ceil_mode " << ceil;
      EXPECT_EQ(counts["NhwcAveragePool"], 1) << maps << " maps, ceil_mode " << ceil;
    }
  }
}

TEST(ChannelsLast, DenseBlockWithConcatAndBatchNorm) {
  // DenseNet's pattern: Concat(features, new features) -> BatchNormalization -> Relu -> Conv;
  // plus Concats along a negative channel axis and along a spatial axis.
  Model model = make_model(
      {make_node("Conv", {"x", "w1"}, {"a"}, {ints("pads", {1, 1, 1, 1})}),
       make_node("Conv", {"a", "w2"}, {"b"}, {ints("pads", {1, 1, 1, 1})}),
       make_node("Concat", {"a", "b"}, {"ab"}, {make_attribute("axis", int64_t{1})}),
       make_node("BatchNormalization", {"ab", "scale", "shift", "mean", "var"}, {"bn"}),
       make_node("Relu", {"bn"}, {"r"}),
       make_node("Conv", {"r", "w3"}, {"c"}),
       make_node("Concat", {"c", "a"}, {"ca"}, {make_attribute("axis", int64_t{-3})}),
       make_node("Concat", {"ca", "ca"}, {"y"}, {make_attribute("axis", int64_t{2})})},
      {tensor_value("x", DataType::kFloat, {2, 3, 6, 5})}, {{"y", TypeInfo::tensor(DataType::kFloat), ""}});
  add_weight(model, "w1", {4, 3, 3, 3}, 1);
  add_weight(model, "w2", {5, 4, 3, 3}, 2);
  add_weight(model, "w3", {6, 9, 1, 1}, 3);
  add_weight(model, "scale", {9}, 4);
  add_weight(model, "shift", {9}, 5);
  add_weight(model, "mean", {9}, 6);
  Tensor var = random_tensor({9}, 7);
  for (int64_t i = 0; i < 9; ++i) var.mutable_data<float>()[i] = 0.5f + std::abs(var.data<float>()[i]);
  model.graph.set_initializer("var", var);
  auto counts = expect_same_results(model, {{"x", random_tensor({2, 3, 6, 5}, 8)}});
  EXPECT_EQ(counts["NhwcConv"], 3);
  EXPECT_EQ(counts["Concat"], 3);
  EXPECT_EQ(counts["BatchNormalization"], 0);
  EXPECT_EQ(counts["Transpose"], 2);  // x in, y out
}

TEST(ChannelsLast, MaxPoolWithIndicesStaysChannelsFirst) {
  Model model = make_model({make_node("Conv", {"x", "w"}, {"c"}),
                            make_node("MaxPool", {"c"}, {"y", "indices"}, {ints("kernel_shape", {2, 2})})},
                           {tensor_value("x", DataType::kFloat, {1, 2, 6, 6})},
                           {{"y", TypeInfo::tensor(DataType::kFloat), ""}, {"indices", TypeInfo::tensor(DataType::kInt64), ""}});
  add_weight(model, "w", {3, 2, 1, 1}, 1);
  InferenceSession last(Model(model), level(2));
  EXPECT_EQ(op_counts(last)["MaxPool"], 1);
  EXPECT_EQ(op_counts(last)["NhwcConv"], 1);
}

TEST(ChannelsLast, LeavesNonConstantWeightsAndBroadcastsAlone) {
  // W is a graph input: not converted. The second Conv's output meets a [C,1,1] bias through a
  // right-aligned broadcast, which channels-last would misread: that Add stays channels-first.
  Model model = make_model({make_node("Conv", {"x", "w_in"}, {"a"}),
                            make_node("Conv", {"a", "w"}, {"b"}),
                            make_node("Add", {"b", "bias"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {1, 2, 5, 5}),
                            tensor_value("w_in", DataType::kFloat, {3, 2, 1, 1})},
                           {tensor_value("y", DataType::kFloat, {1, 4, 5, 5})});
  add_weight(model, "w", {4, 3, 1, 1}, 1);
  add_weight(model, "bias", {4, 1, 1}, 2);
  auto counts = expect_same_results(model, {{"x", random_tensor({1, 2, 5, 5}, 3)},
                                            {"w_in", random_tensor({3, 2, 1, 1}, 4)}});
  EXPECT_EQ(counts["Conv"], 1);
  EXPECT_EQ(counts["NhwcConv"], 1);
  EXPECT_EQ(counts["Add"], 1);
}

// [N, C, H, W] <-> [N, H, W, C] for the kernel test below.
template <typename T>
Tensor permute_4d(const Tensor& x, bool to_channels_last) {
  const Shape& s = x.shape();
  Shape out_shape = to_channels_last ? Shape{s[0], s[2], s[3], s[1]} : Shape{s[0], s[3], s[1], s[2]};
  Tensor out(x.dtype(), out_shape);
  const int64_t n = s[0], a = s[1], b = s[2] * s[3];  // to channels-last: [N, C, HW] -> [N, HW, C]
  const int64_t rows = to_channels_last ? a : s[1] * s[2], cols = to_channels_last ? b : s[3];
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) out.mutable_data<T>()[(i * cols + c) * rows + r] = x.data<T>()[(i * rows + r) * cols + c];
    }
  }
  return out;
}

TEST(NhwcConv, EveryTypeAndActivationMatchesConv) {
  // Float takes oneDNN's channels-last path; double the transposed reference kernel.
  // With a residual (input 3) it is added before the activation.
  for (DataType dtype : {DataType::kFloat, DataType::kDouble}) {
    for (bool with_residual : {false, true}) {
    for (const char* activation : {"", "Relu", "LeakyRelu", "Clip", "HardSwish", "Swish", "Gelu"}) {
      Tensor x32 = random_tensor({2, 4, 7, 6}, 1), w32 = random_tensor({6, 2, 3, 3}, 2), b32 = random_tensor({6}, 3);
      Tensor r32 = random_tensor({2, 6, 7, 3}, 4);  // Y's shape, channels-first
      auto as = [&](const Tensor& t) {
        if (dtype == DataType::kFloat) return t;
        Tensor d(DataType::kDouble, t.shape());
        for (int64_t i = 0; i < t.element_count(); ++i) d.mutable_data<double>()[i] = t.data<float>()[i];
        return d;
      };
      Tensor x = as(x32), w = as(w32), b = as(b32), r = as(r32);
      std::vector<Attribute> attributes = {ints("pads", {1, 0, 1, 2}), ints("strides", {1, 2}),
                                           make_attribute("group", int64_t{2})};
      Node conv = make_node("Conv", {"x", "w", "b"}, {"y"}, attributes);
      Tensor expected = call_node_on_cpu(conv, 17, {x, w, b})[0].tensor();

      Node nhwc = conv;
      nhwc.domain = kOnyxDomain;
      nhwc.op_type = "NhwcConv";
      if (*activation) nhwc.attributes.push_back(make_attribute("activation", activation));
      nhwc.attributes.push_back(make_attribute("alpha", 0.25f));
      nhwc.attributes.push_back(make_attribute("clip_min", -0.5f));
      nhwc.attributes.push_back(make_attribute("clip_max", 0.75f));
      Tensor x_last = dtype == DataType::kFloat ? permute_4d<float>(x, true) : permute_4d<double>(x, true);
      Tensor r_last = dtype == DataType::kFloat ? permute_4d<float>(r, true) : permute_4d<double>(r, true);
      std::vector<Value> inputs{Value(x_last), Value(w), Value(b)};
      if (with_residual) {
        nhwc.inputs.push_back("r");
        inputs.push_back(Value(r_last));
      }
      Tensor y_last = call_node_on_cpu(nhwc, 1, inputs)[0].tensor();
      Tensor y = dtype == DataType::kFloat ? permute_4d<float>(y_last, false) : permute_4d<double>(y_last, false);
      ASSERT_EQ(y.shape(), expected.shape());
      const std::string a = activation;
      for (int64_t i = 0; i < y.element_count(); ++i) {
        double e = dtype == DataType::kFloat ? expected.data<float>()[i] : expected.data<double>()[i];
        if (with_residual) e += dtype == DataType::kFloat ? r.data<float>()[i] : r.data<double>()[i];
        if (a == "Relu") e = std::max(e, 0.0);
        if (a == "LeakyRelu") e = e < 0 ? 0.25 * e : e;
        if (a == "Clip") e = std::min(std::max(e, -0.5), 0.75);
        if (a == "HardSwish") e = e * std::max(0.0, std::min(1.0, e / 6 + 0.5));
        if (a == "Swish") e = e / (1 + std::exp(-e));
        if (a == "Gelu") e = 0.5 * e * (1 + std::erf(e / std::sqrt(2.0)));
        double actual = dtype == DataType::kFloat ? y.data<float>()[i] : y.data<double>()[i];
        ASSERT_NEAR(actual, e, 1e-5) << dtype_name(dtype) << " activation '" << a << "' residual " << with_residual
                                     << " element " << i;
      }
    }
    }
  }
}

TEST(NhwcConv, UnknownActivationIsAnError) {
  Node node = make_node("NhwcConv", {"x", "w"}, {"y"}, {make_attribute("activation", "Mish")});
  node.domain = kOnyxDomain;
  try {
    call_node_on_cpu(node, 1, {random_tensor({1, 3, 3, 2}, 1), random_tensor({2, 2, 1, 1}, 2)});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("unknown activation 'Mish'"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace onyx

namespace onyx {
namespace {

// A squeeze-and-excitation block (MobileNetV3, EfficientNet): pooled to one pixel, two 1x1
// convolutions run as matrix products (NhwcConv's one-pixel path), with the bias, the fused
// Relu and, in the second form, a residual added before the activation.
TEST(ChannelsLast, OnePixelConvolutionsOfSqueezeExcitation) {
  Model model = make_model(
      {make_node("Conv", {"x", "w0", "b0"}, {"features"}, {ints("pads", {1, 1, 1, 1})}),
       make_node("GlobalAveragePool", {"features"}, {"pooled"}),
       make_node("Conv", {"pooled", "w1", "b1"}, {"squeezed"}), make_node("Relu", {"squeezed"}, {"relu"}),
       make_node("Conv", {"relu", "w2", "b2"}, {"excited"}), make_node("HardSigmoid", {"excited"}, {"gate"}),
       make_node("Mul", {"features", "gate"}, {"y"}),
       make_node("Conv", {"pooled", "w3"}, {"mixed"}), make_node("Add", {"mixed", "pooled"}, {"summed"}),
       make_node("Relu", {"summed"}, {"z"})},
      {tensor_value("x", DataType::kFloat, {-1, 8, 5, 5})},
      {{"y", TypeInfo::tensor(DataType::kFloat), ""}, {"z", TypeInfo::tensor(DataType::kFloat), ""}});
  add_weight(model, "w0", {8, 8, 3, 3}, 1);
  add_weight(model, "b0", {8}, 2);
  add_weight(model, "w1", {4, 8, 1, 1}, 3);
  add_weight(model, "b1", {4}, 4);
  add_weight(model, "w2", {8, 4, 1, 1}, 5);
  add_weight(model, "b2", {8}, 6);
  add_weight(model, "w3", {8, 8, 1, 1}, 7);
  for (int64_t batch : {1, 3}) {
    auto counts = expect_same_results(model, {{"x", random_tensor({batch, 8, 5, 5}, 8, 2.f)}});
    EXPECT_EQ(counts["NhwcConv"], 4);
    EXPECT_EQ(counts["Relu"] + counts["Add"], 0);  // fused into the one-pixel convolutions
  }
}

}  // namespace
}  // namespace onyx
