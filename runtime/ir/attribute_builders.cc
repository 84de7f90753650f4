#include "runtime/ir/attribute_builders.h"

namespace onyx {

namespace {
Attribute named(const std::string& name, Attribute::Kind kind) {
  Attribute attribute;
  attribute.name = name;
  attribute.kind = kind;
  return attribute;
}
}  // namespace

Attribute make_attribute(const std::string& name, int64_t value) {
  Attribute a = named(name, Attribute::Kind::kInt);
  a.i = value;
  return a;
}

Attribute make_attribute(const std::string& name, float value) {
  Attribute a = named(name, Attribute::Kind::kFloat);
  a.f = value;
  return a;
}

Attribute make_attribute(const std::string& name, const std::string& value) {
  Attribute a = named(name, Attribute::Kind::kString);
  a.s = value;
  return a;
}

Attribute make_attribute(const std::string& name, const char* value) {
  return make_attribute(name, std::string(value));
}

Attribute make_attribute(const std::string& name, std::vector<int64_t> values) {
  Attribute a = named(name, Attribute::Kind::kInts);
  a.ints = std::move(values);
  return a;
}

Attribute make_attribute(const std::string& name, std::vector<float> values) {
  Attribute a = named(name, Attribute::Kind::kFloats);
  a.floats = std::move(values);
  return a;
}

Attribute make_attribute(const std::string& name, std::vector<std::string> values) {
  Attribute a = named(name, Attribute::Kind::kStrings);
  a.strings = std::move(values);
  return a;
}

Attribute make_attribute(const std::string& name, Tensor value) {
  Attribute a = named(name, Attribute::Kind::kTensor);
  a.t = std::move(value);
  return a;
}

}  // namespace onyx
