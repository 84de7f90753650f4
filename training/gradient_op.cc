// The ONNX `Gradient` op (ai.onnx.preview.training, opset 1): outputs d y / d xs[i] for the
// graph it sits in, holding the values named in zs constant. It is expanded when a session is
// created: the backward nodes computed by the gradient builder's pass replace the node.
// For a non-scalar y the gradient is that of sum(y) (a seed of ones), as in the ONNX spec's
// reference implementation.
#include <algorithm>
#include <cstring>

#include "onnx_ops/node_attributes.h"
#include "runtime/common/error.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/graph_checks.h"
#include "runtime/session/model_expansions.h"
#include "runtime/session/type_inference.h"
#include "training/backward_pass.h"

namespace onyx::training {
namespace {

constexpr const char* kPreviewTrainingDomain = "ai.onnx.preview.training";

bool is_gradient_node(const Node& node) {
  return node.op_type == "Gradient" && node.domain == kPreviewTrainingDomain;
}

Node make_node(std::string name, std::string op, std::vector<std::string> inputs,
               std::vector<std::string> outputs, std::vector<Attribute> attributes = {}) {
  return Node{std::move(name), std::move(op), "", std::move(inputs), std::move(outputs), std::move(attributes), ""};
}

Tensor filled(DataType type, double value) {
  switch (type) {
    case DataType::kFloat: return Tensor::scalar<float>(static_cast<float>(value));
    case DataType::kDouble: return Tensor::scalar<double>(value);
    default: throw_error(ErrorCode::kNotImplemented, "Gradient: y must be float or double, got ", dtype_name(type));
  }
}

void expand_gradient_node(Graph& graph, const Model& model, const StaticFacts& facts,
                          const Node& gradient, NameSource& names) {
  const InferredTypes& types = facts.types;
  NodeAttributes attributes(gradient);
  const std::vector<std::string> xs = attributes.get_strings("xs");
  const std::string y = attributes.require_string("y");
  const std::vector<std::string> zs = attributes.get_strings("zs");
  ONYX_CHECK(xs.size() == gradient.outputs.size(), ErrorCode::kInvalidModel, gradient.describe(), ": ",
             xs.size(), " names in xs but ", gradient.outputs.size(), " outputs");
  const TypeInfo* y_type = types.find(y);
  ONYX_CHECK(y_type != nullptr && y_type->is_tensor(), ErrorCode::kInvalidModel, gradient.describe(),
             ": y '", y, "' is not a tensor of the graph");

  // The seed: ones shaped like y.
  std::string one = names.fresh(y + "_grad_one");
  graph.set_initializer(one, filled(y_type->elem_type, 1.0));
  std::string shape = names.fresh(y + "_shape");
  std::string seed = names.fresh(y + "_grad_seed");
  graph.nodes.push_back(make_node(shape, "Shape", {y}, {shape}));
  graph.nodes.push_back(make_node(seed, "Expand", {one, shape}, {seed}));

  BackwardRequest request;
  request.seeds.emplace_back(y, seed);
  request.wrt = xs;
  request.stops.insert(zs.begin(), zs.end());
  BackwardContext context{model, names, nullptr, [&](const std::string& name) -> const Tensor* {
                            auto it = facts.constants.find(name);
                            return it == facts.constants.end() ? nullptr : &it->second;
                          }};
  std::map<std::string, std::string> gradients = append_backward(graph, types, request, context);

  for (size_t i = 0; i < xs.size(); ++i) {
    const std::string& output = gradient.outputs[i];
    if (output.empty()) continue;
    const std::string& value = gradients[xs[i]];
    if (!value.empty()) {
      graph.nodes.push_back(make_node(names.fresh(output + "_identity"), "Identity", {value}, {output}));
      continue;
    }
    // y does not depend on xs[i]: zeros of its shape.
    const TypeInfo* x_type = types.find(xs[i]);
    ONYX_CHECK(x_type != nullptr && x_type->is_tensor(), ErrorCode::kInvalidModel, gradient.describe(),
               ": '", xs[i], "' in xs is not a tensor of the graph");
    std::string x_shape = names.fresh(xs[i] + "_shape");
    graph.nodes.push_back(make_node(x_shape, "Shape", {xs[i]}, {x_shape}));
    Tensor zero = filled(x_type->elem_type, 0.0).reshaped({1});
    graph.nodes.push_back(make_node(names.fresh(output + "_zeros"), "ConstantOfShape", {x_shape}, {output},
                                    {make_attribute("value", zero)}));
  }
}

void expand_gradient_ops(Model& model) {
  Graph& graph = model.graph;
  if (std::none_of(graph.nodes.begin(), graph.nodes.end(), is_gradient_node)) return;
  check_gradient_opset(model);
  validate_and_sort_graph(graph);
  const StaticFacts facts = static_facts(model);
  NameSource names(graph);
  std::vector<Node> gradient_nodes;
  for (const Node& node : graph.nodes) {
    if (is_gradient_node(node)) gradient_nodes.push_back(node);
  }
  for (const Node& node : gradient_nodes) expand_gradient_node(graph, model, facts, node, names);
  graph.nodes.erase(std::remove_if(graph.nodes.begin(), graph.nodes.end(), is_gradient_node), graph.nodes.end());
}

ONYX_REGISTER_MODEL_EXPANSION("Gradient", expand_gradient_ops);

}  // namespace
}  // namespace onyx::training
