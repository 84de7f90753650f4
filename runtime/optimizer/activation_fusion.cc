#include "runtime/optimizer/activation_fusion.h"

#include <limits>

#include "onnx_ops/node_attributes.h"
#include "onnx_ops/op_schema.h"
#include "runtime/ir/attribute_builders.h"

namespace onyx {

namespace {

// Clip's bounds when both are absent or constant one-element floats (inputs from opset 11,
// attributes before).
bool clip_bounds(const Node& node, const Graph& graph, int64_t opset, float& low, float& high) {
  low = std::numeric_limits<float>::lowest();
  high = std::numeric_limits<float>::max();
  if (opset < 11) {
    NodeAttributes attributes(node);
    low = attributes.get_float("min", low);
    high = attributes.get_float("max", high);
    return true;
  }
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    if (node.inputs[i].empty()) continue;
    auto bound = graph.initializers.find(node.inputs[i]);
    if (bound == graph.initializers.end() || graph.find_input(node.inputs[i]) != nullptr ||
        bound->second.element_count() != 1 || bound->second.dtype() != DataType::kFloat) {
      return false;
    }
    (i == 1 ? low : high) = bound->second.data<float>()[0];
  }
  return true;
}

}  // namespace

bool fused_activation_attributes(const Node& node, const Graph& graph, int64_t opset, bool with_sigmoid_family,
                                 std::vector<Attribute>& attributes) {
  if (node.inputs.empty() || node.outputs.size() != 1) return false;
  const std::string& op = node.op_type;
  // GELU: ONNX's own from opset 20, or the com.onyx node gelu_fusion.h makes of the Erf form.
  if (op == "Gelu" && ((node.domain.empty() && opset >= 20) || node.domain == kOnyxDomain)) {
    const std::string approximate = NodeAttributes(node).get_string("approximate", "none");
    if (approximate != "none" && approximate != "tanh") return false;
    attributes.push_back(make_attribute("approximate", approximate));
    attributes.push_back(make_attribute("activation", op));
    return true;
  }
  if (!node.domain.empty()) return false;
  if (op == "Clip") {
    float low, high;
    if (!clip_bounds(node, graph, opset, low, high)) return false;
    attributes.push_back(make_attribute("clip_min", low));
    attributes.push_back(make_attribute("clip_max", high));
  } else if (op == "LeakyRelu") {
    attributes.push_back(make_attribute("alpha", NodeAttributes(node).get_float("alpha", 0.01f)));
  } else if (op != "Relu" && op != "HardSwish" && !(with_sigmoid_family && (op == "Sigmoid" || op == "Tanh"))) {
    return false;
  }
  attributes.push_back(make_attribute("activation", op));
  return true;
}

}  // namespace onyx
