// What the reduction family means, independent of providers: how Reduce*, ArgMax/ArgMin,
// CumSum/CumProd and TopK resolve their axes (attribute or input, by opset), the output shapes,
// and a plan that groups a reduction into contiguous rows so kernels keep vectorizable loops.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "onnx_ops/axes.h"  // normalize_axis
#include "runtime/tensor/tensor.h"

namespace onyx {

// True when `op_type` (a Reduce* op) takes its axes as input 1 at `opset` rather than as an
// attribute: ReduceSum from opset 13, the other Reduce* ops from opset 18.
bool reduce_axes_from_input(std::string_view op_type, int64_t opset);

// Axes made non-negative, sorted; throws on an axis out of range or given twice.
std::vector<int64_t> normalize_axes(std::span<const int64_t> axes, int64_t rank,
                                    std::string_view what);

// Axes a Reduce* node reduces, normalized: empty `axes` means every dim, or none with
// noop_with_empty_axes (then the op only applies its elementwise part, as in ONNX).
std::vector<int64_t> resolve_reduce_axes(std::span<const int64_t> axes, bool noop_with_empty_axes,
                                         int64_t rank, std::string_view what);

// Shape after reducing the (normalized) `axes`; an empty `axes` reduces nothing.
Shape reduced_shape(const Shape& shape, std::span<const int64_t> axes, bool keepdims);

// A reduction of a non-empty tensor regrouped for kernels. Dims of size 1 are dropped and
// adjacent dims that are both reduced or both kept are merged. Each output "block" holds
// `block_width` consecutive outputs; each block reduces `row_count` input rows of `row_length`
// contiguous elements, found at block_offset + row offset.
//  - inner_reduced: the innermost dim is reduced, block_width = 1 and a row reduces to one value
//    (KR: rows are contiguous);
//  - otherwise the innermost dim is kept, row_length = block_width, and rows accumulate
//    elementwise into the block (RK: no strided gathers).
class ReducePlan {
 public:
  ReducePlan(const Shape& shape, std::span<const int64_t> axes);

  bool inner_reduced() const { return inner_reduced_; }
  int64_t row_length() const { return row_length_; }
  int64_t block_width() const { return inner_reduced_ ? 1 : row_length_; }
  int64_t block_count() const { return count(block_dims_); }
  int64_t row_count() const { return count(row_dims_); }
  // Elements that reduce into each output (the divisor of a mean).
  int64_t reduced_count() const { return row_count() * (inner_reduced_ ? row_length_ : 1); }

  // Calls f(index, input_offset) for blocks [begin, end).
  template <typename F>
  void for_each_block(int64_t begin, int64_t end, const F& f) const {
    walk(block_dims_, block_strides_, begin, end, f);
  }
  // Calls f(index, relative_input_offset) for rows [begin, end) of any block.
  template <typename F>
  void for_each_row(int64_t begin, int64_t end, const F& f) const {
    walk(row_dims_, row_strides_, begin, end, f);
  }

 private:
  static int64_t count(const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
  // Odometer over dims (outer to inner) with input strides.
  template <typename F>
  static void walk(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                   int64_t begin, int64_t end, const F& f);

  bool inner_reduced_ = false;
  int64_t row_length_ = 1;
  std::vector<int64_t> block_dims_, block_strides_;
  std::vector<int64_t> row_dims_, row_strides_;
};

template <typename F>
void ReducePlan::walk(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                      int64_t begin, int64_t end, const F& f) {
  if (begin >= end) return;
  const size_t rank = dims.size();
  if (rank == 0) {
    f(int64_t{0}, int64_t{0});
    return;
  }
  if (rank == 1) {
    for (int64_t i = begin; i < end; ++i) f(i, i * strides[0]);
    return;
  }
  std::array<int64_t, 32> index{};  // merged dims alternate kept/reduced: rank <= 16 per side
  int64_t offset = 0;
  int64_t rest = begin;
  for (size_t d = rank; d-- > 0;) {
    index[d] = rest % dims[d];
    rest /= dims[d];
    offset += index[d] * strides[d];
  }
  for (int64_t i = begin; i < end; ++i) {
    f(i, offset);
    for (size_t d = rank; d-- > 0;) {
      offset += strides[d];
      if (++index[d] < dims[d]) break;
      offset -= index[d] * strides[d];
      index[d] = 0;
    }
  }
}

}  // namespace onyx
