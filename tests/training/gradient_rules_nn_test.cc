// Finite-difference checks of the MatMul/Gemm/Einsum, convolution, pooling and normalization
// gradient rules (double precision).
#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/ir/attribute_builders.h"
#include "tests/training/gradient_check.h"
#include "training/gradient_builder.h"

namespace onyx::testing {
namespace {

InputSpec in(std::string name, Shape shape, double low = -1.0, double high = 1.0) {
  return {std::move(name), std::move(shape), true, std::nullopt, low, high};
}
Attribute ints(const char* name, std::vector<int64_t> values) { return make_attribute(name, std::move(values)); }
Attribute one(const char* name, int64_t value) { return make_attribute(name, value); }

TEST(GradientRulesLinalg, MatMulShapes) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 4}, {4, 2}}, {{2, 3, 4}, {4, 5}}, {{2, 1, 3, 4}, {3, 4, 2}}, {{4}, {4, 2}},
      {{2, 3, 4}, {4}}, {{4}, {4}}, {{3, 4}, {2, 4, 5}}};
  for (const auto& [a, b] : cases) {
    SCOPED_TRACE(shape_to_string(a) + " x " + shape_to_string(b));
    check_op_gradient({.op = "MatMul", .inputs = {in("a", a), in("b", b)}});
  }
}

TEST(GradientRulesLinalg, GemmAllTransposeCasesWithBias) {
  for (int64_t ta : {0, 1}) {
    for (int64_t tb : {0, 1}) {
      SCOPED_TRACE("transA " + std::to_string(ta) + " transB " + std::to_string(tb));
      Shape a = ta ? Shape{4, 3} : Shape{3, 4};
      Shape b = tb ? Shape{5, 4} : Shape{4, 5};
      check_op_gradient({.op = "Gemm", .inputs = {in("a", a), in("b", b), in("c", {5})},
                         .attributes = {one("transA", ta), one("transB", tb), make_attribute("alpha", 0.7f),
                                        make_attribute("beta", 1.3f)}});
    }
  }
  // Without C, and with a C broadcast along the rows at the oldest differentiated opset.
  check_op_gradient({.op = "Gemm", .inputs = {in("a", {3, 4}), in("b", {4, 5})}});
  check_op_gradient({.op = "Gemm", .inputs = {in("a", {3, 4}), in("b", {4, 5}), in("c", {1, 5})}, .opset = 11});
}

TEST(GradientRulesLinalg, Einsum) {
  const std::vector<std::tuple<std::string, Shape, Shape>> cases = {
      {"ij,jk->ik", {3, 4}, {4, 2}},    {"bij,bjk->bik", {2, 3, 4}, {2, 4, 5}},
      {"ij,ij->i", {3, 4}, {3, 4}},     {"ij,kj", {3, 4}, {2, 4}},
      {"...ij,jk->...ik", {2, 3, 4}, {4, 2}}, {"ij,k->ik", {3, 4}, {2}}};
  for (const auto& [equation, a, b] : cases) {
    SCOPED_TRACE(equation);
    check_op_gradient({.op = "Einsum", .inputs = {in("a", a), in("b", b)},
                       .attributes = {make_attribute("equation", equation)}});
  }
  check_op_gradient({.op = "Einsum", .inputs = {in("a", {3, 4})}, .attributes = {make_attribute("equation", "ij->j")}});
}

TEST(GradientRulesConv, Conv2dStridesPadsDilationsGroups) {
  struct Case { Shape x, w; std::vector<Attribute> attributes; };
  const std::vector<Case> cases = {
      {{2, 3, 5, 5}, {4, 3, 3, 3}, {}},
      {{1, 2, 7, 6}, {3, 2, 3, 2}, {ints("strides", {2, 2}), ints("pads", {1, 0, 1, 1})}},
      {{1, 2, 7, 7}, {2, 2, 2, 2}, {ints("dilations", {2, 1}), ints("strides", {1, 3})}},
      {{2, 4, 5, 5}, {6, 2, 3, 3}, {one("group", 2), ints("pads", {1, 1, 1, 1})}},
      {{1, 3, 6, 6}, {3, 1, 3, 3}, {one("group", 3), ints("strides", {2, 2}), make_attribute("auto_pad", "SAME_UPPER")}},
      {{2, 3, 9}, {2, 3, 4}, {ints("strides", {2})}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_to_string(c.x) + " * " + shape_to_string(c.w));
    check_op_gradient({.op = "Conv", .inputs = {in("x", c.x), in("w", c.w), in("b", {c.w[0]})},
                       .attributes = c.attributes});
    // TrainingSession's form: the weight gradient is com.onyx.training::ConvWeightGrad, its
    // reference loop in double and its oneDNN backward-weights primitive in float.
    for (DataType dtype : {DataType::kDouble, DataType::kFloat}) {
      SCOPED_TRACE("ConvWeightGrad " + std::string(dtype_name(dtype)));
      check_op_gradient({.op = "Conv", .inputs = {in("x", c.x), in("w", c.w), in("b", {c.w[0]})},
                         .attributes = c.attributes, .dtype = dtype, .onyx_ops = true});
    }
  }
}

