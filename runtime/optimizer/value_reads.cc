#include "runtime/optimizer/value_reads.h"

namespace onyx {

namespace {

void add_reads(const Graph& graph, std::map<std::string, int>& reads) {
  for (const Node& node : graph.nodes) {
    for (const auto& input : node.inputs) ++reads[input];
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g) add_reads(*attribute.g, reads);
      for (const auto& sub : attribute.graphs) add_reads(*sub, reads);
    }
  }
  for (const auto& output : graph.outputs) ++reads[output.name];
}

}  // namespace

const Tensor* constant_initializer(const Graph& graph, const std::string& name) {
  auto it = graph.initializers.find(name);
  if (it == graph.initializers.end() || graph.find_input(name) != nullptr) return nullptr;
  return &it->second;
}

std::map<std::string, int> count_value_reads(const Graph& graph) {
  std::map<std::string, int> reads;
  add_reads(graph, reads);
  return reads;
}

}  // namespace onyx
