#include "runtime/extensions/gradient_template.h"

#include <map>
#include <memory>
#include <set>

#include "onnx/onnx-ml.pb.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/ir/model_loader.h"

namespace onyx {

namespace {

// Checks once, when the op is registered, that every name a template node reads is defined.
void check_template(const Graph& graph, const std::string& op) {
  std::set<std::string> defined;
  for (const auto& input : graph.inputs) defined.insert(input.name);
  for (const auto& [name, value] : graph.initializers) defined.insert(name);
  for (const Node& node : graph.nodes) {
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g || !attribute.graphs.empty()) {
        throw_error(ErrorCode::kInvalidArgument, "gradient template of ", op, ": ", node.describe(),
                    " has a subgraph, which templates do not support");
      }
    }
    for (const auto& input : node.inputs) {
      if (!input.empty() && !defined.count(input)) {
        throw_error(ErrorCode::kInvalidArgument, "gradient template of ", op, ": ", node.describe(), " reads '",
                    input, "', which is neither a template input, an initializer nor an earlier node's output");
      }
    }
    defined.insert(node.outputs.begin(), node.outputs.end());
  }
  for (const auto& output : graph.outputs) {
    if (!output.name.empty() && !defined.count(output.name)) {
      throw_error(ErrorCode::kInvalidArgument, "gradient template of ", op, ": output '", output.name,
                  "' is not defined");
    }
  }
}

// Zeros shaped like `value`, for an output gradient that does not flow.
std::string zeros_like(training::GradientRuleContext& ctx, const std::string& value) {
  DataType dtype = ctx.type_of(value).elem_type;
  if (dtype == DataType::kUndefined) dtype = DataType::kFloat;
  Tensor zero(dtype, {1});
  std::memset(zero.mutable_raw_data(), 0, zero.byte_size());
  Attribute fill = make_attribute("value", zero);
  return ctx.add("ConstantOfShape", {ctx.add("Shape", {value})}, {fill});
}

// Attributes with ref_attr_name take the forward node's attribute of that name; one the
// forward node lacks is left out, as in ONNX functions.
std::vector<Attribute> bind_attributes(const Node& template_node, const Node& forward) {
  std::vector<Attribute> bound;
  for (const Attribute& attribute : template_node.attributes) {
    if (attribute.ref_attr_name.empty()) {
      bound.push_back(attribute);
    } else if (const Attribute* value = forward.find_attribute(attribute.ref_attr_name)) {
      bound.push_back(*value);
      bound.back().name = attribute.name;
    }
  }
  return bound;
}

void instantiate(const Graph& graph, const std::string& op, training::GradientRuleContext& ctx) {
  size_t n_in = ctx.input_count();
  size_t n_out = ctx.output_count();
  if (graph.inputs.size() != n_in + 2 * n_out || graph.outputs.size() != n_in) {
    throw_error(ErrorCode::kInvalidArgument, ctx.node().describe(), ": the gradient template of ", op, " has ",
                graph.inputs.size(), " inputs and ", graph.outputs.size(), " outputs, but a node with ", n_in,
                " inputs and ", n_out, " outputs needs ", n_in + 2 * n_out, " inputs (inputs, outputs, output "
                "gradients) and ", n_in, " outputs (input gradients)");
  }
  std::map<std::string, std::string> names;  // template name -> name in the gradient graph
  for (size_t i = 0; i < n_in; ++i) names[graph.inputs[i].name] = ctx.input(i);
  for (size_t i = 0; i < n_out; ++i) {
    names[graph.inputs[n_in + i].name] = ctx.output(i);
    std::string gradient = ctx.output_gradient(i);
    names[graph.inputs[n_in + n_out + i].name] = gradient.empty() ? zeros_like(ctx, ctx.output(i)) : gradient;
  }
  for (const auto& name : graph.initializer_order) names[name] = ctx.add_constant(graph.initializers.at(name));
  for (const Node& node : graph.nodes) {
    std::vector<std::string> inputs;
    for (const auto& input : node.inputs) inputs.push_back(input.empty() ? "" : names.at(input));
    auto outputs = ctx.add_node(node.op_type, inputs, node.outputs.size(), bind_attributes(node, ctx.node()), node.domain);
    for (size_t k = 0; k < outputs.size(); ++k) {
      if (!node.outputs[k].empty()) names[node.outputs[k]] = outputs[k];
    }
  }
  for (size_t i = 0; i < n_in; ++i) {
    const std::string& gradient = graph.outputs[i].name;
    if (!gradient.empty() && ctx.wants_input_gradient(i)) ctx.set_input_gradient(i, names.at(gradient));
  }
}

}  // namespace

training::GradientRule gradient_rule_from_template(Graph graph, std::string op) {
  check_template(graph, op);
  auto shared = std::make_shared<const Graph>(std::move(graph));
  return [shared, op = std::move(op)](training::GradientRuleContext& ctx) { instantiate(*shared, op, ctx); };
}

training::GradientRule gradient_rule_from_template(const void* data, size_t size, std::string op) {
  onnx::GraphProto proto;
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !proto.ParseFromArray(data, static_cast<int>(size))) {
    throw_error(ErrorCode::kInvalidArgument, "gradient template of ", op, ": ", size,
                " bytes that do not parse as an ONNX GraphProto");
  }
  return gradient_rule_from_template(graph_from_proto(proto, {}), std::move(op));
}

}  // namespace onyx
