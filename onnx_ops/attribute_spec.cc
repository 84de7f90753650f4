#include "onnx_ops/attribute_spec.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "runtime/common/error.h"

namespace onyx {

namespace {

constexpr auto FLOAT = Attribute::Kind::kFloat;
constexpr auto INT = Attribute::Kind::kInt;
constexpr auto STRING = Attribute::Kind::kString;
constexpr auto TENSOR = Attribute::Kind::kTensor;
constexpr auto GRAPH = Attribute::Kind::kGraph;
constexpr auto SPARSE_TENSOR = Attribute::Kind::kSparseTensor;
constexpr auto TYPE_PROTO = Attribute::Kind::kTypeProto;
constexpr auto FLOATS = Attribute::Kind::kFloats;
constexpr auto INTS = Attribute::Kind::kInts;
constexpr auto STRINGS = Attribute::Kind::kStrings;
constexpr auto TENSORS = Attribute::Kind::kTensors;
constexpr auto GRAPHS = Attribute::Kind::kGraphs;
constexpr auto SPARSE_TENSORS = Attribute::Kind::kSparseTensors;
constexpr auto TYPE_PROTOS = Attribute::Kind::kTypeProtos;

const std::vector<OpAttributeSpec>& spec_table() {
  static const std::vector<OpAttributeSpec> table = {
#include "onnx_ops/attribute_spec_table.inc"
  };
  return table;
}

// (domain, op) -> its versions, oldest first (the table is sorted so).
using SpecIndex = std::map<std::pair<std::string, std::string>, std::vector<const OpAttributeSpec*>>;

const SpecIndex& spec_index() {
  static const SpecIndex index = [] {
    SpecIndex built;
    for (const OpAttributeSpec& spec : spec_table()) built[{spec.domain, spec.op_type}].push_back(&spec);
    return built;
  }();
  return index;
}

std::string declared_names(const OpAttributeSpec& spec) {
  if (spec.attributes.empty()) return "none";
  std::string names;
  for (const AttributeSpec& a : spec.attributes) names += (names.empty() ? "" : ", ") + std::string(a.name);
  return names;
}

}  // namespace

bool is_spec_domain(const std::string& domain) {
  const std::string d = canonical_domain(domain);
  return d.empty() || d == "ai.onnx.ml" || d == "ai.onnx.preview.training";
}

const OpAttributeSpec* find_attribute_spec(const std::string& domain, const std::string& op_type,
                                           int64_t opset) {
  auto it = spec_index().find({canonical_domain(domain), op_type});
  if (it == spec_index().end()) return nullptr;
  const OpAttributeSpec* in_force = nullptr;
  for (const OpAttributeSpec* spec : it->second) {
    if (spec->since_version <= opset) in_force = spec;
  }
  return in_force;
}

void check_against_spec(const Node& node, int64_t opset) {
  if (!is_spec_domain(node.domain)) return;
  const OpAttributeSpec* spec = find_attribute_spec(node.domain, node.op_type, opset);
  if (spec == nullptr) return;  // unknown op or opset: the kernel lookup reports it
  const std::string schema = node.op_type + "-" + std::to_string(spec->since_version);
  for (const Attribute& attribute : node.attributes) {
    const AttributeSpec* declared = nullptr;
    for (const AttributeSpec& a : spec->attributes) {
      if (attribute.name == a.name) declared = &a;
    }
    if (declared == nullptr) {
      if (spec->allows_unchecked) continue;
      throw_error(ErrorCode::kInvalidModel, "attribute '", attribute.name, "' is not an attribute of ", schema,
                  " (it has: ", declared_names(*spec), ")");
    }
    if (!attribute.ref_attr_name.empty()) continue;  // bound when the function is inlined
    if (attribute.kind != declared->kind) {
      throw_error(ErrorCode::kInvalidModel, "attribute '", attribute.name, "' of ", schema, " must be ",
                  attribute_kind_name(declared->kind), ", got ", attribute_kind_name(attribute.kind));
    }
  }
  for (const AttributeSpec& a : spec->attributes) {
    if (a.required && node.find_attribute(a.name) == nullptr) {
      throw_error(ErrorCode::kInvalidModel, "missing required attribute '", a.name, "' of ", schema);
    }
  }
  // Twice the same name: ONNX's checker refuses it, and find_attribute would see only the first.
  std::set<std::string_view> seen;
  for (const Attribute& attribute : node.attributes) {
    if (!seen.insert(attribute.name).second) {
      throw_error(ErrorCode::kInvalidModel, "attribute '", attribute.name, "' is given twice");
    }
  }
}

}  // namespace onyx
