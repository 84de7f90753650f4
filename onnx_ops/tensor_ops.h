// Output shapes of the tensor-manipulation ops on concrete shapes, shared by their shape
// rules (onnx_ops/tensor_ops*.cc) and their CPU kernels (providers/cpu/tensor/).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/tensor/tensor.h"

namespace onyx {

Shape flatten_shape(const Shape& input, int64_t axis);
// Empty `axes` removes every dim of size 1; a named axis whose dim is not 1 throws.
Shape squeeze_shape(const Shape& input, std::span<const int64_t> axes);
Shape unsqueeze_shape(const Shape& input, std::span<const int64_t> axes);
// `perm` empty means reversed dims; otherwise checked to be a permutation of 0..rank-1.
std::vector<int64_t> resolve_perm(std::span<const int64_t> perm, size_t rank);
Shape concat_shape(std::span<const Shape> inputs, int64_t axis);
// Pads as [begin_0.., end_0..] over all dims, from pads given for `axes` (empty: all dims).
std::vector<int64_t> resolve_pads(std::span<const int64_t> pads, std::span<const int64_t> axes,
                                  size_t rank);
// dim + begin + end of a padded axis, checked: throws naming the axis when the sum overflows or
// when negative pads remove more than the axis holds.
int64_t padded_dim(int64_t dim, int64_t begin, int64_t end, size_t axis);
// OneHot's depth input (one value of any numeric type) as a positive count; NaN, infinities,
// zero, negative values and values of 2^63 or more are refused.
int64_t one_hot_depth(const Tensor& depth);
Shape tile_shape(const Shape& input, std::span<const int64_t> repeats);
// Elements of Range(start, limit, delta): max(ceil((limit - start) / delta), 0).
int64_t range_count(double start, double limit, double delta);

}  // namespace onyx
