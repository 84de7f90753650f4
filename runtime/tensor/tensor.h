// A dense tensor: element type, shape and a reference-counted buffer. Tensors are cheap to
// copy (copies share the buffer); `clone()` makes a deep copy. Buffers may live on any device;
// typed element access is only valid for host tensors.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/tensor/allocator.h"
#include "runtime/tensor/dtype.h"
#include "runtime/tensor/shape_arithmetic.h"

namespace onyx {

class Tensor {
 public:
  Tensor() = default;
  // Allocates an uninitialised buffer (strings are default-constructed).
  Tensor(DataType dtype, Shape shape, Allocator& allocator = *cpu_allocator());
  // A view of memory owned elsewhere; `owner` keeps it alive (may be null for static memory).
  static Tensor view(DataType dtype, Shape shape, void* data, std::shared_ptr<void> owner,
                     Device device = {});
  // A symbolic tensor, as eager tracing (runtime/eager/trace.h) hands to a traced function: an
  // element type and a shape (-1 for a dim known only at run time) but no data. `handle`
  // identifies the graph value it stands for. Reading its elements throws.
  static Tensor symbolic(DataType dtype, Shape shape, std::shared_ptr<void> handle);

  // Builds a host tensor from values, e.g. Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4}).
  template <typename T>
  static Tensor from_vector(Shape shape, const std::vector<T>& values);
  template <typename T>
  static Tensor scalar(T value) {
    return from_vector<T>({}, std::vector<T>{value});
  }

  bool defined() const { return dtype_ != DataType::kUndefined; }
  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t dim(size_t axis) const { return shape_[axis]; }
  int64_t element_count() const { return element_count_; }  // -1: symbolic with unknown dims
  size_t byte_size() const { return dtype_storage_bytes(dtype_, element_count_); }
  Device device() const { return device_; }
  bool is_symbolic() const { return symbolic_; }
  // The handle given to symbolic(); null for tensors with data.
  const std::shared_ptr<void>& symbolic_handle() const;

  const void* raw_data() const { return data_; }
  void* mutable_raw_data() { return data_; }

  template <typename T>
  const T* data() const {
    check_type(dtype_of<T>());
    return static_cast<const T*>(data_);
  }
  template <typename T>
  T* mutable_data() {
    check_type(dtype_of<T>());
    return static_cast<T*>(data_);
  }
  template <typename T>
  std::span<const T> values() const {
    return {data<T>(), static_cast<size_t>(element_count_)};
  }

  // Same buffer, new shape with the same element count.
  Tensor reshaped(Shape shape) const;
  // Deep copy on the host.
  Tensor clone() const;
  // Reads any integer tensor's elements as int64 (shape inputs, axes, indices).
  std::vector<int64_t> to_int64_vector() const;
  // Reads element `index` of any real-valued tensor as double.
  double element_as_double(int64_t index) const;

 private:
  void check_type(DataType requested) const;
  void check_has_data(const char* what) const;

  DataType dtype_ = DataType::kUndefined;
  bool symbolic_ = false;
  Shape shape_;
  int64_t element_count_ = 0;
  Device device_;
  void* data_ = nullptr;
  std::shared_ptr<void> storage_;  // owns (or keeps alive) the memory data_ points into
};

template <typename T>
Tensor Tensor::from_vector(Shape shape, const std::vector<T>& values) {
  Tensor tensor(dtype_of<T>(), std::move(shape));
  if (static_cast<int64_t>(values.size()) != tensor.element_count()) {
    throw_error(ErrorCode::kInvalidArgument, "Tensor::from_vector: ", values.size(),
                " values for shape ", shape_to_string(tensor.shape()));
  }
  T* out = tensor.mutable_data<T>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return tensor;
}

}  // namespace onyx
