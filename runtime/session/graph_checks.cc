#include "runtime/session/graph_checks.h"

#include "runtime/session/subgraph_compiler.h"

#include <map>
#include <queue>

namespace onyx {

namespace {

// Values a node's subgraphs read from the node's scope: their free variables.
void collect_subgraph_captures(const Graph& graph, std::set<std::string>& captures) {
  std::set<std::string> local;
  for (const auto& input : graph.inputs) local.insert(input.name);
  for (const auto& [name, tensor] : graph.initializers) local.insert(name);
  for (const Node& node : graph.nodes) {
    for (const auto& output : node.outputs) local.insert(output);
  }
  for (const Node& node : graph.nodes) {
    for (const auto& input : node.inputs) {
      if (!input.empty() && !local.count(input)) captures.insert(input);
    }
    for (const Attribute& attribute : node.attributes) {
      std::set<std::string> inner;
      if (attribute.g) collect_subgraph_captures(*attribute.g, inner);
      for (const auto& sub : attribute.graphs) collect_subgraph_captures(*sub, inner);
      for (const auto& name : inner) {
        if (!local.count(name)) captures.insert(name);
      }
    }
  }
  for (const auto& output : graph.outputs) {
    if (!local.count(output.name)) captures.insert(output.name);
  }
}

}  // namespace

std::vector<std::string> outer_scope_reads(const Graph& graph) {
  std::set<std::string> captures;
  collect_subgraph_captures(graph, captures);
  return {captures.begin(), captures.end()};
}

std::vector<std::string> implicit_inputs(const Node& node) {
  std::set<std::string> captures;
  for (const Attribute& attribute : node.attributes) {
    if (attribute.g) collect_subgraph_captures(*attribute.g, captures);
    for (const auto& sub : attribute.graphs) collect_subgraph_captures(*sub, captures);
  }
  captures.erase("");
  return {captures.begin(), captures.end()};
}

void validate_and_sort_graph(Graph& graph, const std::set<std::string>& outer_scope) {
  std::set<std::string> available(outer_scope);
  for (const auto& input : graph.inputs) available.insert(input.name);
  for (const auto& [name, tensor] : graph.initializers) available.insert(name);

  std::map<std::string, size_t> producer;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const auto& output : graph.nodes[i].outputs) {
      if (output.empty()) continue;
      if (producer.count(output) || graph.find_input(output) != nullptr || graph.initializers.count(output)) {
        throw_error(ErrorCode::kInvalidModel, graph.nodes[i].describe(), " writes value '", output,
                    "', which is already defined in graph '", graph.name, "'");
      }
      producer[output] = i;
    }
  }

  // Kahn's algorithm over value dependencies, subgraph captures included.
  std::vector<std::vector<size_t>> consumers(graph.nodes.size());
  std::vector<size_t> pending(graph.nodes.size(), 0);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    std::set<std::string> reads(node.inputs.begin(), node.inputs.end());
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g) collect_subgraph_captures(*attribute.g, reads);
      for (const auto& sub : attribute.graphs) collect_subgraph_captures(*sub, reads);
    }
    for (const auto& name : reads) {
      if (name.empty()) continue;
      auto it = producer.find(name);
      if (it != producer.end()) {
        if (it->second == i) {
          throw_error(ErrorCode::kInvalidModel, node.describe(), " reads its own output '", name, "'");
        }
        consumers[it->second].push_back(i);
        ++pending[i];
      } else if (!available.count(name)) {
        throw_error(ErrorCode::kInvalidModel, node.describe(), " reads value '", name,
                    "', which no node, graph input or initializer of graph '", graph.name,
                    "' defines");
      }
    }
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<Node> sorted;
  sorted.reserve(graph.nodes.size());
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    sorted.push_back(std::move(graph.nodes[i]));
    for (size_t consumer : consumers[i]) {
      if (--pending[consumer] == 0) ready.push(consumer);
    }
  }
  if (sorted.size() != graph.nodes.size()) {
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      if (pending[i] > 0) {
        throw_error(ErrorCode::kInvalidModel, "graph '", graph.name, "' has a cycle through ",
                    graph.nodes[i].describe());
      }
    }
  }
  graph.nodes = std::move(sorted);

  std::set<std::string> scope_for_subgraphs(available);
  for (const auto& [name, index] : producer) scope_for_subgraphs.insert(name);
  for (Node& node : graph.nodes) {
    for (Attribute& attribute : node.attributes) {
      if (attribute.g) validate_and_sort_graph(*attribute.g, scope_for_subgraphs);
      for (auto& sub : attribute.graphs) validate_and_sort_graph(*sub, scope_for_subgraphs);
    }
  }

  for (const auto& output : graph.outputs) {
    if (!producer.count(output.name) && !available.count(output.name)) {
      throw_error(ErrorCode::kInvalidModel, "graph output '", output.name, "' of graph '",
                  graph.name, "' is not produced by any node");
    }
  }
}

}  // namespace onyx
