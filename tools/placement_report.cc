#include "tools/placement_report.h"

#include <map>

namespace onyx::cli {

namespace {

std::string copy_line(const PlannedCopy& copy) {
  std::string from = copy.from ? copy.from->device().to_string() : std::string("where it is fed");
  return "'" + copy.value + "': " + from + " -> " + copy.to->device().to_string();
}

}  // namespace

void print_placement(std::ostream& out, const Graph& graph, const GraphPlacement& placement) {
  std::map<std::string, int> per_provider;
  size_t host_nodes = 0;
  size_t input_copies = 0;
  for (const NodePlacement& node : placement.nodes) {
    ++per_provider[node.provider->name()];
    host_nodes += node.provider == placement.host;
    for (const PlannedCopy& copy : node.copies_before) input_copies += copy.from == nullptr;
  }
  out << "placement:";
  for (const auto& [name, count] : per_provider) out << " " << name << " " << count << " nodes;";
  out << " copies inside the graph: " << placement.inner_copy_count() << ", of inputs (only when fed on another device): "
      << input_copies << ", of outputs: " << placement.output_copies.size()
      << "; initializers uploaded once: " << placement.constant_upload_count() << "\n";
  if (host_nodes > 0 && per_provider.size() > 1) {
    out << "nodes on the CPU:\n";
    for (size_t i = 0; i < placement.nodes.size(); ++i) {
      const NodePlacement& node = placement.nodes[i];
      if (node.provider == placement.host) out << "  " << graph.nodes[i].describe() << ": " << node.host_reason << "\n";
    }
  }
  bool any_copy = !placement.output_copies.empty();
  for (const NodePlacement& node : placement.nodes) {
    for (const PlannedCopy& copy : node.copies_before) any_copy = any_copy || !copy.of_constant;
  }
  if (!any_copy) return;
  out << "copies:\n";
  for (size_t i = 0; i < placement.nodes.size(); ++i) {
    for (const PlannedCopy& copy : placement.nodes[i].copies_before) {
      if (copy.of_constant) continue;
      out << "  " << copy_line(copy) << " for " << graph.nodes[i].describe() << "\n";
    }
  }
  for (const PlannedCopy& copy : placement.output_copies) out << "  " << copy_line(copy) << " (graph output)\n";
}

}  // namespace onyx::cli
