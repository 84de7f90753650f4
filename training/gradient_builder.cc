#include "training/gradient_builder.h"

#include <algorithm>
#include <set>

#include "runtime/common/error.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/graph_checks.h"
#include "runtime/session/type_inference.h"
#include "training/backward_pass.h"
#include "training/conv_weight_gradient.h"
#include "training/training_mode.h"

namespace onyx::training {

namespace {

bool is_float(DataType type) {
  return type == DataType::kFloat || type == DataType::kDouble || type == DataType::kFloat16 ||
         type == DataType::kBFloat16;
}

bool uses_op(const Graph& graph, const std::string& op_type) {
  for (const Node& node : graph.nodes) {
    if (node.op_type == op_type && node.domain.empty()) return true;
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g && uses_op(*attribute.g, op_type)) return true;
      for (const auto& sub : attribute.graphs) {
        if (uses_op(*sub, op_type)) return true;
      }
    }
  }
  return false;
}

// Gradients that add into repeated positions (overlapping MaxPool windows, Gather with repeated
// indices, reflect/edge Pad) need ScatterElements' reduction, new in opset 16. No op changed
// meaning from 14 to 16 except RoiAlign's default coordinate mode, so a model at 14 or 15
// (PyTorch 1.13's default export) is declared at 16 unless it uses RoiAlign.
void raise_opset_for_scatter_add(Model& model) {
  auto it = model.opsets.find("");
  if (it == model.opsets.end() || (it->second != 14 && it->second != 15)) return;
  if (!uses_op(model.graph, "RoiAlign")) it->second = 16;
}

Tensor ones_of_shape(DataType type, const Shape& shape) {
  switch (type) {
    case DataType::kFloat: return Tensor::from_vector<float>(shape, std::vector<float>(shape_element_count(shape), 1.0f));
    case DataType::kDouble: return Tensor::from_vector<double>(shape, std::vector<double>(shape_element_count(shape), 1.0));
    default:
      throw_error(ErrorCode::kNotImplemented, "the loss must be float or double, got ", dtype_name(type));
  }
}

const TypeInfo& type_of_value(const InferredTypes& types, const std::string& name) {
  static const TypeInfo unknown;
  const TypeInfo* type = types.find(name);
  return type ? *type : unknown;
}

}  // namespace

