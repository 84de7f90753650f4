#include "training/backward_pass.h"

#include <algorithm>
#include <cstring>

#include "runtime/common/error.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/optimizer/constant_folding.h"
#include "runtime/session/graph_checks.h"
#include "runtime/session/subgraph_compiler.h"
#include "training/gradient_rule.h"

namespace onyx::training {

void check_gradient_opset(const Model& model) {
  const int64_t opset = model.opset_for("").value_or(kMinGradientOpset);
  if (opset < kMinGradientOpset) {
    throw_error(ErrorCode::kNotImplemented, "differentiating a model needs ai.onnx opset ", kMinGradientOpset,
                " or newer, this one imports opset ", opset,
                "; convert it first (onnx.version_converter.convert_version(model, 13))");
  }
}

NameSource::NameSource(const Graph& graph) { collect(graph); }

void NameSource::collect(const Graph& graph) {
  for (const auto& info : graph.inputs) used_.insert(info.name);
  for (const auto& info : graph.outputs) used_.insert(info.name);
  for (const auto& info : graph.value_info) used_.insert(info.name);
  for (const auto& [name, tensor] : graph.initializers) used_.insert(name);
  for (const Node& node : graph.nodes) {
    used_.insert(node.name);
    for (const auto& name : node.inputs) used_.insert(name);
    for (const auto& name : node.outputs) used_.insert(name);
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g) collect(*attribute.g);
      for (const auto& graph_ptr : attribute.graphs) collect(*graph_ptr);
    }
  }
}

std::string NameSource::fresh(const std::string& hint) {
  std::string name = hint;
  while (used_.count(name)) name = hint + "_" + std::to_string(++counter_);
  used_.insert(name);
  return name;
}

namespace {

const TypeInfo kUnknownType{};

bool is_gradient_op(const Node& node) {
  return node.op_type == "Gradient" && node.domain == "ai.onnx.preview.training";
}

std::vector<std::string> all_inputs(const Node& node) {
  std::vector<std::string> inputs = node.inputs;
  for (auto& name : implicit_inputs(node)) inputs.push_back(std::move(name));
  return inputs;
}

// A Constant node's value, whichever of its attribute forms it uses.
std::optional<Tensor> constant_node_value(const Node& node) {
  for (const Attribute& a : node.attributes) {
    if (a.name == "value" && a.t.defined()) return a.t;
    if (a.name == "value_float") return Tensor::scalar<float>(a.f);
    if (a.name == "value_int") return Tensor::scalar<int64_t>(a.i);
    if (a.name == "value_floats") {
      return Tensor::from_vector<float>({static_cast<int64_t>(a.floats.size())}, a.floats);
    }
    if (a.name == "value_ints") {
      return Tensor::from_vector<int64_t>({static_cast<int64_t>(a.ints.size())}, a.ints);
    }
  }
  return std::nullopt;
}

class BackwardPassRun;

class PassRuleContext final : public GradientRuleContext {
 public:
  PassRuleContext(BackwardPassRun& run, size_t node_index, Node view,
                  std::vector<std::string> output_gradients, std::vector<bool> wanted)
      : run_(run), node_index_(node_index), view_(std::move(view)),
        output_gradients_(std::move(output_gradients)), wanted_(std::move(wanted)),
        input_gradients_(view_.inputs.size()) {}

  const Node& node() const override { return view_; }
  int64_t opset() const override;
  bool onyx_ops() const override;
  const TypeInfo& type_of(const std::string& value_name) const override;
  const Tensor* constant_value(const std::string& value_name) const override;
  std::string forward_output(size_t i) override;
  std::string output_gradient(size_t i) const override {
    return i < output_gradients_.size() ? output_gradients_[i] : std::string();
  }
  bool wants_input_gradient(size_t i) const override { return i < wanted_.size() && wanted_[i]; }
  void set_input_gradient(size_t i, const std::string& value_name) override {
    ONYX_CHECK(i < input_gradients_.size(), ErrorCode::kInvalidArgument, "gradient rule of ",
               view_.describe(), " set the gradient of input ", i, ", which does not exist");
    input_gradients_[i] = value_name;
  }
  std::vector<std::string> add_node(const std::string& op_type, std::vector<std::string> inputs,
                                    size_t output_count, std::vector<Attribute> attributes,
                                    const std::string& domain) override;
  std::string add_constant(Tensor value) override;
  Graph differentiate_subgraph(const Graph& body, const std::vector<std::string>& output_gradients,
                               const std::vector<std::string>& wrt) override;

