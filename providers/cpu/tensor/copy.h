// Shared machinery of the CPU data-movement kernels (Transpose, Slice, Expand, Tile, Pad,
// Concat, Gather, ...): elements are moved by size, not by meaning, so one instantiation per
// element width serves every dtype; strings are copied as objects. The strided copy merges
// dims and moves contiguous runs with memcpy, so layout-preserving cases run at memory speed.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "providers/kernel.h"
#include "runtime/common/parallel.h"

namespace onyx {

// Below this many elements per chunk a parallel region costs more than it saves.
constexpr int64_t kCopyGrain = 16384;

template <size_t N>
struct ByteBlock {
  unsigned char bytes[N];
};

// Calls fn.template operator()<T>() with T a trivially copyable type of the element's width,
// or std::string for strings. Sub-byte types throw kNotImplemented naming `op`.
template <typename Fn>
void dispatch_by_width(DataType dtype, std::string_view op, Fn&& fn) {
  if (dtype == DataType::kString) return fn.template operator()<std::string>();
  switch (dtype_bits(dtype)) {
    case 8: return fn.template operator()<uint8_t>();
    case 16: return fn.template operator()<uint16_t>();
    case 32: return fn.template operator()<uint32_t>();
    case 64: return fn.template operator()<uint64_t>();
    case 128: return fn.template operator()<ByteBlock<16>>();
    default:
      throw_error(ErrorCode::kNotImplemented, op, ": element type ", dtype_name(dtype),
                  " is not supported on CPU");
  }
}

// Copies `count` elements; memcpy for plain types.
template <typename T>
inline void copy_elements(const T* src, T* dst, int64_t count) {
  if constexpr (std::is_trivially_copyable_v<T>) {
    if (count > 0) std::memcpy(dst, src, static_cast<size_t>(count) * sizeof(T));
  } else {
    for (int64_t i = 0; i < count; ++i) dst[i] = src[i];
  }
}

// Copies a whole tensor's contents (same element count) into `dst`, any dtype, sub-byte
// packed types included.
void copy_tensor_data(const Tensor& src, Tensor& dst);

// dst[i0*ds0 + i1*ds1 + ...] = src[i0*ss0 + i1*ss1 + ...] over `shape`, strides in elements
// (source strides may be 0 to repeat or negative to walk backwards). Both pointers point at
// the element of index 0.
void strided_copy(DataType dtype, const void* src, void* dst, const Shape& shape,
                  const std::vector<int64_t>& src_strides, const std::vector<int64_t>& dst_strides,
                  int threads);

// Fills `count` elements of `dst` (of `dtype`) with the scalar `value` tensor's element.
void fill_with_scalar(const Tensor& value, void* dst, int64_t count, int threads);

}  // namespace onyx

namespace onyx {

// Calls fn.template operator()<T>() for the arithmetic element types (16-bit floats as their
// storage structs) and bool; kNotImplemented naming `op` for anything else.
template <typename Fn>
void dispatch_numeric(DataType dtype, std::string_view op, Fn&& fn) {
  switch (dtype) {
    case DataType::kFloat: return fn.template operator()<float>();
    case DataType::kDouble: return fn.template operator()<double>();
    case DataType::kFloat16: return fn.template operator()<Float16>();
    case DataType::kBFloat16: return fn.template operator()<BFloat16>();
    case DataType::kInt8: return fn.template operator()<int8_t>();
    case DataType::kInt16: return fn.template operator()<int16_t>();
    case DataType::kInt32: return fn.template operator()<int32_t>();
    case DataType::kInt64: return fn.template operator()<int64_t>();
    case DataType::kUInt8: return fn.template operator()<uint8_t>();
    case DataType::kUInt16: return fn.template operator()<uint16_t>();
    case DataType::kUInt32: return fn.template operator()<uint32_t>();
    case DataType::kUInt64: return fn.template operator()<uint64_t>();
    case DataType::kBool: return fn.template operator()<bool>();
    default:
      throw_error(ErrorCode::kNotImplemented, op, ": element type ", dtype_name(dtype),
                  " is not supported on CPU");
  }
}

// Converts between element types through float for the 16-bit float structs.
template <typename To, typename From>
inline To cast_element(From value) {
  if constexpr (std::is_same_v<From, Float16> || std::is_same_v<From, BFloat16>) {
    return cast_element<To>(static_cast<float>(value));
  } else if constexpr (std::is_same_v<To, Float16> || std::is_same_v<To, BFloat16>) {
    return To(static_cast<float>(value));
  } else {
    return static_cast<To>(value);
  }
}

}  // namespace onyx

namespace onyx {

// Writes the transpose of `src` (shape `in_shape`) by `perm` into contiguous `dst`; defined in
// transpose.cc. Blocked when the innermost dim moves, memcpy runs when it stays.
void transpose_data(DataType dtype, const void* src, const Shape& in_shape,
                    const std::vector<int64_t>& perm, void* dst, int threads);

}  // namespace onyx
