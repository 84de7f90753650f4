// NhwcConv's few-channel direct kernel (providers/cpu/nn/few_channel_conv.h) against the
// channels-first Conv on oneDNN: each model runs at optimization level 1 (Conv) and 2
// (NhwcConv, where a one-channel input takes the direct kernel), over the cases its blocking
// splits into (pixel blocks of 8, 4 and 1; map blocks of 1 to 4 vectors and a partial last
// one), strides, asymmetric pads, dilations, a batch, no bias, a fused residual Add and each
// fused activation; the plan shows that the direct kernel really ran.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"
#include "tests/runtime/optimization_levels.h"

namespace onyx {
namespace {

using testing::compare_levels;
using testing::level;
using testing::make_model;
using testing::make_node;
using testing::random_tensor;
using testing::tensor_value;

struct Case {
  std::string name;
  Shape x;                        // [N, 1, H, W]
  int64_t maps, kernel;
  std::vector<int64_t> strides, pads, dilations;
  std::string activation;         // "" or an op fused into the convolution
  bool bias = true;
  bool residual = false;          // y = activation(Conv(x) + Conv'(x)): the Add fused as a residual
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// Conv output spatial size along one axis.
int64_t output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_sum, int64_t dilation) {
  return (in + pad_sum - (kernel - 1) * dilation - 1) / stride + 1;
}

Model model_of(const Case& c) {
  std::vector<Attribute> attributes{make_attribute("kernel_shape", std::vector<int64_t>{c.kernel, c.kernel}),
                                    make_attribute("strides", c.strides), make_attribute("pads", c.pads),
                                    make_attribute("dilations", c.dilations)};
  std::vector<std::string> conv_inputs{"x", "w"};
  if (c.bias) conv_inputs.push_back("b");
  std::vector<Node> nodes{make_node("Conv", conv_inputs, {"conv"}, attributes)};
  std::string last = "conv";
  if (c.residual) {
    nodes.push_back(make_node("Conv", {"x", "w2", "b"}, {"conv2"}, attributes));
    nodes.push_back(make_node("Add", {"conv", "conv2"}, {"sum"}));
    last = "sum";
  }
  if (!c.activation.empty()) {
    std::vector<Attribute> activation_attributes;
    if (c.activation == "LeakyRelu") activation_attributes.push_back(make_attribute("alpha", 0.2f));
    std::vector<std::string> inputs{last};
    if (c.activation == "Clip") inputs = {last, "low", "high"};
    nodes.push_back(make_node(c.activation, inputs, {"activated"}, activation_attributes));
    last = "activated";
  }
  nodes.push_back(make_node("Identity", {last}, {"y"}));
  const int64_t out_h = output_size(c.x[2], c.kernel, c.strides[0], c.pads[0] + c.pads[2], c.dilations[0]);
  const int64_t out_w = output_size(c.x[3], c.kernel, c.strides[1], c.pads[1] + c.pads[3], c.dilations[1]);
  Model model = make_model(nodes, {tensor_value("x", DataType::kFloat, c.x)},
                           {tensor_value("y", DataType::kFloat, {c.x[0], c.maps, out_h, out_w})});
  model.graph.set_initializer("w", random_tensor({c.maps, 1, c.kernel, c.kernel}, 11, 0.5f));
  model.graph.set_initializer("w2", random_tensor({c.maps, 1, c.kernel, c.kernel}, 12, 0.5f));
  model.graph.set_initializer("b", random_tensor({c.maps}, 13, 0.5f));
  model.graph.set_initializer("low", Tensor::scalar<float>(-0.3f));
  model.graph.set_initializer("high", Tensor::scalar<float>(0.4f));
  return model;
}

class NhwcFewChannelConv : public ::testing::TestWithParam<Case> {};

TEST_P(NhwcFewChannelConv, MatchesTheChannelsFirstConvolution) {
  const Case& c = GetParam();
  const Model model = model_of(c);
  const Tensor x = random_tensor(c.x, 21);
  compare_levels(model, {{"x", x}});
  // The level-2 plan ran its convolutions on the direct kernel, with the activation fused.
  InferenceSession session{Model(model), level(2)};
  session.run({{"x", x}});
  int direct = 0;
  for (const PlanStep& step : session.plan().steps()) {
    EXPECT_NE(step.node->op_type, "Conv");
    EXPECT_NE(step.node->op_type, c.activation.empty() ? "-" : c.activation);
    if (step.node->op_type == "NhwcConv") {
      EXPECT_EQ(step.kernel->implementation(), "few-channel direct") << step.node->name;
      ++direct;
    }
  }
  EXPECT_EQ(direct, c.residual ? 2 : 1);
  // Split over two threads (rows of output pixels per chunk), every value is the same sum.
  SessionOptions two_threads = level(2);
  two_threads.intra_op_threads = 2;
  InferenceSession split{Model(model), two_threads};
  const Tensor one = session.run({{"x", x}})[0].value.tensor();
  const Tensor two = split.run({{"x", x}})[0].value.tensor();
  ASSERT_EQ(one.shape(), two.shape());
  for (int64_t i = 0; i < one.element_count(); ++i) ASSERT_EQ(one.data<float>()[i], two.data<float>()[i]) << i;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NhwcFewChannelConv,
    ::testing::Values(
        // 8 maps (one partial vector), 8-pixel blocks and a 3-pixel remainder, batch 2.
        Case{"maps8_batch2_relu", {2, 1, 13, 11}, 8, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, "Relu"},
        // 20 maps (a full and a partial vector), stride 2, asymmetric pads, LeakyRelu.
        Case{"maps20_stride2_asymmetric_pads", {1, 1, 20, 19}, 20, 5, {2, 2}, {2, 1, 0, 2}, {1, 1}, "LeakyRelu"},
        // 33 maps (three vectors: the 4-pixel path), dilation 2, Clip.
        Case{"maps33_dilation2_clip", {3, 1, 9, 17}, 33, 3, {1, 1}, {2, 2, 2, 2}, {2, 2}, "Clip"},
        // 64 maps (four vectors), 7x7 stride 2, no bias, HardSwish.
        Case{"maps64_7x7_no_bias_hardswish", {1, 1, 30, 26}, 64, 7, {2, 2}, {3, 3, 3, 3}, {1, 1}, "HardSwish", false},
        // Big enough (about 2.6 million multiply-adds) to be split between threads.
        Case{"maps32_batch4_split", {4, 1, 40, 40}, 32, 5, {1, 1}, {2, 2, 2, 2}, {1, 1}, "Relu"},
        // Unequal strides, no padding; a single output column (1-pixel blocks only).
        Case{"strides_2x3_one_column", {2, 1, 11, 4}, 16, 3, {2, 3}, {0, 0, 0, 0}, {1, 1}, "Relu"},
        // A residual Add of another one-channel convolution, then Relu: both run direct.
        Case{"residual_relu", {1, 1, 12, 10}, 16, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}, "Relu", true, true},
        // No activation at all.
        Case{"maps48_plain", {1, 1, 7, 9}, 48, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, ""}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace onyx
