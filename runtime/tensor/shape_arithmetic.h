// Checked shape arithmetic: dim products and sums, element counts and byte counts computed with
// overflow checks. Every shape rule and every allocation goes through these, so a hostile shape
// (a ConstantOfShape of [2^31, 2^31], a Tile repeat of 2^62) becomes an error naming the shape
// instead of a wrapped size that allocates too little.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/tensor/dtype.h"

namespace onyx {

using Shape = std::vector<int64_t>;

std::string shape_to_string(const Shape& shape);  // "[2,3,4]"

// a * b and a + b, or nullopt when the result does not fit int64. Inline, as is the common
// path of shape_element_count and storage_bytes: every allocation of every node computes them,
// and as calls into another file they were a quarter of a small node's run-time overhead.
inline std::optional<int64_t> multiply_dims(int64_t a, int64_t b) {
  int64_t result;
  if (__builtin_mul_overflow(a, b, &result)) return std::nullopt;
  return result;
}
inline std::optional<int64_t> add_dims(int64_t a, int64_t b) {
  int64_t result;
  if (__builtin_add_overflow(a, b, &result)) return std::nullopt;
  return result;
}
// The same, throwing kInvalidModel "<what> overflows int64 (a * b)" on overflow.
int64_t checked_dim_product(int64_t a, int64_t b, std::string_view what);
int64_t checked_dim_sum(int64_t a, int64_t b, std::string_view what);

// floor(value) as a dim: nullopt for NaN, an infinity, a negative value or one of 2^63 or more
// (a scale or a count computed in floating point, whose cast to int64 would be undefined).
std::optional<int64_t> floor_to_dim(double value);
// The same, throwing kInvalidArgument "<what> is <value>, not a dimension" instead of nullopt.
int64_t checked_floor_to_dim(double value, std::string_view what);

// 1 for a scalar, 0 if any dim is 0; throws on a negative dim or a count over int64.
int64_t shape_element_count_slow(const Shape& shape);  // the checks and errors, out of line
inline int64_t shape_element_count(const Shape& shape) {
  int64_t count = 1;
  bool unusual = false;  // a negative dim, or an overflow (which a 0 dim may still excuse)
  for (int64_t dim : shape) {
    unusual |= dim < 0;
    unusual |= __builtin_mul_overflow(count, dim, &count);
  }
  return unusual ? shape_element_count_slow(shape) : count;
}

// The bytes `count` elements of `type` occupy, or nullopt when that does not fit size_t.
inline std::optional<size_t> storage_bytes(DataType type, int64_t count) {
  size_t bits;
  if (count < 0 ||
      __builtin_mul_overflow(static_cast<size_t>(count), static_cast<size_t>(dtype_storage_bits(type)), &bits) ||
      bits > SIZE_MAX - 7) {
    return std::nullopt;
  }
  return (bits + 7) / 8;
}
// The exact decimal byte count of a `type` tensor of `shape` (non-negative dims), however large:
// for messages about tensors whose size overflows 64 bits.
std::string exact_storage_bytes(DataType type, const Shape& shape);

}  // namespace onyx
