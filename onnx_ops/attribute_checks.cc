#include "onnx_ops/attribute_checks.h"

#include "onnx_ops/attribute_spec.h"

namespace onyx {

const TypeInfo* AttributeCheckContext::tensor_input_type(size_t i) const {
  if (i >= input_count() || i >= input_types_.size() || !node_.has_input(i)) return nullptr;
  const TypeInfo* type = input_types_[i];
  return type != nullptr && type->is_tensor() ? type : nullptr;
}

std::optional<int64_t> AttributeCheckContext::input_rank(size_t i) const {
  const TypeInfo* type = tensor_input_type(i);
  if (type == nullptr || !type->shape) return std::nullopt;
  return static_cast<int64_t>(type->shape->size());
}

std::optional<int64_t> AttributeCheckContext::input_dim(size_t i, int64_t d) const {
  std::optional<int64_t> rank = input_rank(i);
  if (!rank) return std::nullopt;
  if (d < 0) d += *rank;
  if (d < 0 || d >= *rank) return std::nullopt;
  const Dim& dim = (*tensor_input_type(i)->shape)[static_cast<size_t>(d)];
  if (!dim.is_known()) return std::nullopt;
  return dim.value;
}

AttributeCheckRegistry& AttributeCheckRegistry::global() {
  static AttributeCheckRegistry registry;
  return registry;
}

void AttributeCheckRegistry::add(const std::string& domain, const std::string& op_type, AttributeCheck check) {
  checks_[{canonical_domain(domain), op_type}] = std::move(check);
}

const AttributeCheck* AttributeCheckRegistry::find(const std::string& domain, const std::string& op_type) const {
  auto it = checks_.find({canonical_domain(domain), op_type});
  return it == checks_.end() ? nullptr : &it->second;
}

void check_node_attributes(const Node& node, int64_t opset, const std::vector<const TypeInfo*>& input_types) {
  check_against_spec(node, opset);
  if (const AttributeCheck* check = AttributeCheckRegistry::global().find(node.domain, node.op_type)) {
    (*check)(AttributeCheckContext(node, opset, input_types));
  }
}

}  // namespace onyx
