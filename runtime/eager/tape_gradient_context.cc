#include "runtime/eager/tape_gradient_context.h"

#include "runtime/eager/trace.h"

namespace onyx::eager {

TapeGradientContext::TapeGradientContext(GradientTape& tape, const GradientTape::Entry& entry,
                                         const std::set<std::string>& leads_to_source,
                                         GradientState& state)
    : tape_(tape), entry_(entry), leads_to_source_(leads_to_source), state_(state) {
  node_.name = "tape";
  node_.op_type = entry.op->op_type();
  node_.domain = entry.op->domain();
  node_.inputs = entry.inputs;
  node_.outputs = entry.outputs;
  node_.attributes = entry.attributes;
}

const Value& TapeGradientContext::value(const std::string& name) const {
  auto scratch = state_.scratch.find(name);
  if (scratch != state_.scratch.end()) return scratch->second;
  auto forward = tape_.values_.find(name);
  if (forward != tape_.values_.end()) return forward->second;
  throw_error(ErrorCode::kRuntimeFailure, "GradientTape: the gradient of ", entry_.op->describe(),
              " refers to '", name, "', which is neither a recorded nor a computed value");
}

std::string TapeGradientContext::bind(Value value) {
  std::string name = "grad_" + std::to_string(state_.next_name++);
  state_.scratch.emplace(name, std::move(value));
  return name;
}

const TypeInfo& TapeGradientContext::type_of(const std::string& value_name) const {
  auto it = types_.find(value_name);
  if (it != types_.end()) return it->second;
  const Value& v = value(value_name);
  TypeInfo type = v.is_tensor() ? static_type(v.tensor()) : TypeInfo{};
  return types_.emplace(value_name, std::move(type)).first->second;
}

std::string TapeGradientContext::output_gradient(size_t i) const {
  if (i >= node_.outputs.size() || node_.outputs[i].empty()) return "";
  auto it = state_.gradients.find(node_.outputs[i]);
  if (it == state_.gradients.end()) return "";
  // Gradients are tensors; the rule refers to them by a scratch name.
  auto& self = const_cast<TapeGradientContext&>(*this);
  return self.bind(it->second);
}

bool TapeGradientContext::wants_input_gradient(size_t i) const {
  return i < node_.inputs.size() && !node_.inputs[i].empty() && leads_to_source_.count(node_.inputs[i]) > 0;
}

void TapeGradientContext::set_input_gradient(size_t i, const std::string& value_name) {
  if (!wants_input_gradient(i)) return;
  const Value& gradient = value(value_name);
  if (!gradient.is_tensor()) {
    throw_error(ErrorCode::kRuntimeFailure, "GradientTape: the gradient rule of ", entry_.op->describe(),
                " gave input ", i, " a gradient that is not a tensor");
  }
  auto [it, inserted] = state_.gradients.emplace(node_.inputs[i], gradient.tensor());
  if (!inserted) {
    // The value feeds several ops: its gradient is the sum of theirs.
    static const OpHandle add("", "Add");
    it->second = call_one(add, {&it->second, &gradient.tensor()});
  }
}

std::vector<std::string> TapeGradientContext::add_node(const std::string& op_type, std::vector<std::string> inputs,
                                                       size_t output_count, std::vector<Attribute> attributes,
                                                       const std::string& domain) {
  std::vector<Value> values;
  for (const std::string& name : inputs) values.push_back(name.empty() ? Value() : value(name));
  const OpHandle& op = OpHandle::intern(domain, op_type);
  std::vector<Value> outputs = call_values(op, std::move(values), attributes, output_count);
  std::vector<std::string> names;
  for (Value& output : outputs) names.push_back(bind(std::move(output)));
  return names;
}

std::string TapeGradientContext::add_constant(Tensor value) { return bind(std::move(value)); }

const Tensor* TapeGradientContext::constant_value(const std::string& value_name) const {
  const Value& v = value(value_name);
  return v.is_tensor() && !v.tensor().is_symbolic() ? &v.tensor() : nullptr;
}

std::string TapeGradientContext::forward_output(size_t i) {
  if (i < node_.outputs.size() && !node_.outputs[i].empty()) return node_.outputs[i];
  std::vector<Value> inputs;
  for (const std::string& name : node_.inputs) inputs.push_back(name.empty() ? Value() : value(name));
  size_t count = std::max(i + 1, node_.outputs.size());
  std::vector<Value> outputs = call_values(*entry_.op, std::move(inputs), node_.attributes, count);
  node_.outputs.resize(count);
  node_.outputs[i] = bind(std::move(outputs[i]));
  return node_.outputs[i];
}

Graph TapeGradientContext::differentiate_subgraph(const Graph&, const std::vector<std::string>&,
                                                  const std::vector<std::string>&) {
  throw_error(ErrorCode::kNotImplemented, "GradientTape: ", entry_.op->describe(),
              " has a subgraph; a tape differentiates eager control flow by recording the ops "
              "each iteration runs, so take gradients outside traced loops and branches");
}

}  // namespace onyx::eager
