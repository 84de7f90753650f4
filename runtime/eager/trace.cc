#include "runtime/eager/trace.h"

#include <algorithm>
#include <atomic>
#include <set>

#include "onnx_ops/attribute_checks.h"
#include "onnx_ops/op_schema.h"

namespace onyx::eager {

namespace {
thread_local TraceContext* current = nullptr;
std::atomic<uint64_t> next_trace_id{1};
}  // namespace

TraceContext* current_trace() { return current; }

Shape shape_of_type(const TypeInfo& type) {
  Shape shape;
  if (!type.shape) return shape;
  for (const Dim& dim : *type.shape) shape.push_back(dim.is_known() ? dim.value : -1);
  return shape;
}

TypeInfo static_type(const Tensor& tensor) {
  if (tensor.is_symbolic()) {
    auto* value = static_cast<const TracedValue*>(tensor.symbolic_handle().get());
    return value->type;
  }
  return TypeInfo::tensor_of_shape(tensor.dtype(), tensor.shape());
}

TraceContext::TraceContext() : id_(next_trace_id++), previous_(current) {
  scopes_.push_back({std::make_shared<Graph>(), next_scope_id_++});
  scopes_.back().graph->name = "traced";
  current = this;
}

TraceContext::~TraceContext() { current = previous_; }

std::string TraceContext::fresh_name(const std::string& prefix) {
  return prefix + "_" + std::to_string(next_name_++);
}

Tensor TraceContext::symbolic_value(const std::string& name, const TypeInfo& type, bool is_scope_input) {
  auto value = std::make_shared<TracedValue>();
  value->name = name;
  value->type = type;
  value->trace_id = id_;
  value->scope_id = scopes_.back().id;
  value->is_scope_input = is_scope_input;
  DataType dtype = type.kind == TypeInfo::Kind::kTensor ? type.elem_type : DataType::kUndefined;
  return Tensor::symbolic(dtype, shape_of_type(type), std::move(value));
}

Tensor TraceContext::add_input(const std::string& name, const TypeInfo& type) {
  graph().inputs.push_back({name, type, ""});
  return symbolic_value(name, type, true);
}

const TracedValue& TraceContext::traced_value(const Tensor& tensor) const {
  auto* value = static_cast<const TracedValue*>(tensor.symbolic_handle().get());
  if (value->trace_id != id_) {
    throw_error(ErrorCode::kInvalidArgument, "symbolic tensor '", value->name,
                "' belongs to another trace: a traced function cannot use the symbolic tensors "
                "of a trace that has ended or of an enclosing onyx::function");
  }
  bool visible = std::any_of(scopes_.begin(), scopes_.end(),
                             [&](const Scope& scope) { return scope.id == value->scope_id; });
  if (!visible) {
    throw_error(ErrorCode::kInvalidArgument, "symbolic tensor '", value->name,
                "' was computed inside a loop or branch body that has ended; return it from the "
                "body instead");
  }
  return *value;
}

std::string TraceContext::capture_constant(const Tensor& tensor) {
  if (!tensor.device().is_cpu()) {
    throw_error(ErrorCode::kNotImplemented, "tracing: a captured ", tensor.device().to_string(),
                " tensor cannot become a model constant in this build");
  }
  auto key = std::make_tuple(tensor.raw_data(), tensor.dtype(), tensor.shape());
  auto it = constants_.find(key);
  if (it != constants_.end()) return it->second;
  std::string name = fresh_name("const");
  // Constants live in the main graph; bodies read them from the outer scope.
  scopes_.front().graph->set_initializer(name, tensor);
  constants_.emplace(std::move(key), name);
  return name;
}

std::string TraceContext::value_name(const Tensor& tensor) {
  if (tensor.is_symbolic()) return traced_value(tensor).name;
  return capture_constant(tensor);
}

std::vector<Value> TraceContext::record(const OpHandle& op, const std::vector<Value>& inputs,
                                        std::span<const Attribute> attributes, size_t output_count,
                                        const std::vector<TypeInfo>* output_types) {
  Node node;
  node.name = fresh_name(op.op_type());
  node.op_type = op.op_type();
  node.domain = op.domain();
  node.attributes.assign(attributes.begin(), attributes.end());
  std::vector<TypeInfo> input_types(inputs.size());
  std::vector<const TypeInfo*> type_pointers(inputs.size(), nullptr);
  std::vector<const Tensor*> constants(inputs.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value& input = inputs[i];
    if (input.is_none()) {
      node.inputs.emplace_back();
      continue;
    }
    if (input.is_sequence()) {
      throw_error(ErrorCode::kNotImplemented, "tracing ", op.describe(),
                  ": sequence values cannot be traced yet; call sequence ops outside onyx::function");
    }
    const Tensor& tensor = input.tensor();
    node.inputs.push_back(value_name(tensor));
    input_types[i] = static_type(tensor);
    type_pointers[i] = &input_types[i];
    if (!tensor.is_symbolic()) constants[i] = &tensor;
  }
  for (size_t i = 0; i < output_count; ++i) node.outputs.push_back(fresh_name("v"));

  InferenceContext context(node, op.opset(), type_pointers, constants);
  try {
    check_node_attributes(node, op.opset(), type_pointers);
    if (const ShapeRule* rule = ShapeRuleRegistry::global().find(node.domain, node.op_type)) (*rule)(context);
  } catch (const Error& error) {
    throw Error(error.code(), "tracing " + op.describe() + ": " + error.what());
  }
  int64_t& opset = opsets_[node.domain];
  opset = std::max(opset, op.opset());

  std::vector<Value> outputs;
  for (size_t i = 0; i < output_count; ++i) {
    const TypeInfo& type = output_types && i < output_types->size() ? (*output_types)[i]
                                                                   : context.output_types()[i];
    outputs.emplace_back(symbolic_value(node.outputs[i], type, false));
  }
  graph().nodes.push_back(std::move(node));
  return outputs;
}

void TraceContext::begin_scope(const std::string& graph_name) {
  auto body = std::make_shared<Graph>();
  body->name = fresh_name(graph_name);
  scopes_.push_back({std::move(body), next_scope_id_++});
}

void TraceContext::set_outputs(Graph& target, const std::vector<Tensor>& outputs,
                               const std::vector<std::string>& names) {
  std::set<std::string> used;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& output = outputs[i];
    if (!output.defined() && !output.is_symbolic()) {
      throw_error(ErrorCode::kInvalidArgument, "traced output ", i, " is an undefined tensor");
    }
    std::string name;
    TypeInfo type = static_type(output);
    bool computed_here = false;
    if (output.is_symbolic()) {
      const TracedValue& value = traced_value(output);
      name = value.name;
      // A body may hand one of its own inputs straight back (a Loop's condition passed
      // through): ONNX allows a graph output to name a graph input, which saves the Identity
      // node an iteration would otherwise run. The main graph keeps Identity so its outputs
      // get the requested names.
      computed_here = value.scope_id == scopes_.back().id && (!value.is_scope_input || scopes_.size() > 1);
    } else {
      name = capture_constant(output);
    }
    std::string wanted = i < names.size() && !names[i].empty() ? names[i] : "";
    if (!computed_here || used.count(name) || !wanted.empty()) {
      // A graph output must be a distinct value computed in its own graph.
      Node identity;
      identity.name = fresh_name("Identity");
      identity.op_type = "Identity";
      identity.inputs = {name};
      name = wanted.empty() ? fresh_name("v") : wanted;
      identity.outputs = {name};
      target.nodes.push_back(std::move(identity));
    }
    used.insert(name);
    target.outputs.push_back({name, type, ""});
  }
}

