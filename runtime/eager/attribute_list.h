// Attribute arguments of the generated op wrappers (runtime/eager/ops/): optional members that
// read as named arguments, `ops::conv(x, w, {.strides = {2, 2}})`, and the list an eager call
// passes on, holding only the attributes that were set (the kernel applies ONNX defaults).
#pragma once

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/ir/attribute.h"

namespace onyx::eager {

// An optional list attribute that a braced list sets: `.pads = {1, 1, 1, 1}`.
template <typename T>
struct OptionalList {
  std::optional<std::vector<T>> values;
  OptionalList() = default;
  OptionalList(std::initializer_list<T> list) : values(std::vector<T>(list)) {}
  OptionalList(std::vector<T> list) : values(std::move(list)) {}  // NOLINT: implicit on purpose
};
using IntList = OptionalList<int64_t>;
using FloatList = OptionalList<float>;
using StringList = OptionalList<std::string>;

class AttributeList {
 public:
  void add(const char* name, const std::optional<int64_t>& value);
  void add(const char* name, const std::optional<float>& value);
  void add(const char* name, const std::optional<std::string>& value);
  void add(const char* name, const std::optional<DataType>& value);
  void add(const char* name, const std::optional<Tensor>& value);
  void add(const char* name, const IntList& value);
  void add(const char* name, const FloatList& value);
  void add(const char* name, const StringList& value);

  std::span<const Attribute> items() const { return items_; }

 private:
  std::vector<Attribute> items_;
};

}  // namespace onyx::eager
