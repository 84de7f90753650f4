// Finite-difference checks of the Reduce* gradient rules, with axes as attributes (before
// opset 13/18) and as inputs, keepdims on and off.
#include <gtest/gtest.h>

#include "runtime/ir/attribute_builders.h"
#include "tests/training/gradient_check.h"

namespace onyx::testing {
namespace {

const char* kReductions[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                             "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp",
                             "ReduceLogSum"};

InputSpec positive_x() { return {"x", {2, 3, 4}, true, std::nullopt, 0.5, 2.0}; }

TEST(GradientRulesReduction, AxesAsInputsKeepdimsOnAndOff) {
  for (const char* op : kReductions) {
    for (int64_t keepdims : {0, 1}) {
      SCOPED_TRACE(std::string(op) + " keepdims " + std::to_string(keepdims));
      check_op_gradient({.op = op,
                         .inputs = {positive_x(), {"axes", {2}, false, int64_tensor({2}, {0, -1})}},
                         .attributes = {make_attribute("keepdims", keepdims)}});
    }
  }
}

TEST(GradientRulesReduction, AxesAsAttributesBeforeOpset18) {
  for (const char* op : kReductions) {
    if (std::string(op) == "ReduceSum") continue;  // its axes became an input in 13
    SCOPED_TRACE(op);
    check_op_gradient({.op = op, .inputs = {positive_x()},
                       .attributes = {make_attribute("axes", std::vector<int64_t>{1}),
                                      make_attribute("keepdims", int64_t{0})},
                       .opset = 13});
  }
  check_op_gradient({.op = "ReduceSum", .inputs = {positive_x()},
                     .attributes = {make_attribute("axes", std::vector<int64_t>{1})}, .opset = 11});
}

TEST(GradientRulesReduction, AllAxesWhenNoneGiven) {
  for (const char* op : kReductions) {
    SCOPED_TRACE(op);
    check_op_gradient({.op = op, .inputs = {positive_x()}, .attributes = {make_attribute("keepdims", int64_t{0})}});
  }
}

// Axes fed at run time (a graph input): the kept-dims shape comes from the same reduction.
TEST(GradientRulesReduction, AxesKnownOnlyAtRunTime) {
  for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceL2"}) {
    for (int64_t keepdims : {0, 1}) {
      SCOPED_TRACE(std::string(op) + " keepdims " + std::to_string(keepdims));
      Node node;
      node.op_type = op;
      node.name = "reduce";
      node.inputs = {"x", "axes"};
      node.outputs = {"y"};
      node.attributes = {make_attribute("keepdims", keepdims)};
      Model model;
      model.ir_version = 8;
      model.opsets[""] = 18;
      model.graph.name = "dynamic_axes";
      model.graph.nodes = {node};
      model.graph.inputs = {{"x", TypeInfo::tensor(DataType::kDouble, std::vector<Dim>{Dim::known(2), Dim::known(3), Dim::known(4)}), ""},
                            {"axes", TypeInfo::tensor(DataType::kInt64, std::vector<Dim>{Dim::known(2)}), ""}};
      // The output's shape cannot be inferred without the axes: the model declares it.
      std::vector<Dim> y_dims = keepdims ? std::vector<Dim>{Dim::known(1), Dim::known(3), Dim::known(1)}
                                         : std::vector<Dim>{Dim::known(3)};
      model.graph.outputs = {{"y", TypeInfo::tensor(DataType::kDouble, y_dims), ""}};
      check_graph_gradient({.model = model,
                            .inputs = {positive_x(), {"axes", {2}, false, int64_tensor({2}, {2, 0})}}});
    }
  }
}

TEST(GradientRulesReduction, MaxSplitsTiesEvenly) {
  // Both maxima of each row are equal: each gets half the gradient (PyTorch's amax rule),
  // which is also what a central difference at a tie measures.
  Tensor x = Tensor::from_vector<double>({2, 2}, {3.0, 3.0, 1.0, 1.0});
  for (const char* op : {"ReduceMax", "ReduceMin"}) {
    check_op_gradient({.op = op, .inputs = {{"x", {2, 2}, true, x}},
                       .attributes = {make_attribute("axes", std::vector<int64_t>{1})}, .opset = 13});
  }
}

}  // namespace
}  // namespace onyx::testing
