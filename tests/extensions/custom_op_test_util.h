// Helpers for the custom-op tests: models with nodes of custom domains, the example libraries'
// paths, and a gradient-rule context that records the backward nodes so they can be run.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/extensions/op_registry.h"
#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"

namespace onyx::testing {

inline std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

inline std::string library_path(const std::string& name) { return std::string(ONYX_BINARY_DIR) + "/lib" + name + ".so"; }
inline std::string example_library() { return library_path("onyx_example_ops"); }

inline Node custom_node(const std::string& domain, std::string op_type, std::vector<std::string> inputs,
                        std::vector<std::string> outputs, std::vector<Attribute> attributes = {}) {
  Node node = make_node(std::move(op_type), std::move(inputs), std::move(outputs), std::move(attributes));
  node.domain = domain;
  return node;
}

// A one-node model of `node`, with every input fed and every output a graph output.
inline Model single_node_model(const Node& node, const std::vector<ValueInfo>& inputs,
                               const std::vector<ValueInfo>& outputs, int64_t opset = 1) {
  Model model = make_model({node}, inputs, outputs);
  if (!node.domain.empty()) model.opsets[node.domain] = opset;
  return model;
}

inline std::vector<float> values_of(const Value& value) {
  auto span = value.tensor().values<float>();
  return {span.begin(), span.end()};
}

// Records what a gradient rule builds; build_model() turns it into a model whose inputs are
// the forward inputs and the output gradients and whose outputs are the input gradients.
class RecordingGradientContext final : public training::GradientRuleContext {
 public:
  RecordingGradientContext(Node node, std::map<std::string, TypeInfo> types, std::vector<std::string> output_gradients)
      : node_(std::move(node)), types_(std::move(types)), output_gradients_(std::move(output_gradients)) {}

  const Node& node() const override { return node_; }
  int64_t opset() const override { return 1; }
  const TypeInfo& type_of(const std::string& name) const override {
    static const TypeInfo unknown;
    auto it = types_.find(name);
    return it == types_.end() ? unknown : it->second;
  }
  std::string output_gradient(size_t i) const override { return output_gradients_.at(i); }
  bool wants_input_gradient(size_t) const override { return true; }
  void set_input_gradient(size_t i, const std::string& name) override { gradients[i] = name; }
  std::vector<std::string> add_node(const std::string& op_type, std::vector<std::string> inputs, size_t output_count,
                                    std::vector<Attribute> attributes, const std::string& domain) override {
    Node node;
    node.op_type = op_type;
    node.domain = domain;
    node.name = "backward_" + std::to_string(nodes.size());
    node.inputs = std::move(inputs);
    node.attributes = std::move(attributes);
    for (size_t k = 0; k < output_count; ++k) node.outputs.push_back(node.name + "_out" + std::to_string(k));
    nodes.push_back(node);
    return node.outputs;
  }
  std::string add_constant(Tensor value) override {
    std::string name = "constant_" + std::to_string(constants.size());
    constants.emplace(name, std::move(value));
    return name;
  }

  Model build_model(const std::vector<ValueInfo>& feeds, size_t input_index) const {
    std::vector<Node> all = {node_};
    all.insert(all.end(), nodes.begin(), nodes.end());
    Model model = make_model(all, feeds, {{gradients.at(input_index), {}, ""}});
    model.opsets[node_.domain] = 1;
    for (const auto& [name, value] : constants) model.graph.set_initializer(name, value);
    return model;
  }

  std::vector<Node> nodes;
  std::map<std::string, Tensor> constants;
  std::map<size_t, std::string> gradients;

 private:
  Node node_;
  std::map<std::string, TypeInfo> types_;
  std::vector<std::string> output_gradients_;
};

}  // namespace onyx::testing