  const std::vector<std::string>& input_gradients() const { return input_gradients_; }

 private:
  std::string base_name() const { return view_.name.empty() ? view_.op_type : view_.name; }

  BackwardPassRun& run_;
  size_t node_index_;
  Node view_;
  std::vector<std::string> output_gradients_;
  std::vector<bool> wanted_;
  std::vector<std::string> input_gradients_;
};

class BackwardPassRun {
 public:
  BackwardPassRun(Graph& graph, const InferredTypes& types, BackwardContext& context)
      : graph_(graph), types_(types), context_(context) {
    for (const Node& node : graph_.nodes) {
      if (node.op_type != "Constant" || !node.domain.empty() || node.outputs.empty()) continue;
      if (auto value = constant_node_value(node)) constant_nodes_[node.outputs[0]] = *value;
    }
  }

  std::map<std::string, std::string> run(const BackwardRequest& request);

  Graph& graph() { return graph_; }
  const Model& model() const { return context_.model; }
  NameSource& names() { return context_.names; }
  BackwardContext& context() { return context_; }
  const InferredTypes& types() const { return types_; }
  std::vector<Node>& pending() { return pending_; }

  const TypeInfo& type_of(const std::string& name) const {
    const TypeInfo* type = types_.find(name);
    return type ? *type : kUnknownType;
  }

  const Tensor* constant_value(const std::string& name) const {
    // Initializers count even when trained: rules read only non-differentiable inputs (axes,
    // shapes, scales, ratios) this way, and those keep their model value.
    if (name.empty()) return nullptr;
    auto init = graph_.initializers.find(name);
    if (init != graph_.initializers.end()) return &init->second;
    auto constant = constant_nodes_.find(name);
    if (constant != constant_nodes_.end()) return &constant->second;
    if (graph_.find_input(name) != nullptr) return nullptr;
    return context_.outer_constant ? context_.outer_constant(name) : nullptr;
  }

 private:
  bool differentiable(const std::string& name) const {
    const TypeInfo& type = type_of(name);
    if (type.kind == TypeInfo::Kind::kUnknown) return true;
    return type.is_tensor() && (type.elem_type == DataType::kUndefined ||
                                type.elem_type == DataType::kFloat ||
                                type.elem_type == DataType::kDouble ||
                                type.elem_type == DataType::kFloat16 ||
                                type.elem_type == DataType::kBFloat16);
  }

  // The summed gradient of a value ("" when none flowed into it).
  std::string total_gradient(const std::string& value);

