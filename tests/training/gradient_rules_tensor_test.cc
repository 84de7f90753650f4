// Finite-difference checks of the data-movement, Resize, loss and If gradient rules.
#include <gtest/gtest.h>

#include <memory>

#include "runtime/ir/attribute_builders.h"
#include "tests/training/gradient_check.h"

namespace onyx::testing {
namespace {

InputSpec in(std::string name, Shape shape, double low = -1.0, double high = 1.0) {
  return {std::move(name), std::move(shape), true, std::nullopt, low, high};
}
InputSpec fixed(std::string name, std::vector<int64_t> values, Shape shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(values.size())};
  return {std::move(name), shape, false, int64_tensor(shape, std::move(values))};
}
Attribute one(const char* name, int64_t value) { return make_attribute(name, value); }
Attribute ints(const char* name, std::vector<int64_t> values) { return make_attribute(name, std::move(values)); }

TEST(GradientRulesTensor, ReshapeFamily) {
  check_op_gradient({.op = "Reshape", .inputs = {in("x", {2, 3, 4}), fixed("shape", {4, -1})}});
  check_op_gradient({.op = "Flatten", .inputs = {in("x", {2, 3, 4})}, .attributes = {one("axis", 2)}});
  check_op_gradient({.op = "Squeeze", .inputs = {in("x", {2, 1, 4}), fixed("axes", {1})}});
  check_op_gradient({.op = "Unsqueeze", .inputs = {in("x", {2, 4}), fixed("axes", {0, 2})}});
  check_op_gradient({.op = "Unsqueeze", .inputs = {in("x", {2, 4})}, .attributes = {ints("axes", {1})}, .opset = 11});
}

TEST(GradientRulesTensor, Transpose) {
  check_op_gradient({.op = "Transpose", .inputs = {in("x", {2, 3, 4})}, .attributes = {ints("perm", {1, 2, 0})}});
  check_op_gradient({.op = "Transpose", .inputs = {in("x", {2, 3, 4})}});
}

TEST(GradientRulesTensor, ConcatAndSplit) {
  check_op_gradient({.op = "Concat", .inputs = {in("a", {2, 3}), in("b", {2, 1}), in("c", {2, 2})},
                     .attributes = {one("axis", -1)}});
  check_op_gradient({.op = "Concat", .inputs = {in("a", {2, 3}), in("b", {1, 3})}, .attributes = {one("axis", 0)},
                     .opset = 11});
  check_op_gradient({.op = "Split", .inputs = {in("x", {2, 6}), fixed("split", {1, 3, 2})},
                     .attributes = {one("axis", 1)}, .outputs = 3});
  // Only the first output enters the loss: the others get zero gradients.
  check_op_gradient({.op = "Split", .inputs = {in("x", {4, 3})}, .attributes = {one("num_outputs", 2)},
                     .unused_outputs = 1});
}

TEST(GradientRulesTensor, SliceWithStepsAndNegativeIndices) {
  check_op_gradient({.op = "Slice", .inputs = {in("x", {4, 5, 3}), fixed("starts", {1, -1}), fixed("ends", {4, -6}),
                                               fixed("axes", {0, 1}), fixed("steps", {2, -2})}});
}

TEST(GradientRulesTensor, GatherWithRepeatedAndNegativeIndices) {
  check_op_gradient({.op = "Gather", .inputs = {in("x", {5, 3}), fixed("idx", {0, 2, 2, -1}, {2, 2})}});
  check_op_gradient({.op = "Gather", .inputs = {in("x", {2, 4, 3}), fixed("idx", {3, 0, 3})},
                     .attributes = {one("axis", 1)}});
  // Before opset 16 (no scatter-add): Unique + OneHot sums the repeated rows.
  for (int64_t opset : {11, 13}) {
    SCOPED_TRACE(opset);
    check_op_gradient({.op = "Gather", .inputs = {in("x", {5, 3}), fixed("idx", {0, 2, 2, -1}, {2, 2})}, .opset = opset});
    check_op_gradient({.op = "Gather", .inputs = {in("x", {2, 4, 3}), fixed("idx", {3, 0, 3})},
                       .attributes = {one("axis", 1)}, .opset = opset});
    check_op_gradient({.op = "Gather", .inputs = {in("x", {2, 4, 3}), fixed("idx", {2, -1, 0, 2}, {2, 2})},
                       .attributes = {one("axis", -1)}, .opset = opset});
  }
  for (int64_t opset : {11, 13}) {  // GatherElements before 16: a OneHot over the axis
    SCOPED_TRACE(opset);
    check_op_gradient({.op = "GatherElements", .inputs = {in("x", {3, 4}), fixed("idx", {0, 0, 2, -1, 3, 3}, {3, 2})},
                       .attributes = {one("axis", 1)}, .opset = opset});
    check_op_gradient({.op = "GatherElements", .inputs = {in("x", {3, 4}), fixed("idx", {2, 0, 2, 1}, {2, 2})},
                       .attributes = {one("axis", 0)}, .opset = opset});
  }
  check_op_gradient({.op = "GatherElements", .inputs = {in("x", {3, 4}), fixed("idx", {0, 0, 2, 1, 3, 3}, {3, 2})},
                     .attributes = {one("axis", 1)}});
}

TEST(GradientRulesTensor, ExpandAndTile) {
  check_op_gradient({.op = "Expand", .inputs = {in("x", {3, 1}), fixed("shape", {2, 3, 4})}});
  check_op_gradient({.op = "Tile", .inputs = {in("x", {2, 3}), fixed("repeats", {2, 3})}});
}

TEST(GradientRulesTensor, PermutationsTriluCumSum) {
  check_op_gradient({.op = "DepthToSpace", .inputs = {in("x", {1, 8, 2, 3})},
                     .attributes = {one("blocksize", 2), make_attribute("mode", "CRD")}});
  check_op_gradient({.op = "SpaceToDepth", .inputs = {in("x", {1, 2, 4, 6})}, .attributes = {one("blocksize", 2)}});
  check_op_gradient({.op = "Trilu", .inputs = {in("x", {2, 4, 4}), InputSpec{"k", {}, false, Tensor::scalar<int64_t>(1)}}, .attributes = {one("upper", 0)}});
  for (int64_t reverse : {0, 1}) {
    for (int64_t exclusive : {0, 1}) {
      check_op_gradient({.op = "CumSum", .inputs = {in("x", {3, 4}), InputSpec{"axis", {}, false, Tensor::scalar<int64_t>(1)}},
                         .attributes = {one("reverse", reverse), one("exclusive", exclusive)}});
    }
  }
}

TEST(GradientRulesTensor, TopKAndScatters) {
  check_op_gradient({.op = "TopK", .inputs = {in("x", {3, 5}), fixed("k", {2})}, .attributes = {one("axis", 1)},
                     .unused_outputs = 1});
  check_op_gradient({.op = "ScatterElements",
                     .inputs = {in("data", {3, 4}), fixed("idx", {1, 0, 3, 2, 0, 1}, {3, 2}), in("updates", {3, 2})},
                     .attributes = {one("axis", 1)}});
  check_op_gradient({.op = "ScatterND",
                     .inputs = {in("data", {4, 3}), fixed("idx", {2, 0}, {2, 1}), in("updates", {2, 3})}});
}

TEST(GradientRulesTensor, PadModes) {
  check_op_gradient({.op = "Pad", .inputs = {in("x", {2, 3}), fixed("pads", {1, 0, 2, 2}), in("value", {})}});
  check_op_gradient({.op = "Pad", .inputs = {in("x", {2, 3, 4}), fixed("pads", {1, 2, 0, 1}), {"", {}}, fixed("axes", {1, 2})}});
  for (const char* mode : {"reflect", "edge", "wrap"}) {
    SCOPED_TRACE(mode);
    check_op_gradient({.op = "Pad", .inputs = {in("x", {3, 4}), fixed("pads", {2, 1, 1, 3})},
                       .attributes = {make_attribute("mode", mode)}, .opset = 19});
    check_op_gradient({.op = "Pad", .inputs = {in("x", {2, 3, 5}), fixed("pads", {3, 1, 2, 2}), {"", {}}, fixed("axes", {-1, 1})},
                       .attributes = {make_attribute("mode", mode)}, .opset = 19});
  }
  for (const char* mode : {"reflect", "edge"}) {  // opset 13: the same folding, no scatter needed
    SCOPED_TRACE(mode);
    check_op_gradient({.op = "Pad", .inputs = {in("x", {1, 2, 4, 3}), fixed("pads", {0, 0, 2, 1, 0, 0, 1, 2})},
                       .attributes = {make_attribute("mode", mode)}, .opset = 13});
  }
}

TEST(GradientRulesTensor, ResizeModes) {
  Tensor scales = Tensor::from_vector<float>({4}, {1.0f, 1.0f, 2.0f, 1.5f});
  Tensor down = Tensor::from_vector<float>({4}, {1.0f, 1.0f, 0.5f, 0.75f});
  for (const char* mode : {"nearest", "linear", "cubic"}) {
    SCOPED_TRACE(mode);
    check_op_gradient({.op = "Resize",
                       .inputs = {in("x", {1, 2, 3, 4}), {"", {}}, {"scales", {4}, false, scales}},
                       .attributes = {make_attribute("mode", mode)}});
    check_op_gradient({.op = "Resize",
                       .inputs = {in("x", {1, 2, 4, 4}), {"", {}}, {"scales", {4}, false, down}},
                       .attributes = {make_attribute("mode", mode),
                                      make_attribute("coordinate_transformation_mode", "align_corners")}});
  }
  check_op_gradient({.op = "Resize",
                     .inputs = {in("x", {1, 1, 3, 4}), {"", {}}, {"", {}}, fixed("sizes", {1, 1, 5, 7})},
                     .attributes = {make_attribute("mode", "linear"), one("antialias", 0)}});
  check_op_gradient({.op = "Resize", .inputs = {in("x", {1, 1, 6, 6}), {"", {}}, {"scales", {4}, false, down}},
                     .attributes = {make_attribute("mode", "linear"), one("antialias", 1)}});
}

TEST(GradientRulesLoss, NegativeLogLikelihoodReductionsWeightsIgnoreIndex) {
  Tensor weight = Tensor::from_vector<double>({4}, {0.5, 1.0, 2.0, 1.5});
  for (const char* reduction : {"mean", "sum", "none"}) {
    SCOPED_TRACE(reduction);
    check_op_gradient({.op = "NegativeLogLikelihoodLoss", .inputs = {in("x", {3, 4}), fixed("t", {1, 3, 0})},
                       .attributes = {make_attribute("reduction", reduction)}});
    check_op_gradient({.op = "NegativeLogLikelihoodLoss",
                       .inputs = {in("x", {2, 4, 3}), fixed("t", {1, 3, 0, 2, 2, 1}, {2, 3}),
                                  {"w", {4}, false, weight}},
                       .attributes = {make_attribute("reduction", reduction), one("ignore_index", 2)}});
  }
}

TEST(GradientRulesLoss, SoftmaxCrossEntropyWithLogProbOutput) {
  Tensor weight = Tensor::from_vector<double>({3}, {0.5, 1.0, 2.0});
  for (const char* reduction : {"mean", "sum", "none"}) {
    SCOPED_TRACE(reduction);
    check_op_gradient({.op = "SoftmaxCrossEntropyLoss", .inputs = {in("x", {4, 3}), fixed("t", {0, 2, 1, 2})},
                       .attributes = {make_attribute("reduction", reduction)}, .outputs = 2});
    check_op_gradient({.op = "SoftmaxCrossEntropyLoss",
                       .inputs = {in("x", {2, 3, 2}), fixed("t", {0, -1, 1, 2}, {2, 2}), {"w", {3}, false, weight}},
                       .attributes = {make_attribute("reduction", reduction), one("ignore_index", -1)}});
  }
}

// If whose branches read outer values: the gradient flows only through the taken branch.
TEST(GradientRulesControlFlow, IfBranchesReadingOuterValues) {
  for (bool condition : {true, false}) {
    SCOPED_TRACE(condition);
    auto branch = [](std::vector<Node> nodes, const std::string& output) {
      auto graph = std::make_shared<Graph>();
      graph->name = output + "_branch";
      graph->nodes = std::move(nodes);
      graph->outputs = {{output, TypeInfo::tensor(DataType::kDouble, std::vector<Dim>{Dim::known(2), Dim::known(3)}), ""}};
      return graph;
    };
    auto node = [](std::string op, std::vector<std::string> inputs, std::string output) {
      Node n;
      n.op_type = std::move(op);
      n.name = output;
      n.inputs = std::move(inputs);
      n.outputs = {std::move(output)};
      return n;
    };
    Attribute then_branch;
    then_branch.name = "then_branch";
    then_branch.kind = Attribute::Kind::kGraph;
    then_branch.g = branch({node("Mul", {"x", "w"}, "t0"), node("Tanh", {"t0"}, "t1")}, "t1");
    Attribute else_branch;
    else_branch.name = "else_branch";
    else_branch.kind = Attribute::Kind::kGraph;
    else_branch.g = branch({node("Sin", {"x"}, "e0")}, "e0");
    Node if_node = node("If", {"cond"}, "y");
    if_node.attributes = {then_branch, else_branch};

    Model model;
    model.ir_version = 8;
    model.opsets[""] = 18;
    model.graph.name = "if_gradient";
    model.graph.inputs = {{"cond", TypeInfo::tensor(DataType::kBool, std::vector<Dim>{}), ""},
                          {"x", TypeInfo::tensor(DataType::kDouble, std::vector<Dim>{Dim::known(2), Dim::known(3)}), ""},
                          {"w", TypeInfo::tensor(DataType::kDouble, std::vector<Dim>{Dim::known(3)}), ""}};
    model.graph.nodes = {node("Exp", {"x"}, "x_exp"), if_node, node("Mul", {"y", "x_exp"}, "out")};
    model.graph.nodes[1].inputs = {"cond"};
    model.graph.outputs = {{"out", TypeInfo{}, ""}};
    check_graph_gradient({.model = model,
                          .inputs = {{"cond", {}, false, Tensor::scalar<bool>(condition)}, in("x", {2, 3}), in("w", {3})}});
  }
}

}  // namespace
}  // namespace onyx::testing