// The gradient graph TrainingSession builds uses ConvWeightGrad; `onyx gradient`'s (portable,
// for other runtimes) does not.
TEST(GradientRulesConv, ConvWeightGradOnlyInOnyxGraphs) {
  Model model;
  model.opsets[""] = 18;
  Graph& g = model.graph;
  g.inputs = {{"x", TypeInfo::tensor_of_shape(DataType::kFloat, Shape{1, 2, 5, 5}), ""},
              {"w", TypeInfo::tensor_of_shape(DataType::kFloat, Shape{3, 2, 3, 3}), ""}};
  g.nodes.push_back(Node{"conv", "Conv", "", {"x", "w"}, {"y"}, {}, ""});
  g.nodes.push_back(Node{"sum", "ReduceSum", "", {"y"}, {"loss"}, {one("keepdims", 0)}, ""});
  g.outputs = {{"loss", TypeInfo::tensor_of_shape(DataType::kFloat, Shape{}), ""}};
  auto count = [](const Model& m) {
    return std::count_if(m.graph.nodes.begin(), m.graph.nodes.end(),
                         [](const Node& n) { return n.op_type == "ConvWeightGrad" && n.domain == "com.onyx.training"; });
  };
  EXPECT_EQ(count(training::build_gradient_graph(model, {.loss = "loss", .trainable = {"w"}}).model), 0);
  training::GradientGraph onyx = training::build_gradient_graph(model, {.loss = "loss", .trainable = {"w"}, .onyx_ops = true});
  EXPECT_EQ(count(onyx.model), 1);
  EXPECT_EQ(onyx.model.opsets.at("com.onyx.training"), 1);
}

TEST(GradientRulesConv, ConvTranspose) {
  struct Case { Shape x, w; std::vector<Attribute> attributes; };
  const std::vector<Case> cases = {
      {{1, 3, 4, 4}, {3, 2, 3, 3}, {}},
      {{2, 2, 3, 4}, {2, 3, 3, 2}, {ints("strides", {2, 2}), ints("pads", {1, 0, 0, 1}), ints("output_padding", {1, 0})}},
      {{1, 4, 3, 3}, {4, 1, 2, 2}, {one("group", 2), ints("dilations", {2, 2})}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_to_string(c.x) + " * " + shape_to_string(c.w));
    int64_t out_channels = c.w[1] * (c.attributes.size() > 0 && c.attributes[0].name == "group" ? c.attributes[0].i : 1);
    check_op_gradient({.op = "ConvTranspose", .inputs = {in("x", c.x), in("w", c.w), in("b", {out_channels})},
                       .attributes = c.attributes});
  }
}

TEST(GradientRulesPool, MaxPoolOverlappingAndNot) {
  struct Case { Shape x; std::vector<Attribute> attributes; int64_t opset; };
  const std::vector<Case> cases = {
      {{2, 2, 5, 5}, {ints("kernel_shape", {3, 3}), ints("strides", {1, 2}), ints("pads", {1, 1, 0, 1})}, 18},
      {{1, 2, 4, 6}, {ints("kernel_shape", {2, 2}), ints("strides", {2, 2})}, 12},
      {{1, 2, 9}, {ints("kernel_shape", {3})}, 18},
      // Overlapping windows before opset 16: the per-offset masks.
      {{2, 2, 6, 5}, {ints("kernel_shape", {3, 3}), ints("strides", {2, 1}), ints("pads", {1, 1, 1, 0}), ints("dilations", {1, 2})}, 12},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_to_string(c.x));
    check_op_gradient({.op = "MaxPool", .inputs = {in("x", c.x)}, .attributes = c.attributes, .opset = c.opset});
    // TrainingSession's form: one com.onyx.training::MaxPoolGrad, whatever the opset (in float
    // too in OnyxTrainingOps.*, against the portable form: a float step flips close maxima).
    SCOPED_TRACE("MaxPoolGrad");
    check_op_gradient({.op = "MaxPool", .inputs = {in("x", c.x)}, .attributes = c.attributes, .opset = c.opset,
                       .onyx_ops = true});
  }
}

