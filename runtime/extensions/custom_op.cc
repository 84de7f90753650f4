#include "runtime/extensions/custom_op.h"

#include <set>

#include "runtime/extensions/gradient_template.h"
#include "runtime/ir/attribute_builders.h"

namespace onyx {

namespace {

// A fixed element type in ONNX spelling ("float", "int64"), or kUndefined for a type parameter.
DataType fixed_type(const std::string& type) {
  for (int32_t code = 1; code <= kMaxDataTypeCode; ++code) {
    if (dtype_name(static_cast<DataType>(code)) == type) return static_cast<DataType>(code);
  }
  return DataType::kUndefined;
}

std::string list_parameters(const std::vector<CustomOpParameter>& parameters) {
  std::string text;
  for (const auto& parameter : parameters) {
    if (!text.empty()) text += ", ";
    if (parameter.arity == ParameterArity::kOptional) text += "[" + parameter.name + "]";
    else if (parameter.arity == ParameterArity::kVariadic) text += parameter.name + "...";
    else text += parameter.name;
  }
  return text;
}

// The fewest and most values a parameter list takes (most: -1 for unbounded).
std::pair<size_t, int64_t> arity_range(const std::vector<CustomOpParameter>& parameters) {
  size_t fewest = 0;
  int64_t most = 0;
  for (size_t i = 0; i < parameters.size(); ++i) {
    const auto& parameter = parameters[i];
    if (parameter.arity == ParameterArity::kVariadic) {
      fewest = i + static_cast<size_t>(parameter.min_count);
      most = -1;
    } else {
      if (parameter.arity == ParameterArity::kSingle) fewest = i + 1;
      ++most;
    }
  }
  return {fewest, most};
}

// The formal parameter that value `index` of a node binds to.
const CustomOpParameter& parameter_at(const std::vector<CustomOpParameter>& parameters, size_t index) {
  return index < parameters.size() ? parameters[index] : parameters.back();
}

void check_count(const CustomOpDefinition& def, const Node& node, const char* what,
                 const std::vector<CustomOpParameter>& parameters, const std::vector<std::string>& values) {
  auto [fewest, most] = arity_range(parameters);
  size_t given = values.size();
  bool fits = given >= fewest && (most < 0 || given <= static_cast<size_t>(most));
  if (!fits) {
    std::string range = most < 0 ? "at least " + std::to_string(fewest)
                        : fewest == static_cast<size_t>(most) ? std::to_string(fewest)
                                                              : std::to_string(fewest) + " to " + std::to_string(most);
    throw_error(ErrorCode::kInvalidModel, def.describe(), " takes ", range, " ", what,
                " (", list_parameters(parameters), "), got ", given);
  }
  for (size_t i = 0; i < given; ++i) {
    const auto& parameter = parameter_at(parameters, i);
    if (values[i].empty() && parameter.arity != ParameterArity::kOptional) {
      throw_error(ErrorCode::kInvalidModel, what, " ", i, " (", parameter.name,
                  ") of ", def.describe(), " is required but the node leaves it out");
    }
  }
}

bool default_matches_kind(const CustomOpAttribute& attribute) {
  return !attribute.default_value || attribute.default_value->kind == attribute.kind;
}

}  // namespace

ShapeRule same_shape_as_input(size_t index) {
  return [index](InferenceContext& ctx) {
    if (!ctx.has_input(index) || ctx.output_count() == 0) return;
    TypeInfo type = ctx.output_types()[0];
    const TypeInfo& input = ctx.input_type(index);
    if (type.kind == TypeInfo::Kind::kUnknown) type = TypeInfo::tensor(input.elem_type);
    type.shape = input.shape;
    ctx.set_output_type(0, std::move(type));
  };
}

CustomOpDefinition::CustomOpDefinition(std::string domain_name, std::string op_name, int64_t since)
    : domain(std::move(domain_name)), name(std::move(op_name)), since_version(since) {}

CustomOpDefinition& CustomOpDefinition::versions(int64_t since, int64_t until) {
  since_version = since;
  until_version = until;
  return *this;
}

CustomOpDefinition& CustomOpDefinition::input(std::string input_name, std::string type) {
  inputs.push_back({std::move(input_name), std::move(type), ParameterArity::kSingle, 1});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::optional_input(std::string input_name, std::string type) {
  inputs.push_back({std::move(input_name), std::move(type), ParameterArity::kOptional, 0});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::variadic_input(std::string input_name, std::string type, int min_count) {
  inputs.push_back({std::move(input_name), std::move(type), ParameterArity::kVariadic, min_count});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::output(std::string output_name, std::string type) {
  outputs.push_back({std::move(output_name), std::move(type), ParameterArity::kSingle, 1});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::optional_output(std::string output_name, std::string type) {
  outputs.push_back({std::move(output_name), std::move(type), ParameterArity::kOptional, 0});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::variadic_output(std::string output_name, std::string type, int min_count) {
  outputs.push_back({std::move(output_name), std::move(type), ParameterArity::kVariadic, min_count});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::type_constraint(std::string parameter, std::vector<DataType> allowed) {
  type_constraints[std::move(parameter)] = std::move(allowed);
  return *this;
}

CustomOpDefinition& CustomOpDefinition::attribute(std::string attribute_name, float default_value) {
  attributes.push_back({attribute_name, Attribute::Kind::kFloat, make_attribute(attribute_name, default_value)});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::attribute(std::string attribute_name, int64_t default_value) {
  attributes.push_back({attribute_name, Attribute::Kind::kInt, make_attribute(attribute_name, default_value)});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::attribute(std::string attribute_name, std::string default_value) {
  attributes.push_back({attribute_name, Attribute::Kind::kString, make_attribute(attribute_name, default_value)});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::attribute(std::string attribute_name, std::vector<float> default_value) {
  attributes.push_back(
      {attribute_name, Attribute::Kind::kFloats, make_attribute(attribute_name, std::move(default_value))});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::attribute(std::string attribute_name, std::vector<int64_t> default_value) {
  attributes.push_back(
      {attribute_name, Attribute::Kind::kInts, make_attribute(attribute_name, std::move(default_value))});
  return *this;
}
CustomOpDefinition& CustomOpDefinition::required_attribute(std::string attribute_name, Attribute::Kind kind) {
  attributes.push_back({std::move(attribute_name), kind, std::nullopt});
  return *this;
}

CustomOpDefinition& CustomOpDefinition::infer_shapes(ShapeRule rule) {
  shape_rule = std::move(rule);
  return *this;
}

CustomOpDefinition& CustomOpDefinition::kernel(const std::string& provider, KernelFactory factory) {
  kernels[provider] = std::move(factory);
  return *this;
}

namespace {
class FunctionKernel final : public Kernel {
 public:
  FunctionKernel(const KernelInfo& info, CustomKernelFunction function)
      : attributes_(info.node()), function_(std::move(function)) {}
  void compute(KernelContext& context) override { function_(context, attributes_); }

 private:
  NodeAttributes attributes_;  // of the node copy with defaults, which outlives this kernel
  CustomKernelFunction function_;
};
}  // namespace

CustomOpDefinition& CustomOpDefinition::kernel(const std::string& provider, CustomKernelFunction function) {
  return kernel(provider, KernelFactory([function = std::move(function)](const KernelInfo& info) {
                  return std::unique_ptr<Kernel>(std::make_unique<FunctionKernel>(info, function));
                }));
}

CustomOpDefinition& CustomOpDefinition::gradient_rule(training::GradientRule rule) {
  gradient = std::move(rule);
  return *this;
}

CustomOpDefinition& CustomOpDefinition::gradient_graph(Graph template_graph) {
  gradient = gradient_rule_from_template(std::move(template_graph), describe());
  return *this;
}

std::string CustomOpDefinition::describe() const {
  std::string text = domain + "::" + name + " version " + std::to_string(since_version);
  if (until_version == kOpsetOpenEnded) return text + "+";
  return until_version == since_version ? text : text + "-" + std::to_string(until_version);
}

void CustomOpDefinition::validate() const {
  auto fail = [&](const auto&... parts) {
    throw_error(ErrorCode::kInvalidArgument, "custom op ", describe(), ": ", parts...);
  };
  if (name.empty()) fail("the op has no name");
  if (since_version < 1 || since_version > until_version) {
    fail("the version range must start at 1 or later and not end before it starts");
  }
  if (outputs.empty()) fail("an op needs at least one output");
  if (!kernels.count("CPU")) fail("a CPU kernel is required (other providers are optional)");
  for (const auto& [provider, factory] : kernels) {
    if (!factory) fail("the ", provider, " kernel is empty");
  }
  for (const auto* list : {&inputs, &outputs}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const auto& parameter = (*list)[i];
      if (parameter.arity == ParameterArity::kVariadic && i + 1 != list->size()) {
        fail("variadic ", parameter.name, " must be the last ", list == &inputs ? "input" : "output");
      }
      if (parameter.arity == ParameterArity::kVariadic && parameter.min_count < 0) {
        fail("variadic ", parameter.name, " has a negative minimum count");
      }
      if (fixed_type(parameter.type) == DataType::kUndefined && !type_constraints.count(parameter.type)) {
        fail(parameter.name, " has type '", parameter.type,
             "', which is neither an ONNX element type nor a type parameter with a type_constraint");
      }
    }
  }
  std::set<std::string> names;
  for (const auto& attribute : attributes) {
    if (!names.insert(attribute.name).second) fail("attribute ", attribute.name, " is declared twice");
    if (!default_matches_kind(attribute)) {
      fail("the default of attribute ", attribute.name, " is a ", attribute_kind_name(attribute.default_value->kind),
           ", but the attribute is declared ", attribute_kind_name(attribute.kind));
    }
  }
}

Node CustomOpDefinition::with_defaults(const Node& node) const {
  check_count(*this, node, "inputs", inputs, node.inputs);
  if (!outputs.empty()) {
    auto [fewest, most] = arity_range(outputs);
    // Trailing optional outputs may be left out; the node still names every required one.
    if (node.outputs.size() < fewest || (most >= 0 && node.outputs.size() > static_cast<size_t>(most))) {
      check_count(*this, node, "outputs", outputs, node.outputs);
    }
  }
  Node completed = node;
  for (const Attribute& given : node.attributes) {
    const CustomOpAttribute* declared = nullptr;
    for (const auto& attribute : attributes) {
      if (attribute.name == given.name) declared = &attribute;
    }
    if (declared == nullptr) {
      std::string known;
      for (const auto& attribute : attributes) known += (known.empty() ? "" : ", ") + attribute.name;
      throw_error(ErrorCode::kInvalidModel, describe(), " has no attribute '", given.name,
                  "' (its attributes: ", known.empty() ? "none" : known, ")");
    }
    if (given.kind != declared->kind) {
      throw_error(ErrorCode::kInvalidModel, "attribute '", given.name, "' of ", describe(),
                  " must be a ", attribute_kind_name(declared->kind), ", got a ", attribute_kind_name(given.kind));
    }
  }
  for (const auto& attribute : attributes) {
    if (node.find_attribute(attribute.name)) continue;
    if (!attribute.default_value) {
      throw_error(ErrorCode::kInvalidModel, describe(), " requires attribute '",
                  attribute.name, "' (", attribute_kind_name(attribute.kind), ")");
    }
    completed.attributes.push_back(*attribute.default_value);
  }
  return completed;
}

std::vector<TypeInfo> CustomOpDefinition::infer_output_types(const Node& node,
                                                             const std::vector<const TypeInfo*>& input_types) const {
  std::map<std::string, std::pair<DataType, size_t>> bound;  // parameter -> type, binding input
  for (size_t i = 0; i < input_types.size() && !inputs.empty(); ++i) {
    const TypeInfo* type = input_types[i];
    if (type == nullptr || type->kind == TypeInfo::Kind::kUnknown) continue;
    const CustomOpParameter& parameter = parameter_at(inputs, i);
    auto describe_input = [&] {
      return "input " + std::to_string(i) + " (" + parameter.name + ", '" + node.inputs[i] + "')";
    };
    if (type->kind != TypeInfo::Kind::kTensor) {
      throw_error(ErrorCode::kInvalidModel, describe_input(), " must be a tensor, got ",
                  type->to_string());
    }
    if (type->elem_type == DataType::kUndefined) continue;
    DataType fixed = fixed_type(parameter.type);
    if (fixed != DataType::kUndefined) {
      if (type->elem_type != fixed) {
        throw_error(ErrorCode::kInvalidModel, describe_input(), " must be ",
                    dtype_name(fixed), ", got ", dtype_name(type->elem_type));
      }
      continue;
    }
    const auto& allowed = type_constraints.at(parameter.type);
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), type->elem_type) == allowed.end()) {
      std::string names;
      for (DataType t : allowed) names += (names.empty() ? "" : ", ") + std::string(dtype_name(t));
      throw_error(ErrorCode::kInvalidModel, describe_input(), " has type ",
                  dtype_name(type->elem_type), ", but ", describe(), " allows ", parameter.type, " in {", names, "}");
    }
    auto [it, inserted] = bound.emplace(parameter.type, std::make_pair(type->elem_type, i));
    if (!inserted && it->second.first != type->elem_type) {
      throw_error(ErrorCode::kInvalidModel, describe_input(), " is ",
                  dtype_name(type->elem_type), " but input ", it->second.second, " binds ", parameter.type, " to ",
                  dtype_name(it->second.first));
    }
  }
  std::vector<TypeInfo> result(node.outputs.size());
  for (size_t i = 0; i < node.outputs.size() && !outputs.empty(); ++i) {
    const CustomOpParameter& parameter = parameter_at(outputs, i);
    DataType type = fixed_type(parameter.type);
    if (type == DataType::kUndefined) {
      auto it = bound.find(parameter.type);
      const auto& allowed = type_constraints.at(parameter.type);
      // A parameter only absent inputs carry is still known when its constraint allows one type.
      if (it != bound.end()) type = it->second.first;
      else if (allowed.size() == 1) type = allowed.front();
    }
    if (type != DataType::kUndefined) result[i] = TypeInfo::tensor(type);
  }
  return result;
}

}  // namespace onyx
