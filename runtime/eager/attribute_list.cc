#include "runtime/eager/attribute_list.h"

#include "runtime/ir/attribute_builders.h"

namespace onyx::eager {

void AttributeList::add(const char* name, const std::optional<int64_t>& value) {
  if (value) items_.push_back(make_attribute(name, *value));
}
void AttributeList::add(const char* name, const std::optional<float>& value) {
  if (value) items_.push_back(make_attribute(name, *value));
}
void AttributeList::add(const char* name, const std::optional<std::string>& value) {
  if (value) items_.push_back(make_attribute(name, *value));
}
void AttributeList::add(const char* name, const std::optional<DataType>& value) {
  if (value) items_.push_back(make_attribute(name, static_cast<int64_t>(*value)));
}
void AttributeList::add(const char* name, const std::optional<Tensor>& value) {
  if (value) items_.push_back(make_attribute(name, *value));
}
void AttributeList::add(const char* name, const IntList& value) {
  if (value.values) items_.push_back(make_attribute(name, *value.values));
}
void AttributeList::add(const char* name, const FloatList& value) {
  if (value.values) items_.push_back(make_attribute(name, *value.values));
}
void AttributeList::add(const char* name, const StringList& value) {
  if (value.values) items_.push_back(make_attribute(name, *value.values));
}

}  // namespace onyx::eager
