// Static types of graph values, as declared in a model or inferred: tensor element type plus a
// shape whose dims may be known numbers, named symbols or unknown; sequences, optionals and
// maps wrap an element type.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/tensor/dtype.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

struct Dim {
  int64_t value = -1;  // -1 when unknown
  std::string symbol;  // a dim_param such as "batch"; empty if none

  static Dim known(int64_t v) { return {v, {}}; }
  static Dim named(std::string s) { return {-1, std::move(s)}; }
  bool is_known() const { return value >= 0; }
  bool operator==(const Dim&) const = default;
};

struct TypeInfo {
  enum class Kind { kUnknown, kTensor, kSparseTensor, kSequence, kOptional, kMap };

  Kind kind = Kind::kUnknown;
  DataType elem_type = DataType::kUndefined;    // tensors; the key type of a map
  std::optional<std::vector<Dim>> shape;        // tensors: absent means rank unknown
  std::shared_ptr<TypeInfo> element;            // sequence/optional element, map value

  static TypeInfo tensor(DataType type, std::optional<std::vector<Dim>> dims = std::nullopt) {
    TypeInfo info;
    info.kind = Kind::kTensor;
    info.elem_type = type;
    info.shape = std::move(dims);
    return info;
  }
  static TypeInfo tensor_of_shape(DataType type, const Shape& shape);
  static TypeInfo wrapping(Kind kind, TypeInfo inner) {
    TypeInfo info;
    info.kind = kind;
    info.element = std::make_shared<TypeInfo>(std::move(inner));
    return info;
  }

  // map(key_type, tensor(value_type)): what the ai.onnx.ml map ops take and give.
  static TypeInfo map_of(DataType key_type, DataType value_type) {
    TypeInfo info = wrapping(Kind::kMap, tensor(value_type));
    info.elem_type = key_type;
    return info;
  }

  bool is_tensor() const { return kind == Kind::kTensor; }
  // True when every dim is a known number.
  bool has_static_shape() const;
  Shape static_shape() const;  // only valid when has_static_shape()
  std::string to_string() const;  // "float[batch,3,224,224]", "seq(float[?])", "map(int64,tensor(float))"
};

}  // namespace onyx
