// SessionOptions::precision = bf16: convolutions (channels-first Conv and the channels-last
// NhwcConv with fused residual and activation), MatMul, Gemm and FusedMatMul run on bf16 inputs
// and weights. Each model runs at fp32 and at bf16 and the outputs must agree within bf16's
// rounding but must not be identical, which would mean the bf16 path never ran. bf16 keeps 8
// significant bits: rounding both operands moves each term of a sum by up to 2^-7 of itself,
// and the sum of |terms| of random-signed data is a few times |sum|, so each chained layer may
// add 2^-6 of (1 + |value|) to the gap (a wrong result is off by the order of the value). Where the CPU lacks avx512_bf16, or when
// ONYX_PRETEND_NO_BF16 says so, the session falls back to fp32 and must match it exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

#include "providers/cpu/cpu_precision.h"
#include "runtime/ir/model_loader.h"
#include "runtime/ir/value_files.h"
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

Attribute ints(const std::string& name, std::vector<int64_t> values) { return make_attribute(name, std::move(values)); }

SessionOptions options_for(Precision precision, int optimization_level) {
  SessionOptions options = testing::level(optimization_level);
  options.precision = precision;
  return options;
}

// Largest |bf16 - fp32| relative to (1 + |fp32|) over all outputs, after checking that the
// outputs have the same names and shapes.
double largest_relative_gap(const std::vector<NamedValue>& fp32, const std::vector<NamedValue>& bf16) {
  EXPECT_EQ(fp32.size(), bf16.size());
  double gap = 0;
  for (size_t k = 0; k < fp32.size() && k < bf16.size(); ++k) {
    const Tensor& e = fp32[k].value.tensor();
    const Tensor& a = bf16[k].value.tensor();
    EXPECT_EQ(a.shape(), e.shape()) << fp32[k].name;
    if (a.shape() != e.shape()) continue;
    for (int64_t i = 0; i < e.element_count(); ++i) {
      const double expected = e.data<float>()[i];
      gap = std::max(gap, std::abs(a.data<float>()[i] - expected) / (1 + std::abs(expected)));
    }
  }
  return gap;
}

// Runs `model` at both precisions and checks the bf16 outputs; returns the bf16 session's op
// counts.
std::map<std::string, int> expect_bf16_close(const Model& model, const std::map<std::string, Value>& feeds,
                                             int optimization_level, int chained_layers = 1) {
  InferenceSession fp32(Model(model), options_for(Precision::kFp32, optimization_level));
  InferenceSession bf16(Model(model), options_for(Precision::kBf16, optimization_level));
  const double gap = largest_relative_gap(fp32.run(feeds), bf16.run(feeds));
  if (cpu_supports_bf16()) {
    EXPECT_EQ(bf16.precision(), Precision::kBf16);
    EXPECT_LT(gap, chained_layers * 0x1p-6) << "bf16 results too far from fp32";
    EXPECT_GT(gap, 1e-6) << "bf16 results identical to fp32: the bf16 path did not run";
  } else {
    EXPECT_EQ(bf16.precision(), Precision::kFp32);
    EXPECT_EQ(gap, 0.0);
  }
  return op_counts(bf16);
}

// x[1,8,12,12] -> Conv3x3(16) -> Relu -> Conv3x3(16) -> Add(the first Relu) -> Relu ->
// depthwise Conv3x3 -> Conv1x1(8, no bias) -> y: a ResNet block's residual and activation, a
// grouped and an unbiased convolution.
Model convolutions() {
  Model model = make_model(
      {make_node("Conv", {"x", "w1", "b1"}, {"c1"}, {ints("kernel_shape", {3, 3}), ints("pads", {1, 1, 1, 1})}),
       make_node("Relu", {"c1"}, {"r1"}),
       make_node("Conv", {"r1", "w2", "b2"}, {"c2"}, {ints("kernel_shape", {3, 3}), ints("pads", {1, 1, 1, 1})}),
       make_node("Add", {"c2", "r1"}, {"sum"}),
       make_node("Relu", {"sum"}, {"r2"}),
       make_node("Conv", {"r2", "w3", "b3"}, {"c3"},
                 {ints("kernel_shape", {3, 3}), ints("pads", {1, 1, 1, 1}), make_attribute("group", int64_t{16})}),
       make_node("Conv", {"c3", "w4"}, {"y"})},
      {tensor_value("x", DataType::kFloat, {1, 8, 12, 12})}, {tensor_value("y", DataType::kFloat, {1, 8, 12, 12})});
  model.graph.set_initializer("w1", random_tensor({16, 8, 3, 3}, 1, 0.2f));
  model.graph.set_initializer("b1", random_tensor({16}, 2, 0.2f));
  model.graph.set_initializer("w2", random_tensor({16, 16, 3, 3}, 3, 0.2f));
  model.graph.set_initializer("b2", random_tensor({16}, 4, 0.2f));
  model.graph.set_initializer("w3", random_tensor({16, 1, 3, 3}, 5, 0.3f));
  model.graph.set_initializer("b3", random_tensor({16}, 6, 0.2f));
  model.graph.set_initializer("w4", random_tensor({8, 16, 1, 1}, 7, 0.3f));
  return model;
}

