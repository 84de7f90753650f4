// Making eager tensors and getting values out: filled tensors of any element type, copies from
// and to plain buffers, and moving between devices. Tensor::from_vector / Tensor::scalar
// (runtime/tensor/tensor.h) build tensors from C++ values.
#pragma once

#include <cstring>
#include <vector>

#include "runtime/tensor/tensor.h"

namespace onyx {

// A host tensor of `shape` with every element `value` (converted to `dtype`).
Tensor full(DataType dtype, Shape shape, double value);
inline Tensor zeros(DataType dtype, Shape shape) { return full(dtype, std::move(shape), 0.0); }
inline Tensor ones(DataType dtype, Shape shape) { return full(dtype, std::move(shape), 1.0); }
// Same type and shape as `like`; inside a trace, computed by the graph when `like` is symbolic.
Tensor zeros_like(const Tensor& like);
Tensor ones_like(const Tensor& like);
// A scalar of `like`'s element type (for `tensor + 2.0`).
Tensor scalar_like(double value, const Tensor& like);

// Copies `bytes` bytes (exactly the tensor's size) from a plain buffer into a new host tensor.
Tensor from_buffer(DataType dtype, Shape shape, const void* data, size_t bytes);
// Copies a host tensor's elements into a plain buffer of exactly byte_size() bytes.
void copy_to_buffer(const Tensor& tensor, void* data, size_t bytes);
template <typename T>
std::vector<T> to_vector(const Tensor& tensor) {
  auto values = tensor.values<T>();
  return std::vector<T>(values.begin(), values.end());
}

// The tensor on `device` (a copy unless it is there already). Only the host exists in builds
// without a device provider; other devices give a clear error.
Tensor to_device(const Tensor& tensor, Device device);

}  // namespace onyx
