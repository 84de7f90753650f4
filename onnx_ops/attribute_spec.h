// The attributes ONNX's schemas declare, per (domain, op, since_version), from the generated
// table onnx_ops/attribute_spec_table.inc (scripts/gen_attribute_spec.py). check_against_spec
// refuses a node of a spec'd domain whose attributes the schema in force does not allow.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/ir/graph.h"

namespace onyx {

struct AttributeSpec {
  const char* name;
  Attribute::Kind kind;
  bool required;
};

struct OpAttributeSpec {
  const char* domain;  // "" for ai.onnx
  const char* op_type;
  int64_t since_version;
  bool allows_unchecked;  // AllowUncheckedAttributes(): other names are accepted
  std::vector<AttributeSpec> attributes;
};

// Whether the table covers the domain (ai.onnx, ai.onnx.ml, ai.onnx.preview.training).
bool is_spec_domain(const std::string& domain);
// The schema in force at `opset` (greatest since_version <= opset), or nullptr when the op is
// not in the table or did not exist yet.
const OpAttributeSpec* find_attribute_spec(const std::string& domain, const std::string& op_type,
                                           int64_t opset);
// Required attributes present, present ones of the declared type, no undeclared names.
// Attributes referring to a function's attribute (ref_attr_name) are taken as they are. Throws
// kInvalidModel without naming the node (the caller does).
void check_against_spec(const Node& node, int64_t opset);

}  // namespace onyx
