#include "runtime/tensor/value.h"

namespace onyx {

const Tensor& Value::tensor() const {
  if (!is_tensor()) throw_error(ErrorCode::kRuntimeFailure, "value is not a tensor");
  return std::get<Tensor>(content_);
}

Tensor& Value::mutable_tensor() {
  if (!is_tensor()) throw_error(ErrorCode::kRuntimeFailure, "value is not a tensor");
  return std::get<Tensor>(content_);
}

const Sequence& Value::sequence_items() const {
  if (!is_sequence()) throw_error(ErrorCode::kRuntimeFailure, "value is not a sequence");
  return *std::get<std::shared_ptr<const Sequence>>(content_);
}

}  // namespace onyx
