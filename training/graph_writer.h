// Appends nodes to a graph under a name prefix, so the training graph builders (losses, metrics,
// optimizer updates) can compose standard ONNX ops without clashing with the user's names.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "runtime/ir/attribute_builders.h"
#include "runtime/ir/graph.h"

namespace onyx::training {

class GraphWriter {
 public:
  // `prefix` starts every name this writer creates ("loss/", "optimizer/").
  GraphWriter(Graph& graph, std::string prefix);

  // Appends a node and returns the names of its `output_count` fresh outputs.
  std::vector<std::string> add_node(const std::string& op_type, std::vector<std::string> inputs,
                                    size_t output_count, std::vector<Attribute> attributes = {},
                                    const std::string& domain = "");
  std::string add(const std::string& op_type, std::vector<std::string> inputs,
                  std::vector<Attribute> attributes = {}) {
    return add_node(op_type, std::move(inputs), 1, std::move(attributes)).front();
  }
  // Appends a node whose single output gets exactly `output_name`.
  void add_named(const std::string& op_type, std::vector<std::string> inputs,
                 const std::string& output_name, std::vector<Attribute> attributes = {});
  // Gives `value` the name `name`: renames the output of the node that made it (and its readers),
  // or, for a value no node of this graph made, adds an Identity. Returns `name`.
  std::string rename_value(const std::string& value, const std::string& name);
  // A fresh initializer holding `value`.
  std::string constant(Tensor value);
  std::string scalar(float value) { return constant(Tensor::scalar<float>(value)); }
  std::string int64s(std::vector<int64_t> values);
  // A fresh name under the prefix (no node defines it yet).
  std::string fresh(const std::string& hint);

 private:
  Graph& graph_;
  std::string prefix_;
  std::set<std::string> taken_;  // every name the graph defines, plus those handed out
  size_t counter_ = 0;
};

// Adds a graph input / output declaration.
void add_graph_input(Graph& graph, const std::string& name, TypeInfo type);
void add_graph_output(Graph& graph, const std::string& name, TypeInfo type);
// True when `name` is a graph input, an initializer or a node output of `graph`.
bool graph_defines(const Graph& graph, const std::string& name);

}  // namespace onyx::training
