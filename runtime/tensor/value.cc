#include "runtime/tensor/value.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

namespace onyx {

namespace {

// The entry order that sorts `keys` ascending; throws when a key appears twice.
template <typename K>
std::vector<int64_t> sorted_key_order(const Tensor& keys, std::string_view what) {
  const K* k = keys.data<K>();
  std::vector<int64_t> order(static_cast<size_t>(keys.element_count()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [k](int64_t a, int64_t b) { return k[a] < k[b]; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (k[order[i]] == k[order[i - 1]]) {
      if constexpr (std::is_same_v<K, std::string>) {
        throw_error(ErrorCode::kInvalidArgument, what, ": key \"", k[order[i]], "\" appears twice");
      } else {
        throw_error(ErrorCode::kInvalidArgument, what, ": key ", k[order[i]], " appears twice");
      }
    }
  }
  return order;
}

// `tensor`'s elements in `order`, as a new 1-D tensor.
Tensor gathered_entries(const Tensor& tensor, const std::vector<int64_t>& order) {
  Tensor out(tensor.dtype(), {static_cast<int64_t>(order.size())});
  for (size_t i = 0; i < order.size(); ++i) copy_element(tensor, order[i], out, static_cast<int64_t>(i));
  return out;
}

}  // namespace

void copy_element(const Tensor& from, int64_t i, Tensor& to, int64_t j) {
  if (from.dtype() == DataType::kString) {
    to.mutable_data<std::string>()[j] = from.data<std::string>()[i];
    return;
  }
  const size_t width = dtype_storage_bytes(from.dtype(), 1);
  std::memcpy(static_cast<char*>(to.mutable_raw_data()) + j * width,
              static_cast<const char*>(from.raw_data()) + i * width, width);
}

Value Value::map(Tensor keys, Tensor values, std::string_view what) {
  ONYX_CHECK(keys.dtype() == DataType::kInt64 || keys.dtype() == DataType::kString,
             ErrorCode::kInvalidArgument, what, ": keys must be int64 or string, got ",
             dtype_name(keys.dtype()));
  ONYX_CHECK(keys.rank() == 1 && values.rank() == 1 && keys.dim(0) == values.dim(0),
             ErrorCode::kInvalidArgument, what, ": keys ", shape_to_string(keys.shape()), " and values ",
             shape_to_string(values.shape()), " must be 1-D of one length");
  ONYX_CHECK(keys.device().is_host_memory() && values.device().is_host_memory() &&
                 dtype_bits(values.dtype()) >= 8,
             ErrorCode::kInvalidArgument, what, ": map entries must be host tensors of whole bytes");
  std::vector<int64_t> order = keys.dtype() == DataType::kInt64 ? sorted_key_order<int64_t>(keys, what)
                                                                : sorted_key_order<std::string>(keys, what);
  Value value;
  value.content_ = std::make_shared<const Map>(Map{gathered_entries(keys, order), gathered_entries(values, order)});
  return value;
}

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

const Map& Value::map_entries() const {
  if (!is_map()) throw_error(ErrorCode::kRuntimeFailure, "value is not a map");
  return *std::get<std::shared_ptr<const Map>>(content_);
}

}  // namespace onyx
