// The definition of a custom operator: one object says everything onyx needs to know about an
// op of a user's own domain (say com.acme): its identity and opset versions, its formal inputs
// and outputs (types, optional, variadic), its attributes with kinds and defaults, a shape rule,
// a kernel per provider and an optional gradient rule. Registering it (OpRegistry::add, globally
// or for one session) makes the op usable wherever an ONNX op is: graphs, If/Loop/Scan bodies,
// type inference, `onyx inspect`, node calls and gradient graphs.
//
//   CustomOpDefinition("com.acme", "Swish")
//       .input("X", "T").output("Y", "T").type_constraint("T", {DataType::kFloat})
//       .attribute("beta", 1.0f)
//       .infer_shapes(same_shape_as_input(0))
//       .cpu_kernel([](KernelContext& ctx, const NodeAttributes& attrs) { ... })
//       .gradient(swish_gradient);
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "onnx_ops/op_schema.h"
#include "providers/kernel_registry.h"
#include "training/gradient_rule.h"

namespace onyx {

enum class ParameterArity { kSingle, kOptional, kVariadic };

// A formal input or output.
struct CustomOpParameter {
  std::string name;
  // A type parameter bound through type_constraint ("T"), or a fixed element type in ONNX
  // spelling ("float", "int64").
  std::string type;
  ParameterArity arity = ParameterArity::kSingle;
  int min_count = 1;  // variadic: the fewest values it takes
};

struct CustomOpAttribute {
  std::string name;
  Attribute::Kind kind = Attribute::Kind::kUndefined;
  std::optional<Attribute> default_value;  // none: the attribute is required
};

// The simple kernel form: a plain function called on every run. `attributes` sees the
// declared defaults for attributes the node leaves out.
using CustomKernelFunction = std::function<void(KernelContext& context, const NodeAttributes& attributes)>;

// A shape rule that gives output 0 the shape of input `index` (elementwise ops).
ShapeRule same_shape_as_input(size_t index);

struct CustomOpDefinition {
  std::string domain;
  std::string name;
  int64_t since_version = 1;
  int64_t until_version = kOpsetOpenEnded;  // inclusive
  std::vector<CustomOpParameter> inputs;
  std::vector<CustomOpParameter> outputs;
  std::map<std::string, std::vector<DataType>> type_constraints;  // type parameter -> allowed
  std::vector<CustomOpAttribute> attributes;
  // Refines what the type constraints give (element types) with shapes; optional. It sees the
  // attributes with defaults applied and may read ctx.output_types() as set by the constraints.
  ShapeRule shape_rule;
  std::map<std::string, KernelFactory> kernels;  // by provider: "CPU" (required), "CUDA"
  training::GradientRule gradient;               // optional; used by training and the eager tape
  // Where the op came from ("C++" or a library path), for conflict messages; and what keeps
  // its code loaded (a plug-in library), held by every kernel created from it.
  std::string source = "C++";
  std::shared_ptr<const void> keep_alive;

  CustomOpDefinition() = default;
  CustomOpDefinition(std::string domain, std::string name, int64_t since_version = 1);

  CustomOpDefinition& versions(int64_t since, int64_t until = kOpsetOpenEnded);
  CustomOpDefinition& input(std::string name, std::string type);
  CustomOpDefinition& optional_input(std::string name, std::string type);
  CustomOpDefinition& variadic_input(std::string name, std::string type, int min_count = 1);
  CustomOpDefinition& output(std::string name, std::string type);
  CustomOpDefinition& optional_output(std::string name, std::string type);
  CustomOpDefinition& variadic_output(std::string name, std::string type, int min_count = 1);
  CustomOpDefinition& type_constraint(std::string parameter, std::vector<DataType> allowed);

  CustomOpDefinition& attribute(std::string name, float default_value);
  CustomOpDefinition& attribute(std::string name, int64_t default_value);
  CustomOpDefinition& attribute(std::string name, int default_value) {
    return attribute(std::move(name), static_cast<int64_t>(default_value));
  }
  CustomOpDefinition& attribute(std::string name, std::string default_value);
  CustomOpDefinition& attribute(std::string name, const char* default_value) {
    return attribute(std::move(name), std::string(default_value));
  }
  CustomOpDefinition& attribute(std::string name, std::vector<float> default_value);
  CustomOpDefinition& attribute(std::string name, std::vector<int64_t> default_value);
  CustomOpDefinition& required_attribute(std::string name, Attribute::Kind kind);

  CustomOpDefinition& infer_shapes(ShapeRule rule);
  CustomOpDefinition& kernel(const std::string& provider, KernelFactory factory);
  CustomOpDefinition& kernel(const std::string& provider, CustomKernelFunction function);
  CustomOpDefinition& cpu_kernel(CustomKernelFunction function) { return kernel("CPU", std::move(function)); }
  CustomOpDefinition& cpu_kernel(KernelFactory factory) { return kernel("CPU", std::move(factory)); }
  CustomOpDefinition& cuda_kernel(KernelFactory factory) { return kernel("CUDA", std::move(factory)); }
  CustomOpDefinition& gradient_rule(training::GradientRule rule);
  // The gradient as an ONNX graph template (see gradient_template.h): the same form plug-in
  // libraries use through the C ABI.
  CustomOpDefinition& gradient_graph(Graph template_graph);

  // "com.acme::Swish version 1+": how messages name the op.
  std::string describe() const;
  // Throws kInvalidArgument when the definition itself is inconsistent (no CPU kernel, an
  // unconstrained type parameter, a variadic input that is not last, ...).
  void validate() const;

  // Checks a node against the definition (input/output counts, required inputs, attribute
  // names and kinds) and returns a copy with the declared defaults filled in. Errors name the
  // op and the input or attribute; callers (type inference, kernel creation) add the node.
  Node with_defaults(const Node& node) const;
  // Output types from the type constraints: parameters are bound by the inputs that are present
  // (an absent optional input binds nothing); element types that disagree or fall outside a
  // constraint are errors naming the input. `input_types[i]` is null for an absent input.
  std::vector<TypeInfo> infer_output_types(const Node& node, const std::vector<const TypeInfo*>& input_types) const;
};

}  // namespace onyx