  Graph& graph_;
  const InferredTypes& types_;
  BackwardContext& context_;
  std::map<std::string, Tensor> constant_nodes_;
  std::map<std::string, std::vector<std::string>> contributions_;
  std::vector<Node> pending_;  // backward nodes; appended after the walk so node refs stay valid
};

bool PassRuleContext::onyx_ops() const { return run_.context().onyx_ops; }

int64_t PassRuleContext::opset() const {
  return run_.model().opset_for(view_.domain).value_or(0);
}

const TypeInfo& PassRuleContext::type_of(const std::string& value_name) const {
  return run_.type_of(value_name);
}

const Tensor* PassRuleContext::constant_value(const std::string& value_name) const {
  return run_.constant_value(value_name);
}

std::string PassRuleContext::forward_output(size_t i) {
  Node& forward = run_.graph().nodes[node_index_];
  if (i < forward.outputs.size() && !forward.outputs[i].empty()) return forward.outputs[i];
  if (forward.outputs.size() <= i) forward.outputs.resize(i + 1);
  forward.outputs[i] = run_.names().fresh(base_name() + "_output_" + std::to_string(i));
  view_.outputs = forward.outputs;
  return forward.outputs[i];
}

std::vector<std::string> PassRuleContext::add_node(const std::string& op_type,
                                                   std::vector<std::string> inputs,
                                                   size_t output_count,
                                                   std::vector<Attribute> attributes,
                                                   const std::string& domain) {
  Node node;
  node.op_type = op_type;
  node.domain = domain;
  node.name = run_.names().fresh(base_name() + "_grad/" + op_type);
  node.inputs = std::move(inputs);
  node.attributes = std::move(attributes);
  for (size_t k = 0; k < output_count; ++k) {
    node.outputs.push_back(run_.names().fresh(node.name + (output_count > 1 ? ":" + std::to_string(k) : "")));
  }
  std::vector<std::string> outputs = node.outputs;
  run_.pending().push_back(std::move(node));
  return outputs;
}

std::string PassRuleContext::add_constant(Tensor value) {
  std::string name = run_.names().fresh(base_name() + "_grad/constant");
  run_.graph().set_initializer(name, std::move(value));
  return name;
}

Graph PassRuleContext::differentiate_subgraph(const Graph& body,
                                              const std::vector<std::string>& output_gradients,
                                              const std::vector<std::string>& wrt) {
  Graph graph = body;
  graph.name = run_.names().fresh(body.name.empty() ? base_name() + "_grad_body" : body.name + "_grad");
  std::set<std::string> outer_names;
  for (const auto& [name, type] : run_.types().types) outer_names.insert(name);
  for (const auto& [name, tensor] : run_.graph().initializers) outer_names.insert(name);
  validate_and_sort_graph(graph, outer_names);
  InferredTypes types = infer_types(graph, run_.model(), &run_.types(), *run_.context().ops);

  BackwardRequest request;
  for (size_t j = 0; j < graph.outputs.size() && j < output_gradients.size(); ++j) {
    if (!output_gradients[j].empty()) request.seeds.emplace_back(graph.outputs[j].name, output_gradients[j]);
  }
  request.wrt = wrt;
  BackwardContext context{run_.model(), run_.names(), &run_.types(),
                          [this](const std::string& name) { return run_.constant_value(name); },
                          run_.context().ops};
  std::map<std::string, std::string> gradients = append_backward(graph, types, request, context);

  graph.outputs.clear();
  for (const std::string& value : wrt) {
    const TypeInfo& type = run_.type_of(value);
    std::string gradient = gradients[value];
    Node node;
    node.name = run_.names().fresh(graph.name + "/" + value + "_grad");
    if (gradient.empty()) {  // the body does not depend on it: zeros of its shape
      ONYX_CHECK(type.is_tensor() && type.elem_type != DataType::kUndefined,
                 ErrorCode::kNotImplemented, "gradient of ", view_.describe(),
                 ": the element type of '", value, "' is not known");
      std::string shape = run_.names().fresh(node.name + "/shape");
      Node shape_node;
      shape_node.op_type = "Shape";
      shape_node.name = shape;
      shape_node.inputs = {value};
      shape_node.outputs = {shape};
      graph.nodes.push_back(std::move(shape_node));
      Tensor zero(type.elem_type, {1});
      std::memset(zero.mutable_raw_data(), 0, zero.byte_size());
      node.op_type = "ConstantOfShape";
      node.inputs = {shape};
      node.attributes = {make_attribute("value", zero)};
    } else {
      node.op_type = "Identity";
      node.inputs = {gradient};
    }
    node.outputs = {run_.names().fresh(value + "_grad")};
    graph.outputs.push_back({node.outputs[0], type, ""});
    graph.nodes.push_back(std::move(node));
  }
  return graph;
}

std::string BackwardPassRun::total_gradient(const std::string& value) {
  auto it = contributions_.find(value);
  if (it == contributions_.end() || it->second.empty()) return "";
  if (it->second.size() > 1) {
    Node sum;
    sum.op_type = "Sum";
    sum.name = names().fresh(value + "_grad_sum");
    sum.inputs = it->second;
    sum.outputs = {names().fresh(value + "_grad_sum")};
    it->second = sum.outputs;
    pending_.push_back(std::move(sum));
  }
  return it->second.front();
}

std::map<std::string, std::string> BackwardPassRun::run(const BackwardRequest& request) {
  const std::set<std::string>& stops = request.stops;
  // Values that depend on a value being differentiated.
  std::set<std::string> depends;
  for (const auto& value : request.wrt) {
    if (!stops.count(value)) depends.insert(value);
  }
  const size_t forward_count = graph_.nodes.size();
  std::vector<std::vector<std::string>> node_inputs(forward_count);
  for (size_t n = 0; n < forward_count; ++n) {
    const Node& node = graph_.nodes[n];
    node_inputs[n] = all_inputs(node);
    if (is_gradient_op(node)) continue;
    bool reached = std::any_of(node_inputs[n].begin(), node_inputs[n].end(), [&](const std::string& in) {
      return !in.empty() && depends.count(in) && !stops.count(in);
    });
    if (!reached) continue;
    for (const auto& out : node.outputs) {
      if (!out.empty() && differentiable(out)) depends.insert(out);
    }
  }
  for (const auto& [value, gradient] : request.seeds) contributions_[value].push_back(gradient);

  for (size_t n = forward_count; n-- > 0;) {
    const std::vector<std::string>& inputs = node_inputs[n];
    std::vector<bool> wanted(inputs.size());
    bool any_wanted = false;
    for (size_t i = 0; i < inputs.size(); ++i) {
      wanted[i] = !inputs[i].empty() && depends.count(inputs[i]) && !stops.count(inputs[i]);
      any_wanted = any_wanted || wanted[i];
    }
    if (!any_wanted || is_gradient_op(graph_.nodes[n])) continue;
    std::vector<std::string> output_gradients;
    bool any_gradient = false;
    for (const auto& out : graph_.nodes[n].outputs) {
      output_gradients.push_back(out.empty() ? std::string() : total_gradient(out));
      any_gradient = any_gradient || !output_gradients.back().empty();
    }
    if (!any_gradient) continue;

    Node view = graph_.nodes[n];
    view.inputs = inputs;
    const GradientRule* rule = context_.ops->gradient_rules().find(view.domain, view.op_type);
    if (rule == nullptr) {
      throw_error(ErrorCode::kNotImplemented, "no gradient rule for op ", view.op_type,
                  " (domain ", display_domain(view.domain), "), needed by ", view.describe(),
                  " on the path from the differentiated values to the loss");
    }
    PassRuleContext context(*this, n, std::move(view), std::move(output_gradients), wanted);
    (*rule)(context);
    const auto& gradients = context.input_gradients();
    for (size_t i = 0; i < gradients.size(); ++i) {
      if (!gradients[i].empty() && wanted[i]) contributions_[inputs[i]].push_back(gradients[i]);
    }
  }

  std::map<std::string, std::string> result;
  for (const auto& value : request.wrt) result[value] = stops.count(value) ? "" : total_gradient(value);
  for (Node& node : pending_) graph_.nodes.push_back(std::move(node));
  pending_.clear();
  return result;
}

}  // namespace

std::map<std::string, std::string> append_backward(Graph& graph, const InferredTypes& types,
                                                   const BackwardRequest& request,
                                                   BackwardContext& context) {
  BackwardPassRun run(graph, types, context);
  return run.run(request);
}

StaticFacts static_facts(const Model& model, const OpRegistry& ops) {
  StaticFacts facts;
  facts.types = infer_types(model.graph, model, nullptr, ops);
  Model folded = model;
  if (fold_constants(folded.graph, folded, facts.types) == 0) return facts;
  facts.types = infer_types(folded.graph, folded, nullptr, ops);
  for (const auto& [name, tensor] : folded.graph.initializers) {
    bool computed = model.graph.initializers.count(name) == 0;
    if (computed && !dtype_is_float(tensor.dtype())) facts.constants.emplace(name, tensor);
  }
  return facts;
}

}  // namespace onyx::training