GradientGraph build_gradient_graph(const Model& forward, const GradientGraphOptions& options) {
  ONYX_CHECK(!options.loss.empty(), ErrorCode::kInvalidArgument,
             "build_gradient_graph: no loss value named");
  check_gradient_opset(forward);
  GradientGraph result;
  result.model = forward;
  Model& model = result.model;
  Graph& graph = model.graph;
  NameSource names(graph);
  raise_opset_for_scatter_add(model);
  if (options.onyx_ops) model.opsets[kTrainingDomain] = 1;  // rules may emit ConvWeightGrad, MaxPoolGrad, ReluGrad
  validate_and_sort_graph(graph);
  const OpRegistry& ops = options.ops ? *options.ops : OpRegistry::global();
  // The training-mode rewrite adds constants (epsilon, momentum) that are never parameters.
  const std::vector<std::string> forward_initializers = graph.initializer_order;
  if (options.training_mode) {
    result.state_updates = switch_to_training_mode(model, infer_types(graph, model, nullptr, ops), names,
                                                   options.sync_batch_norm_communicator);
    validate_and_sort_graph(graph);
  }
  StaticFacts facts = static_facts(model, ops);
  const InferredTypes& types = facts.types;

  const TypeInfo* loss_type = types.find(options.loss);
  ONYX_CHECK(loss_type != nullptr, ErrorCode::kInvalidArgument, "build_gradient_graph: the loss '",
             options.loss, "' is not a value of the graph");
  ONYX_CHECK(loss_type->is_tensor() && is_float(loss_type->elem_type), ErrorCode::kInvalidArgument,
             "build_gradient_graph: the loss '", options.loss, "' must be a float tensor, it is ",
             loss_type->to_string());
  if (loss_type->has_static_shape()) {
    ONYX_CHECK(shape_element_count(loss_type->static_shape()) == 1, ErrorCode::kInvalidArgument,
               "build_gradient_graph: the loss '", options.loss, "' must have one element, it is ",
               loss_type->to_string());
  }

  std::set<std::string> frozen(options.frozen.begin(), options.frozen.end());
  BackwardRequest request;
  const bool explicit_trainable = !options.trainable.empty();
  if (explicit_trainable) {
    for (const auto& name : options.trainable) {
      ONYX_CHECK(graph.initializers.count(name) || graph.find_input(name), ErrorCode::kInvalidArgument,
                 "build_gradient_graph: trainable value '", name,
                 "' is neither an initializer nor a graph input");
      const TypeInfo& type = type_of_value(types, name);
      ONYX_CHECK(type.is_tensor() && is_float(type.elem_type), ErrorCode::kInvalidArgument,
                 "build_gradient_graph: trainable value '", name, "' must be a float tensor, it is ",
                 type.to_string());
      if (!frozen.count(name)) request.wrt.push_back(name);
    }
  } else {
    for (const auto& name : forward_initializers) {
      if (!frozen.count(name) && is_float(graph.initializers.at(name).dtype())) request.wrt.push_back(name);
    }
  }
  request.stops = frozen;

  // The seed dLoss/dLoss = 1, of the loss's shape.
  std::string seed;
  if (loss_type->has_static_shape()) {
    seed = names.fresh(options.loss + "_grad_seed");
    graph.set_initializer(seed, ones_of_shape(loss_type->elem_type, loss_type->static_shape()));
  } else {
    std::string one = names.fresh(options.loss + "_grad_one");
    graph.set_initializer(one, ones_of_shape(loss_type->elem_type, {}));
    std::string shape = names.fresh(options.loss + "_shape");
    seed = names.fresh(options.loss + "_grad_seed");
    graph.nodes.push_back(Node{shape, "Shape", "", {options.loss}, {shape}, {}, ""});
    graph.nodes.push_back(Node{seed, "Expand", "", {one, shape}, {seed}, {}, ""});
  }
  request.seeds.emplace_back(options.loss, seed);

  BackwardContext context{model, names, nullptr,
                          [&](const std::string& name) -> const Tensor* {
                            auto it = facts.constants.find(name);
                            return it == facts.constants.end() ? nullptr : &it->second;
                          },
                          &ops, options.onyx_ops};
  std::map<std::string, std::string> gradients = append_backward(graph, types, request, context);

  bool loss_is_output = std::any_of(graph.outputs.begin(), graph.outputs.end(),
                                    [&](const ValueInfo& info) { return info.name == options.loss; });
  if (!loss_is_output) graph.outputs.push_back({options.loss, *loss_type, ""});

  for (const auto& name : request.wrt) {
    const std::string& gradient = gradients[name];
    if (gradient.empty() && !explicit_trainable) continue;  // no gradient path: not trainable
    const TypeInfo& type = type_of_value(types, name);
    std::string output = names.fresh(name + "_grad");
    Node node;
    node.name = output;
    node.outputs = {output};
    if (gradient.empty()) {  // listed but the loss does not depend on it: zeros
      std::string shape = names.fresh(name + "_shape");
      graph.nodes.push_back(Node{shape, "Shape", "", {name}, {shape}, {}, ""});
      Tensor zero(type.elem_type, {1});
      std::fill_n(static_cast<char*>(zero.mutable_raw_data()), zero.byte_size(), 0);
      node.op_type = "ConstantOfShape";
      node.inputs = {shape};
      node.attributes = {make_attribute("value", zero)};
    } else {
      node.op_type = "Identity";
      node.inputs = {gradient};
    }
    graph.nodes.push_back(std::move(node));
    graph.outputs.push_back({output, type, ""});
    result.gradients.emplace_back(name, output);
  }
  for (const auto& [state, update] : result.state_updates) {
    graph.outputs.push_back({update, type_of_value(types, state), ""});
  }
  return result;
}

}  // namespace onyx::training