std::shared_ptr<Graph> TraceContext::end_scope(const std::vector<Tensor>& outputs) {
  if (scopes_.size() < 2) throw_error(ErrorCode::kRuntimeFailure, "end_scope without begin_scope");
  std::shared_ptr<Graph> body = scopes_.back().graph;
  set_outputs(*body, outputs, {});
  scopes_.pop_back();
  return body;
}

void TraceContext::abandon_scope() {
  if (scopes_.size() > 1) scopes_.pop_back();
}

namespace {
void collect_reads(const Graph& graph, std::set<std::string>& reads) {
  for (const Node& node : graph.nodes) {
    reads.insert(node.inputs.begin(), node.inputs.end());
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g) collect_reads(*attribute.g, reads);
      for (const auto& body : attribute.graphs) collect_reads(*body, reads);
    }
  }
  for (const ValueInfo& output : graph.outputs) reads.insert(output.name);
}

// Constants captured by a body that was traced again with relaxed types (or by code whose
// result was dropped) are read by nothing: the model leaves them out.
void drop_unread_initializers(Graph& graph) {
  std::set<std::string> reads;
  collect_reads(graph, reads);
  std::vector<std::string> kept;
  for (const std::string& name : graph.initializer_order) {
    if (reads.count(name)) {
      kept.push_back(name);
    } else {
      graph.initializers.erase(name);
    }
  }
  graph.initializer_order = std::move(kept);
}
}  // namespace

Model TraceContext::finish(const std::vector<Tensor>& outputs, const std::vector<std::string>& output_names) {
  if (scopes_.size() != 1) throw_error(ErrorCode::kRuntimeFailure, "trace finished inside a body");
  std::vector<std::string> names = output_names;
  names.resize(outputs.size());
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) names[i] = "output_" + std::to_string(i);
  }
  set_outputs(graph(), outputs, names);
  Model model;
  model.ir_version = 10;
  model.producer_name = "onyx";
  model.producer_version = "eager trace";
  model.opsets = opsets_;
  if (!model.opsets.count("")) model.opsets[""] = kLatestOnnxOpset;  // Identity outputs
  model.graph = std::move(graph());
  drop_unread_initializers(model.graph);
  return model;
}

}  // namespace onyx::eager