TEST(GradientRulesPool, AveragePoolWithAndWithoutPadCounting) {
  for (int64_t count_pad : {0, 1}) {
    SCOPED_TRACE(count_pad);
    check_op_gradient({.op = "AveragePool", .inputs = {in("x", {2, 2, 5, 6})},
                       .attributes = {ints("kernel_shape", {3, 2}), ints("strides", {2, 2}),
                                      ints("pads", {1, 0, 1, 1}), one("count_include_pad", count_pad)}});
  }
  check_op_gradient({.op = "AveragePool", .inputs = {in("x", {1, 3, 8})}, .attributes = {ints("kernel_shape", {2})}});
}

TEST(GradientRulesPool, GlobalPools) {
  check_op_gradient({.op = "GlobalAveragePool", .inputs = {in("x", {2, 3, 4, 5})}});
  check_op_gradient({.op = "GlobalMaxPool", .inputs = {in("x", {2, 3, 4, 5})}});
}

TEST(GradientRulesNormalization, BatchNormTrainingMode) {
  check_op_gradient({.op = "BatchNormalization",
                     .inputs = {in("x", {4, 3, 2, 2}), in("scale", {3}), in("bias", {3}),
                                {"mean", {3}, false, std::nullopt, -0.2, 0.2},
                                {"var", {3}, false, std::nullopt, 0.5, 1.5}},
                     .attributes = {one("training_mode", 1)}});
}

TEST(GradientRulesNormalization, BatchNormInferenceModeIncludingStatistics) {
  check_op_gradient({.op = "BatchNormalization",
                     .inputs = {in("x", {2, 3, 2, 2}), in("scale", {3}), in("bias", {3}), in("mean", {3}),
                                in("var", {3}, 0.5, 1.5)},
                     .attributes = {make_attribute("epsilon", 1e-3f)}, .training_mode = false});
  check_op_gradient({.op = "BatchNormalization",
                     .inputs = {in("x", {2, 3, 4}), in("scale", {3}), in("bias", {3}), in("mean", {3}),
                                in("var", {3}, 0.5, 1.5)},
                     .opset = 11, .training_mode = false});
}

TEST(GradientRulesNormalization, LayerNormalization) {
  check_op_gradient({.op = "LayerNormalization", .inputs = {in("x", {2, 3, 4}), in("scale", {4}), in("bias", {4})}});
  check_op_gradient({.op = "LayerNormalization", .inputs = {in("x", {2, 3, 4}), in("scale", {3, 4})},
                     .attributes = {one("axis", 1)}});
  // Mean and InvStdDev reach the loss too. They are float or bfloat16 by the spec, so this case
  // runs in float (step 1e-2, tolerance 2e-2).
  check_op_gradient({.op = "LayerNormalization", .inputs = {in("x", {2, 3, 4}), in("scale", {4}), in("bias", {4})},
                     .outputs = 3, .dtype = DataType::kFloat});
}

TEST(GradientRulesNormalization, RMSNormalization) {
  check_op_gradient({.op = "RMSNormalization", .inputs = {in("x", {2, 3, 4}), in("scale", {4})}, .opset = 23});
  check_op_gradient({.op = "RMSNormalization", .inputs = {in("x", {2, 3, 4}), in("scale", {3, 4})},
                     .attributes = {one("axis", 1)}, .opset = 23});
}

TEST(GradientRulesNormalization, GroupNormalizationPerGroupAndPerChannel) {
  check_op_gradient({.op = "GroupNormalization", .inputs = {in("x", {2, 4, 3, 2}), in("scale", {2}), in("bias", {2})},
                     .attributes = {one("num_groups", 2)}, .opset = 18});
  check_op_gradient({.op = "GroupNormalization", .inputs = {in("x", {2, 6, 3}), in("scale", {6}), in("bias", {6})},
                     .attributes = {one("num_groups", 3)}, .opset = 21});
}

TEST(GradientRulesNormalization, InstanceNormalization) {
  check_op_gradient({.op = "InstanceNormalization",
                     .inputs = {in("x", {2, 3, 4, 2}), in("scale", {3}), in("bias", {3})}});
}

// Training-mode Dropout is random, so finite differences cannot check it: see
// GradientBuilder.DropoutTrainingGradientUsesTheMask and DropoutBeforeOpset12TrainsWithAMask.
TEST(GradientRulesNormalization, DropoutInferenceIsIdentity) {
  for (int64_t opset : {11, 13}) {
    check_op_gradient({.op = "Dropout", .inputs = {in("x", {3, 4})}, .opset = opset, .training_mode = false});
  }
}

}  // namespace
}  // namespace onyx::testing
