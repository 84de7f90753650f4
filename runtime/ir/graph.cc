#include "runtime/ir/graph.h"

namespace onyx {

const char* attribute_kind_name(Attribute::Kind kind) {
  switch (kind) {
    case Attribute::Kind::kFloat: return "float";
    case Attribute::Kind::kInt: return "int";
    case Attribute::Kind::kString: return "string";
    case Attribute::Kind::kTensor: return "tensor";
    case Attribute::Kind::kGraph: return "graph";
    case Attribute::Kind::kSparseTensor: return "sparse_tensor";
    case Attribute::Kind::kTypeProto: return "type_proto";
    case Attribute::Kind::kFloats: return "floats";
    case Attribute::Kind::kInts: return "ints";
    case Attribute::Kind::kStrings: return "strings";
    case Attribute::Kind::kTensors: return "tensors";
    case Attribute::Kind::kGraphs: return "graphs";
    case Attribute::Kind::kSparseTensors: return "sparse_tensors";
    case Attribute::Kind::kTypeProtos: return "type_protos";
    case Attribute::Kind::kUndefined: break;
  }
  return "undefined";
}

const Attribute* Node::find_attribute(const std::string& attribute_name) const {
  for (const Attribute& attribute : attributes) {
    if (attribute.name == attribute_name) return &attribute;
  }
  return nullptr;
}

std::string display_domain(const std::string& domain) {
  return domain.empty() ? "ai.onnx" : domain;
}

std::string canonical_domain(const std::string& domain) {
  return domain == "ai.onnx" ? std::string() : domain;
}

std::string Node::describe() const {
  // The default domain goes without saying; any other is part of the op's identity.
  if (domain.empty()) return "node '" + name + "' (" + op_type + ")";
  return "node '" + name + "' (" + op_type + ", domain " + display_domain(domain) + ")";
}

const ValueInfo* Graph::find_input(const std::string& value_name) const {
  for (const ValueInfo& info : inputs) {
    if (info.name == value_name) return &info;
  }
  return nullptr;
}

const ValueInfo* Graph::find_value_info(const std::string& value_name) const {
  for (const auto* list : {&inputs, &outputs, &value_info}) {
    for (const ValueInfo& info : *list) {
      if (info.name == value_name) return &info;
    }
  }
  return nullptr;
}

void Graph::set_initializer(const std::string& value_name, Tensor tensor) {
  if (initializers.find(value_name) == initializers.end()) initializer_order.push_back(value_name);
  initializers[value_name] = std::move(tensor);
}

namespace {
template <typename Measure>
int64_t sum_over_graph(const Graph& graph, Measure measure) {
  int64_t total = 0;
  for (const auto& [name, tensor] : graph.initializers) total += measure(tensor);
  for (const Node& node : graph.nodes) {
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g) total += sum_over_graph(*attribute.g, measure);
      for (const auto& sub : attribute.graphs) total += sum_over_graph(*sub, measure);
    }
  }
  return total;
}
}  // namespace

int64_t Graph::parameter_count() const {
  return sum_over_graph(*this, [](const Tensor& t) { return t.element_count(); });
}

int64_t Graph::parameter_bytes() const {
  return sum_over_graph(*this, [](const Tensor& t) { return static_cast<int64_t>(t.byte_size()); });
}

std::optional<int64_t> Model::opset_for(const std::string& domain) const {
  auto it = opsets.find(canonical_domain(domain));
  if (it == opsets.end()) return std::nullopt;
  return it->second;
}

}  // namespace onyx
