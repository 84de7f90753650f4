#include "training/eager_graph_call.h"

#include "runtime/common/error.h"
#include "runtime/eager/op_dispatch.h"

namespace onyx::training {

std::map<std::string, Value> call_graph_eagerly(const Model& model, const std::map<std::string, Value>& inputs) {
  const Graph& graph = model.graph;
  std::map<std::string, Value> values;
  for (const auto& [name, tensor] : graph.initializers) values[name] = tensor;
  for (const ValueInfo& input : graph.inputs) {
    auto given = inputs.find(input.name);
    if (given != inputs.end()) {
      values[input.name] = given->second;
      continue;
    }
    ONYX_CHECK(values.count(input.name), ErrorCode::kInvalidArgument, "graph '", graph.name, "': input '",
               input.name, "' not given");
  }
  for (const Node& node : graph.nodes) {
    for (const Attribute& attribute : node.attributes) {
      ONYX_CHECK(attribute.kind != Attribute::Kind::kGraph && attribute.kind != Attribute::Kind::kGraphs,
                 ErrorCode::kNotImplemented, "calling graph '", graph.name, "' eagerly: ", node.describe(),
                 " has a subgraph, which eager graph calls do not run");
    }
    std::vector<Value> node_inputs;
    node_inputs.reserve(node.inputs.size());
    for (const std::string& name : node.inputs) {
      if (name.empty()) {
        node_inputs.emplace_back();
        continue;
      }
      auto found = values.find(name);
      ONYX_CHECK(found != values.end(), ErrorCode::kInvalidArgument, "graph '", graph.name, "': ", node.describe(),
                 " reads '", name, "' before any node makes it");
      node_inputs.push_back(found->second);
    }
    const int64_t opset = model.opset_for(node.domain).value_or(0);
    const eager::OpHandle& op = eager::OpHandle::intern(node.domain, node.op_type, opset);
    std::vector<Value> outputs = eager::call_values(op, std::move(node_inputs), node.attributes, node.outputs.size());
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (!node.outputs[i].empty()) values[node.outputs[i]] = std::move(outputs[i]);
    }
  }
  std::map<std::string, Value> results;
  for (const ValueInfo& output : graph.outputs) {
    auto found = values.find(output.name);
    ONYX_CHECK(found != values.end(), ErrorCode::kInvalidArgument, "graph '", graph.name, "': output '", output.name,
               "' is never made");
    results[output.name] = found->second;
  }
  return results;
}

}  // namespace onyx::training
