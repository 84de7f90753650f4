// What flows along a graph edge: a tensor, a sequence, a map (ai.onnx.ml), or an optional that
// may be empty. Kernels of plain tensor ops only ever see tensors; sequence, map and optional ops
// use the other alternatives.
#pragma once

#include <memory>
#include <string_view>
#include <variant>
#include <vector>

#include "runtime/tensor/tensor.h"

namespace onyx {

class Value;
using Sequence = std::vector<Value>;

// An ONNX map(K, V): int64 or string keys, each with one scalar of V's element type (what the
// ai.onnx.ml ops and onnxruntime support). Keys are unique and sorted ascending, so two equal
// maps hold equal tensors and a map reads back in the order onnxruntime gives its dicts.
struct Map {
  Tensor keys;    // 1-D, int64 or string
  Tensor values;  // 1-D, as long as keys: values[i] belongs to keys[i]
};

// Copies element `i` of `from` to element `j` of `to` (host tensors of one whole-byte element
// type, strings included): how map entries are sorted, split into scalars and put together.
void copy_element(const Tensor& from, int64_t i, Tensor& to, int64_t j);

class Value {
 public:
  enum class Kind { kNone, kTensor, kSequence, kMap };

  Value() = default;
  Value(Tensor tensor) : content_(std::move(tensor)) {}  // NOLINT: implicit on purpose
  static Value sequence(Sequence items, DataType element_type) {
    Value value;
    value.content_ = std::make_shared<const Sequence>(std::move(items));
    value.sequence_element_type_ = element_type;
    return value;
  }
  // Checks the key and value tensors (1-D, same length, int64 or string keys, no key twice) and
  // sorts the entries by key; throws kInvalidArgument naming `what` otherwise.
  static Value map(Tensor keys, Tensor values, std::string_view what = "map");

  Kind kind() const {
    if (std::holds_alternative<Tensor>(content_)) return Kind::kTensor;
    if (std::holds_alternative<std::shared_ptr<const Sequence>>(content_)) return Kind::kSequence;
    if (std::holds_alternative<std::shared_ptr<const Map>>(content_)) return Kind::kMap;
    return Kind::kNone;
  }
  bool is_none() const { return kind() == Kind::kNone; }  // an empty optional or a missing value
  bool is_tensor() const { return kind() == Kind::kTensor; }
  bool is_sequence() const { return kind() == Kind::kSequence; }
  bool is_map() const { return kind() == Kind::kMap; }

  const Tensor& tensor() const;
  Tensor& mutable_tensor();
  const Sequence& sequence_items() const;
  // Element type of a sequence, known even when the sequence is empty.
  DataType sequence_element_type() const { return sequence_element_type_; }
  const Map& map_entries() const;

 private:
  std::variant<std::monostate, Tensor, std::shared_ptr<const Sequence>, std::shared_ptr<const Map>> content_;
  DataType sequence_element_type_ = DataType::kUndefined;
};

}  // namespace onyx
