// Small constant tensors the layers pass to eager ops (axes, shapes, slice bounds).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/tensor/tensor.h"

namespace onyx::nn {

inline Tensor int64_list(const std::vector<int64_t>& values) {
  return Tensor::from_vector<int64_t>(Shape{static_cast<int64_t>(values.size())}, values);
}

// x W^T (+ b): torch's Linear as one Gemm.
Tensor gemm_transposed_b(const Tensor& x, const Tensor& w, const Tensor* bias);

// The input's static dim `axis` (negative counts from the end), which a layer needs to build
// its parameters; a dim unknown at trace time is an error naming the layer.
int64_t static_dim(const Tensor& x, int64_t axis, const char* layer);

}  // namespace onyx::nn
