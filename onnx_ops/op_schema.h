// What an operator means, independent of any provider: its identity (domain, name, the opset
// version it was introduced or changed in) and its output type/shape rule. Each op family
// registers its schemas from its own file in onnx_ops/ with ONYX_REGISTER_SHAPE_RULE.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "onnx_ops/node_attributes.h"
#include "runtime/common/macros.h"
#include "runtime/ir/graph.h"

namespace onyx {

// The newest opset of the default domain that onyx knows (that of the pinned onnx package).
constexpr int64_t kLatestOnnxOpset = 28;
constexpr int64_t kLatestOnnxMlOpset = 5;
constexpr int64_t kLatestTrainingOpset = 1;
// onyx's own ops, which only its optimizer writes into a graph (NhwcConv, by the channels-last
// pass); version 1.
inline constexpr const char* kOnyxDomain = "com.onyx";
inline constexpr const char* kMlDomain = "ai.onnx.ml";

// What a shape rule sees of a node: its attributes, input types and any input whose value is
// known before running (initializers, folded constants).
class InferenceContext {
 public:
  InferenceContext(const Node& node, int64_t opset, std::vector<const TypeInfo*> input_types,
                   std::vector<const Tensor*> input_constants)
      : node_(node), attributes_(node), opset_(opset), input_types_(std::move(input_types)),
        input_constants_(std::move(input_constants)), output_types_(node.outputs.size()) {}

  const Node& node() const { return node_; }
  const NodeAttributes& attributes() const { return attributes_; }
  int64_t opset() const { return opset_; }

  size_t input_count() const { return input_types_.size(); }
  bool has_input(size_t i) const { return i < input_types_.size() && input_types_[i] != nullptr; }
  // Type of input i; an unknown type for a missing or untyped input.
  const TypeInfo& input_type(size_t i) const;
  // Input i's type when it is a known tensor type, else nullptr.
  const TypeInfo* tensor_input_type(size_t i) const {
    if (!has_input(i)) return nullptr;
    const TypeInfo& type = input_type(i);
    return type.is_tensor() ? &type : nullptr;
  }
  // The input's value when known at session creation, else nullptr.
  const Tensor* input_constant(size_t i) const {
    return i < input_constants_.size() ? input_constants_[i] : nullptr;
  }

  size_t output_count() const { return output_types_.size(); }
  void set_output_type(size_t i, TypeInfo type);
  const std::vector<TypeInfo>& output_types() const { return output_types_; }

 private:
  const Node& node_;
  NodeAttributes attributes_;
  int64_t opset_;
  std::vector<const TypeInfo*> input_types_;
  std::vector<const Tensor*> input_constants_;
  std::vector<TypeInfo> output_types_;
};

using ShapeRule = std::function<void(InferenceContext&)>;

// The rule of ops whose output 0 is input 0's type and shape (when input 0 is a known tensor).
inline void copy_input_0_type(InferenceContext& ctx) {
  if (const TypeInfo* x = ctx.tensor_input_type(0)) ctx.set_output_type(0, *x);
}

// Shape rules by (domain, op). One rule per op covers all its versions and reads ctx.opset()
// where the meaning changed; ops without a rule get outputs of unknown type and shape, which
// the runtime handles with dynamic allocation.
class ShapeRuleRegistry {
 public:
  static ShapeRuleRegistry& global();
  // A registry whose lookups fall back to `fallback` (a session's own ops over the global ones).
  explicit ShapeRuleRegistry(const ShapeRuleRegistry* fallback = nullptr) : fallback_(fallback) {}
  void add(const std::string& domain, const std::string& op_type, ShapeRule rule);
  // This registry's rule, else the fallback's.
  const ShapeRule* find(const std::string& domain, const std::string& op_type) const;

 private:
  const ShapeRuleRegistry* fallback_ = nullptr;
  std::map<std::pair<std::string, std::string>, ShapeRule> rules_;
};

namespace detail {
struct ShapeRuleRegistrar {
  ShapeRuleRegistrar(const char* domain, const char* op_type, ShapeRule rule) {
    ShapeRuleRegistry::global().add(domain, op_type, std::move(rule));
  }
};
}  // namespace detail

}  // namespace onyx

// ONYX_REGISTER_SHAPE_RULE("", "Relu", same_as_input_0);
#define ONYX_REGISTER_SHAPE_RULE(domain, op_type, rule)                                      \
  static const ::onyx::detail::ShapeRuleRegistrar ONYX_CONCAT(onyx_shape_rule_, __COUNTER__)( \
      domain, op_type, rule)