TEST(Bf16Precision, ChannelsFirstConvolutions) {
  auto counts = expect_bf16_close(convolutions(), {{"x", random_tensor({1, 8, 12, 12}, 8)}}, 1, 4);
  EXPECT_EQ(counts["Conv"], 4);
}

TEST(Bf16Precision, ChannelsLastConvolutionsWithFusedResidualAndRelu) {
  auto counts = expect_bf16_close(convolutions(), {{"x", random_tensor({1, 8, 12, 12}, 8)}}, 2, 4);
  EXPECT_EQ(counts["NhwcConv"], 4);
  EXPECT_EQ(counts["Add"], 0);  // inside the second convolution, with the Relu after it
  EXPECT_EQ(counts["Relu"], 0);
}

// A convolution whose weights are an input (not constant): W is converted per call.
TEST(Bf16Precision, ConvolutionWithWeightsFedAtRunTime) {
  Model model = make_model({make_node("Conv", {"x", "w"}, {"y"}, {ints("kernel_shape", {3, 3})})},
                           {tensor_value("x", DataType::kFloat, {2, 4, 9, 9}), tensor_value("w", DataType::kFloat, {6, 4, 3, 3})},
                           {tensor_value("y", DataType::kFloat, {2, 6, 7, 7})});
  expect_bf16_close(model, {{"x", random_tensor({2, 4, 9, 9}, 1)}, {"w", random_tensor({6, 4, 3, 3}, 2, 0.3f)}}, 2);
}

// A batched MatMul against a constant B (folded into one GEMM, B packed once), one against a
// B fed at run time (per-batch products), and MatMul + Add + Relu, which level 2 fuses into a
// FusedMatMul.
Model matmuls() {
  Model model = make_model(
      {make_node("MatMul", {"a", "w"}, {"y1"}), make_node("MatMul", {"a", "b"}, {"y2"}),
       make_node("MatMul", {"a", "w"}, {"p"}), make_node("Add", {"p", "bias"}, {"pb"}),
       make_node("Relu", {"pb"}, {"y3"})},
      {tensor_value("a", DataType::kFloat, {2, 3, 20, 24}), tensor_value("b", DataType::kFloat, {2, 3, 24, 12})},
      {tensor_value("y1", DataType::kFloat, {2, 3, 20, 16}), tensor_value("y2", DataType::kFloat, {2, 3, 20, 12}),
       tensor_value("y3", DataType::kFloat, {2, 3, 20, 16})});
  model.graph.set_initializer("w", random_tensor({24, 16}, 1, 0.3f));
  model.graph.set_initializer("bias", random_tensor({16}, 2, 0.3f));
  return model;
}

TEST(Bf16Precision, MatMulConstantAndFedWeights) {
  auto counts = expect_bf16_close(
      matmuls(), {{"a", random_tensor({2, 3, 20, 24}, 3)}, {"b", random_tensor({2, 3, 24, 12}, 4, 0.3f)}}, 1);
  EXPECT_EQ(counts["MatMul"], 3);
}

TEST(Bf16Precision, FusedMatMul) {
  auto counts = expect_bf16_close(
      matmuls(), {{"a", random_tensor({2, 3, 20, 24}, 3)}, {"b", random_tensor({2, 3, 24, 12}, 4, 0.3f)}}, 2);
  EXPECT_EQ(counts["FusedMatMul"], 1);
}

