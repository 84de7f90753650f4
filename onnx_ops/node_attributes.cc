#include "onnx_ops/node_attributes.h"

namespace onyx {

const Attribute* NodeAttributes::find_of_kind(const std::string& name, Attribute::Kind kind) const {
  const Attribute* attribute = node_.find_attribute(name);
  if (attribute == nullptr) return nullptr;
  if (attribute->kind != kind) {
    throw_error(ErrorCode::kInvalidModel, node_.describe(), ": attribute '", name, "' is ",
                attribute_kind_name(attribute->kind), ", expected ", attribute_kind_name(kind));
  }
  return attribute;
}

const Attribute& NodeAttributes::require(const std::string& name, Attribute::Kind kind) const {
  const Attribute* attribute = find_of_kind(name, kind);
  if (attribute == nullptr) {
    throw_error(ErrorCode::kInvalidModel, node_.describe(), ": missing required attribute '", name,
                "'");
  }
  return *attribute;
}

int64_t NodeAttributes::get_int(const std::string& name, int64_t fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kInt);
  return a ? a->i : fallback;
}

float NodeAttributes::get_float(const std::string& name, float fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kFloat);
  return a ? a->f : fallback;
}

std::string NodeAttributes::get_string(const std::string& name, const std::string& fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kString);
  return a ? a->s : fallback;
}

std::vector<int64_t> NodeAttributes::get_ints(const std::string& name,
                                              std::vector<int64_t> fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kInts);
  return a ? a->ints : fallback;
}

std::vector<float> NodeAttributes::get_floats(const std::string& name,
                                              std::vector<float> fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kFloats);
  return a ? a->floats : fallback;
}

std::vector<std::string> NodeAttributes::get_strings(const std::string& name,
                                                     std::vector<std::string> fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kStrings);
  return a ? a->strings : fallback;
}

int64_t NodeAttributes::require_int(const std::string& name) const {
  return require(name, Attribute::Kind::kInt).i;
}

float NodeAttributes::require_float(const std::string& name) const {
  return require(name, Attribute::Kind::kFloat).f;
}

std::string NodeAttributes::require_string(const std::string& name) const {
  return require(name, Attribute::Kind::kString).s;
}

std::vector<int64_t> NodeAttributes::require_ints(const std::string& name) const {
  return require(name, Attribute::Kind::kInts).ints;
}

const Tensor& NodeAttributes::require_tensor(const std::string& name) const {
  return require(name, Attribute::Kind::kTensor).t;
}

const Graph& NodeAttributes::require_graph(const std::string& name) const {
  return *require(name, Attribute::Kind::kGraph).g;
}

}  // namespace onyx
