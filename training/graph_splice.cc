#include "training/graph_splice.h"

#include "onnx_ops/attribute_spec.h"
#include "runtime/common/error.h"
#include "training/graph_writer.h"

namespace onyx::training {

namespace {

// The first op of `domain` in `graph` (subgraphs included) whose definition differs between
// opsets `a` and `b` (a newer version of it lies between them, or it is missing from one),
// or "" when each means the same at both.
std::string op_changed_between(const Graph& graph, const std::string& domain, int64_t a, int64_t b) {
  for (const Node& node : graph.nodes) {
    if (node.domain == domain) {
      const OpAttributeSpec* at_a = find_attribute_spec(domain, node.op_type, a);
      const OpAttributeSpec* at_b = find_attribute_spec(domain, node.op_type, b);
      if (!at_a || !at_b || at_a->since_version != at_b->since_version) return node.op_type;
    }
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g) {
        if (std::string op = op_changed_between(*attribute.g, domain, a, b); !op.empty()) return op;
      }
      for (const auto& sub : attribute.graphs) {
        if (std::string op = op_changed_between(*sub, domain, a, b); !op.empty()) return op;
      }
    }
  }
  return "";
}

// A piece imported at another opset of a domain the host uses joins it when each of its ops
// means the same at both (a graph traced by onyx::nn imports the newest opset, whatever ops it
// uses); otherwise the piece's nodes would change meaning.
void merge_opsets(Model& host, const Model& piece) {
  for (const auto& [domain, version] : piece.opsets) {
    auto found = host.opsets.find(domain);
    if (found == host.opsets.end()) {
      host.opsets[domain] = version;
    } else if (found->second != version) {
      const bool checkable = is_spec_domain(domain);
      const std::string changed = checkable ? op_changed_between(piece.graph, domain, version, found->second) : "";
      if (!checkable || !changed.empty()) {
        throw_error(ErrorCode::kInvalidArgument, "the graph to splice imports ", display_domain(domain), " opset ",
                    version, " but the model uses opset ", found->second,
                    checkable ? "; its " + changed + " means something else there" : std::string(),
                    "; build it at the model's opset so its ops keep their meaning");
      }
    }
  }
}

}  // namespace

SplicedGraph splice_graph(Model& host, const Model& piece, const std::map<std::string, std::string>& bindings,
                          const std::string& prefix) {
  merge_opsets(host, piece);
  Graph& graph = host.graph;
  std::map<std::string, std::string> renamed;
  SplicedGraph result;
  for (const ValueInfo& input : piece.graph.inputs) {
    if (piece.graph.initializers.count(input.name)) continue;  // an initializer-backed input is a constant
    auto bound = bindings.find(input.name);
    if (bound != bindings.end()) {
      ONYX_CHECK(graph_defines(graph, bound->second), ErrorCode::kInvalidArgument, "input '", input.name,
                 "' of the graph to splice is bound to '", bound->second, "', which the model does not define");
      renamed[input.name] = bound->second;
    } else if (graph_defines(graph, input.name)) {
      renamed[input.name] = input.name;
    } else {
      renamed[input.name] = input.name;
      add_graph_input(graph, input.name, input.type);
      result.new_inputs.push_back(input.name);
    }
  }
  for (const std::string& name : piece.graph.initializer_order) {
    renamed[name] = prefix + name;
    graph.set_initializer(prefix + name, piece.graph.initializers.at(name));
  }
  for (const Node& node : piece.graph.nodes) {
    for (const std::string& output : node.outputs) {
      if (!output.empty()) renamed[output] = prefix + output;
    }
  }
  auto rename = [&](const std::string& name) {
    if (name.empty()) return name;
    auto found = renamed.find(name);
    ONYX_CHECK(found != renamed.end(), ErrorCode::kInvalidModel, "the graph to splice reads '", name,
               "', which it does not define");
    return found->second;
  };
  for (const Node& node : piece.graph.nodes) {
    for (const Attribute& attribute : node.attributes) {
      ONYX_CHECK(attribute.graphs.empty() && !attribute.g, ErrorCode::kNotImplemented, node.describe(),
                 ": graph attributes are not supported in a spliced loss or metric graph");
    }
    Node copy = node;
    copy.name = prefix + (node.name.empty() ? node.op_type : node.name);
    for (std::string& input : copy.inputs) input = rename(input);
    for (std::string& output : copy.outputs) output = rename(output);
    graph.nodes.push_back(std::move(copy));
  }
  for (const ValueInfo& info : piece.graph.value_info) {
    if (renamed.count(info.name)) graph.value_info.push_back({renamed[info.name], info.type, info.doc});
  }
  for (const ValueInfo& output : piece.graph.outputs) result.outputs.push_back(rename(output.name));
  return result;
}

}  // namespace onyx::training
