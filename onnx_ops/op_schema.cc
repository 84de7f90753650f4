#include "onnx_ops/op_schema.h"

namespace onyx {

const TypeInfo& InferenceContext::input_type(size_t i) const {
  static const TypeInfo unknown;
  return has_input(i) ? *input_types_[i] : unknown;
}

void InferenceContext::set_output_type(size_t i, TypeInfo type) {
  if (i < output_types_.size()) output_types_[i] = std::move(type);
}

ShapeRuleRegistry& ShapeRuleRegistry::global() {
  static ShapeRuleRegistry registry;
  return registry;
}

void ShapeRuleRegistry::add(const std::string& domain, const std::string& op_type, ShapeRule rule) {
  rules_[{canonical_domain(domain), op_type}] = std::move(rule);
}

const ShapeRule* ShapeRuleRegistry::find(const std::string& domain,
                                         const std::string& op_type) const {
  auto it = rules_.find({canonical_domain(domain), op_type});
  if (it != rules_.end()) return &it->second;
  return fallback_ ? fallback_->find(domain, op_type) : nullptr;
}

}  // namespace onyx
