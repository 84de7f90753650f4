// The one check of a node's attributes before anything uses them: the generated ONNX spec
// (attribute_spec.h: names, types, required) and then the op's own semantic check (ranges,
// enums, consistency with other attributes and with the input types known at that point).
// Type inference, the execution plan, node calls, eager dispatch and tracing all call
// check_node_attributes before a shape rule or kernel factory sees the node, so neither has to
// re-check. Per-op checks register beside each family's shape rules with
// ONYX_REGISTER_ATTRIBUTE_CHECK.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "onnx_ops/node_attributes.h"
#include "runtime/common/macros.h"
#include "runtime/ir/graph.h"

namespace onyx {

// What a per-op check sees: the attributes, the opset, and the input types known so far.
class AttributeCheckContext {
 public:
  AttributeCheckContext(const Node& node, int64_t opset, const std::vector<const TypeInfo*>& input_types)
      : node_(node), attributes_(node), opset_(opset), input_types_(input_types) {}

  const Node& node() const { return node_; }
  const NodeAttributes& attributes() const { return attributes_; }
  int64_t opset() const { return opset_; }
  // The node's inputs (including omitted optional ones), not the implicit ones of subgraphs.
  size_t input_count() const { return node_.inputs.size(); }
  // Input i's type when it is a tensor type, else nullptr (missing, unknown, or not a tensor).
  const TypeInfo* tensor_input_type(size_t i) const;
  // Input i's rank when known.
  std::optional<int64_t> input_rank(size_t i) const;
  // Dimension d of input i when known (d < 0 counts from the back).
  std::optional<int64_t> input_dim(size_t i, int64_t d) const;

 private:
  const Node& node_;
  NodeAttributes attributes_;
  int64_t opset_;
  const std::vector<const TypeInfo*>& input_types_;
};

using AttributeCheck = std::function<void(const AttributeCheckContext&)>;

class AttributeCheckRegistry {
 public:
  static AttributeCheckRegistry& global();
  void add(const std::string& domain, const std::string& op_type, AttributeCheck check);
  const AttributeCheck* find(const std::string& domain, const std::string& op_type) const;

 private:
  std::map<std::pair<std::string, std::string>, AttributeCheck> checks_;
};

// Throws kInvalidModel whose message leaves the node to the caller, which names it as it names
// the node in its other errors ("node 'n' (Op): ", "eager Op-13: ").
void check_node_attributes(const Node& node, int64_t opset, const std::vector<const TypeInfo*>& input_types);

namespace detail {
struct AttributeCheckRegistrar {
  AttributeCheckRegistrar(const char* domain, const char* op_type, AttributeCheck check) {
    AttributeCheckRegistry::global().add(domain, op_type, std::move(check));
  }
};
}  // namespace detail

}  // namespace onyx

// ONYX_REGISTER_ATTRIBUTE_CHECK("", "DepthToSpace", check_block_rearrange);
#define ONYX_REGISTER_ATTRIBUTE_CHECK(domain, op_type, check)                                      \
  static const ::onyx::detail::AttributeCheckRegistrar ONYX_CONCAT(onyx_attribute_check_, __COUNTER__)( \
      domain, op_type, check)
