// Small helpers for runtime tests that build models in memory.
#pragma once

#include <string>
#include <vector>

#include "runtime/ir/attribute_builders.h"
#include "runtime/ir/graph.h"

namespace onyx::testing {

inline Node make_node(std::string op_type, std::vector<std::string> inputs, std::vector<std::string> outputs,
                      std::vector<Attribute> attributes = {}, std::string name = "") {
  Node node;
  node.op_type = std::move(op_type);
  node.name = name.empty() ? node.op_type + "_" + (outputs.empty() ? "" : outputs[0]) : std::move(name);
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attributes = std::move(attributes);
  return node;
}

inline ValueInfo tensor_value(std::string name, DataType type, std::vector<int64_t> dims) {
  std::vector<Dim> shape;
  for (int64_t d : dims) shape.push_back(d >= 0 ? Dim::known(d) : Dim::named("N"));
  return {std::move(name), TypeInfo::tensor(type, shape), ""};
}

inline Model make_model(std::vector<Node> nodes, std::vector<ValueInfo> inputs, std::vector<ValueInfo> outputs,
                        int64_t opset = 17) {
  Model model;
  model.ir_version = 8;
  model.producer_name = "onyx-tests";
  model.opsets[""] = opset;
  model.graph.name = "test_graph";
  model.graph.nodes = std::move(nodes);
  model.graph.inputs = std::move(inputs);
  model.graph.outputs = std::move(outputs);
  return model;
}

// Neg, Abs, Neg, Abs, ... from x to y: |x| for an even length. A -1 in `shape` is a symbolic dim.
inline Model neg_abs_chain(int length, std::vector<int64_t> shape) {
  std::vector<Node> nodes;
  std::string previous = "x";
  for (int i = 0; i < length; ++i) {
    std::string next = i + 1 == length ? "y" : "v" + std::to_string(i);
    nodes.push_back(make_node(i % 2 ? "Abs" : "Neg", {previous}, {next}));
    previous = next;
  }
  return make_model(nodes, {tensor_value("x", DataType::kFloat, shape)}, {tensor_value("y", DataType::kFloat, shape)});
}

}  // namespace onyx::testing