// Gemm with both transposes, alpha, beta and a full C (accumulated by a sum post-op), and a
// fully connected Gemm (bias row), the one with A fed transposed.
TEST(Bf16Precision, Gemm) {
  Model model = make_model(
      {make_node("Gemm", {"at", "bt", "c"}, {"y1"},
                 {make_attribute("transA", int64_t{1}), make_attribute("transB", int64_t{1}),
                  make_attribute("alpha", 0.5f), make_attribute("beta", 2.0f)}),
       make_node("Gemm", {"a", "w", "bias"}, {"y2"})},
      {tensor_value("at", DataType::kFloat, {24, 20}), tensor_value("a", DataType::kFloat, {20, 24}),
       tensor_value("c", DataType::kFloat, {20, 16})},
      {tensor_value("y1", DataType::kFloat, {20, 16}), tensor_value("y2", DataType::kFloat, {20, 16})});
  model.graph.set_initializer("bt", random_tensor({16, 24}, 1, 0.3f));
  model.graph.set_initializer("w", random_tensor({24, 16}, 2, 0.3f));
  model.graph.set_initializer("bias", random_tensor({16}, 3, 0.3f));
  expect_bf16_close(model,
                    {{"at", random_tensor({24, 20}, 4)}, {"a", random_tensor({20, 24}, 5)}, {"c", random_tensor({20, 16}, 6)}},
                    2);
}

// A whole model as a training run saved it (models/cnn_small.onnx: Conv, Relu, MaxPool, Gemm,
// Softmax) on its stored input: the probabilities agree within bf16's rounding and the
// predicted class does not change.
TEST(Bf16Precision, WholeModelKeepsItsPrediction) {
  const std::filesystem::path folder = std::filesystem::path(ONYX_SOURCE_DIR) / "models";
  Model model = load_model(folder / "cnn_small.onnx");
  const std::string input = model.graph.inputs[0].name;
  std::map<std::string, Value> feeds{{input, read_npy(folder / "cnn_small_input.npy")}};
  expect_bf16_close(model, feeds, 2, 2);
  InferenceSession fp32(Model(model), options_for(Precision::kFp32, 2));
  InferenceSession bf16(Model(model), options_for(Precision::kBf16, 2));
  const Tensor expected = fp32.run(feeds)[0].value.tensor();
  const Tensor actual = bf16.run(feeds)[0].value.tensor();
  const int64_t classes = expected.shape().back();
  for (int64_t row = 0; row < expected.element_count() / classes; ++row) {
    const float* e = expected.data<float>() + row * classes;
    const float* a = actual.data<float>() + row * classes;
    EXPECT_EQ(std::max_element(e, e + classes) - e, std::max_element(a, a + classes) - a) << "row " << row;
  }
}

// oneDNN's ISA query agrees with the kernel's view of the CPU (/proc/cpuinfo's flags).
TEST(Bf16Precision, DetectionMatchesTheCpuFlags) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  bool flag = false;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0) {
      flag = line.find(" avx512_bf16") != std::string::npos;
      break;
    }
  }
  EXPECT_EQ(cpu_supports_bf16(), flag);
}

// Without the instructions (pretended here) a bf16 session runs fp32, bit for bit.
TEST(Bf16Precision, FallsBackToFp32WithoutAvx512Bf16) {
  ASSERT_EQ(setenv("ONYX_PRETEND_NO_BF16", "1", 1), 0);
  EXPECT_FALSE(cpu_supports_bf16());
  Model model = convolutions();
  std::map<std::string, Value> feeds{{"x", random_tensor({1, 8, 12, 12}, 8)}};
  InferenceSession fp32(Model(model), options_for(Precision::kFp32, 2));
  InferenceSession bf16(Model(model), options_for(Precision::kBf16, 2));
  EXPECT_EQ(resolve_precision(Precision::kBf16), Precision::kFp32);
  unsetenv("ONYX_PRETEND_NO_BF16");
  EXPECT_EQ(bf16.precision(), Precision::kFp32);
  EXPECT_EQ(largest_relative_gap(fp32.run(feeds), bf16.run(feeds)), 0.0);
}

TEST(Bf16Precision, NamesRoundTrip) {
  for (Precision p : {Precision::kFp32, Precision::kBf16}) EXPECT_EQ(parse_precision(precision_name(p)), p);
  EXPECT_EQ(parse_precision("int4"), std::nullopt);
}

}  // namespace
}  // namespace onyx
