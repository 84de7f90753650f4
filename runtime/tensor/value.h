// What flows along a graph edge: a tensor, a sequence of tensors, or an optional that may be
// empty. Kernels of plain tensor ops only ever see tensors; sequence and optional ops use the
// other alternatives.
#pragma once

#include <memory>
#include <variant>
#include <vector>

#include "runtime/tensor/tensor.h"

namespace onyx {

class Value;
using Sequence = std::vector<Value>;

class Value {
 public:
  enum class Kind { kNone, kTensor, kSequence };

  Value() = default;
  Value(Tensor tensor) : content_(std::move(tensor)) {}  // NOLINT: implicit on purpose
  static Value sequence(Sequence items, DataType element_type) {
    Value value;
    value.content_ = std::make_shared<const Sequence>(std::move(items));
    value.sequence_element_type_ = element_type;
    return value;
  }

  Kind kind() const {
    if (std::holds_alternative<Tensor>(content_)) return Kind::kTensor;
    if (std::holds_alternative<std::shared_ptr<const Sequence>>(content_)) return Kind::kSequence;
    return Kind::kNone;
  }
  bool is_none() const { return kind() == Kind::kNone; }  // an empty optional or a missing value
  bool is_tensor() const { return kind() == Kind::kTensor; }
  bool is_sequence() const { return kind() == Kind::kSequence; }

  const Tensor& tensor() const;
  Tensor& mutable_tensor();
  const Sequence& sequence_items() const;
  // Element type of a sequence, known even when the sequence is empty.
  DataType sequence_element_type() const { return sequence_element_type_; }

 private:
  std::variant<std::monostate, Tensor, std::shared_ptr<const Sequence>> content_;
  DataType sequence_element_type_ = DataType::kUndefined;
};

}  // namespace onyx
