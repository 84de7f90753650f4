// Element access shared by the quantization kernels: reading any quantized or scale tensor as
// floats (scales and zero points are small; data goes through typed loops instead), and
// encoding one float into the packed int4/int2 and small-float formats.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "providers/cpu/math/elementwise.h"
#include "providers/cpu/math/small_floats.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

inline bool is_packed_int_type(DataType t) {
  return t == DataType::kInt4 || t == DataType::kUInt4 || t == DataType::kInt2 ||
         t == DataType::kUInt2;
}

inline int packed_bits(DataType t) {
  return (t == DataType::kInt4 || t == DataType::kUInt4) ? 4 : 2;
}

// Element i of a packed tensor: element i is bits [i*b, (i+1)*b) counted from byte 0's low bit.
inline int packed_get(DataType t, const uint8_t* data, int64_t i) {
  const int bits = packed_bits(t);
  const int per_byte = 8 / bits;
  const int raw = (data[i / per_byte] >> ((i % per_byte) * bits)) & ((1 << bits) - 1);
  const bool is_signed = t == DataType::kInt4 || t == DataType::kInt2;
  return is_signed && raw >= (1 << (bits - 1)) ? raw - (1 << bits) : raw;
}

// Inclusive integer range of an integer quantized type.
inline void quant_range(DataType t, float& lo, float& hi) {
  switch (t) {
    case DataType::kUInt8: lo = 0; hi = 255; return;
    case DataType::kInt8: lo = -128; hi = 127; return;
    case DataType::kUInt16: lo = 0; hi = 65535; return;
    case DataType::kInt16: lo = -32768; hi = 32767; return;
    case DataType::kUInt4: lo = 0; hi = 15; return;
    case DataType::kInt4: lo = -8; hi = 7; return;
    case DataType::kUInt2: lo = 0; hi = 3; return;
    case DataType::kInt2: lo = -2; hi = 1; return;
    default: lo = hi = 0; return;
  }
}

// Every element of `t` as float (exact for all the types quantization uses, int32 aside).
inline std::vector<float> read_as_float(const Tensor& t, std::string_view op) {
  const int64_t n = t.element_count();
  std::vector<float> out(static_cast<size_t>(n));
  const DataType type = t.dtype();
  const auto* bytes = static_cast<const uint8_t*>(t.raw_data());
  if (is_packed_int_type(type)) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(packed_get(type, bytes, i));
    return out;
  }
  if (type == DataType::kFloat8E8M0) {
    for (int64_t i = 0; i < n; ++i) out[i] = e8m0_decode(bytes[i]);
    return out;
  }
  const SmallFloatFormat format = small_float_format(type);
  if (format.exponent_bits != 0) {
    if (type == DataType::kFloat4E2M1) {
      for (int64_t i = 0; i < n; ++i) {
        out[i] = small_float_decode(format, static_cast<uint8_t>((bytes[i / 2] >> ((i % 2) * 4)) & 0xF));
      }
    } else {
      for (int64_t i = 0; i < n; ++i) out[i] = small_float_decode(format, bytes[i]);
    }
    return out;
  }
  const bool known = dispatch_dtype(NumericTypes{}, type, [&]<typename T>() {
    const T* data = t.data<T>();
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(load(data[i]));
  });
  if (!known) {
    throw_error(ErrorCode::kNotImplemented, op, ": element type ", dtype_name(type),
                " is not supported on CPU");
  }
  return out;
}

}  // namespace onyx
