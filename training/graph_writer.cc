#include "training/graph_writer.h"

#include <algorithm>

namespace onyx::training {

GraphWriter::GraphWriter(Graph& graph, std::string prefix) : graph_(graph), prefix_(std::move(prefix)) {
  for (const ValueInfo& input : graph.inputs) taken_.insert(input.name);
  for (const auto& [name, tensor] : graph.initializers) taken_.insert(name);
  for (const Node& node : graph.nodes) {
    taken_.insert(node.name);
    taken_.insert(node.outputs.begin(), node.outputs.end());
  }
}

std::string GraphWriter::fresh(const std::string& hint) {
  for (;; ++counter_) {
    std::string name = prefix_ + hint + "_" + std::to_string(counter_);
    if (taken_.insert(name).second) return name;
  }
}

std::vector<std::string> GraphWriter::add_node(const std::string& op_type, std::vector<std::string> inputs,
                                               size_t output_count, std::vector<Attribute> attributes,
                                               const std::string& domain) {
  Node node;
  node.op_type = op_type;
  node.domain = domain;
  node.inputs = std::move(inputs);
  node.attributes = std::move(attributes);
  for (size_t i = 0; i < output_count; ++i) node.outputs.push_back(fresh(op_type));
  node.name = fresh(op_type + "_node");
  graph_.nodes.push_back(std::move(node));
  return graph_.nodes.back().outputs;
}

void GraphWriter::add_named(const std::string& op_type, std::vector<std::string> inputs,
                            const std::string& output_name, std::vector<Attribute> attributes) {
  Node node;
  node.op_type = op_type;
  node.inputs = std::move(inputs);
  node.outputs = {output_name};
  node.attributes = std::move(attributes);
  node.name = fresh(op_type + "_node");
  taken_.insert(output_name);
  graph_.nodes.push_back(std::move(node));
}

std::string GraphWriter::rename_value(const std::string& value, const std::string& name) {
  auto producer = std::find_if(graph_.nodes.rbegin(), graph_.nodes.rend(), [&](const Node& node) {
    return std::find(node.outputs.begin(), node.outputs.end(), value) != node.outputs.end();
  });
  const bool is_output = std::any_of(graph_.outputs.begin(), graph_.outputs.end(),
                                     [&](const ValueInfo& output) { return output.name == value; });
  if (producer == graph_.nodes.rend() || is_output) {
    add_named("Identity", {value}, name);
    return name;
  }
  taken_.insert(name);
  for (Node& node : graph_.nodes) {
    for (std::string& input : node.inputs) {
      if (input == value) input = name;
    }
  }
  std::replace(producer->outputs.begin(), producer->outputs.end(), value, name);
  return name;
}

std::string GraphWriter::constant(Tensor value) {
  std::string name = fresh("const");
  graph_.set_initializer(name, std::move(value));
  return name;
}

std::string GraphWriter::int64s(std::vector<int64_t> values) {
  const int64_t count = static_cast<int64_t>(values.size());
  return constant(Tensor::from_vector<int64_t>({count}, values));
}

void add_graph_input(Graph& graph, const std::string& name, TypeInfo type) {
  graph.inputs.push_back({name, std::move(type), ""});
}

void add_graph_output(Graph& graph, const std::string& name, TypeInfo type) {
  graph.outputs.push_back({name, std::move(type), ""});
}

bool graph_defines(const Graph& graph, const std::string& name) {
  if (graph.initializers.count(name) || graph.find_input(name) || graph.find_value_info(name)) return true;
  for (const Node& node : graph.nodes) {
    for (const std::string& output : node.outputs) {
      if (output == name) return true;
    }
  }
  return false;
}

}  // namespace onyx::training
