// Encoders and decoders of ONNX's 8-bit and 4-bit float formats (float8 E4M3FN, E4M3FNUZ,
// E5M2, E5M2FNUZ, E8M0 and float4 E2M1), through float, with round-to-nearest-even and the
// saturation rules of the ONNX reference (saturate clips +-inf and overflow to +-max).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "runtime/tensor/dtype.h"

namespace onyx {

struct SmallFloatFormat {
  int exponent_bits;
  int mantissa_bits;
  int bias;
  bool has_inf;         // E5M2 only: exponent all ones, mantissa 0
  bool nan_is_0x80;     // FNUZ: the only NaN is the negative zero code
  bool nan_all_ones;    // E4M3FN: S.1111.111 is NaN
  bool has_nan;         // E2M1 has none
  uint8_t max_code;     // largest finite magnitude
};

// Format of a small float dtype; exponent_bits == 0 when `type` is not one.
inline SmallFloatFormat small_float_format(DataType type) {
  switch (type) {
    case DataType::kFloat8E4M3FN: return {4, 3, 7, false, false, true, true, 0x7E};
    case DataType::kFloat8E4M3FNUZ: return {4, 3, 8, false, true, false, true, 0x7F};
    case DataType::kFloat8E5M2: return {5, 2, 15, true, false, false, true, 0x7B};
    case DataType::kFloat8E5M2FNUZ: return {5, 2, 16, false, true, false, true, 0x7F};
    case DataType::kFloat4E2M1: return {2, 1, 1, false, false, false, false, 0x7};
    default: return {0, 0, 0, false, false, false, false, 0};
  }
}

inline float small_float_decode(const SmallFloatFormat& f, uint8_t code) {
  const int bits = 1 + f.exponent_bits + f.mantissa_bits;
  const uint8_t sign_bit = static_cast<uint8_t>(1u << (bits - 1));
  const uint8_t magnitude = code & static_cast<uint8_t>(sign_bit - 1);
  const float sign = (code & sign_bit) ? -1.0f : 1.0f;
  const int exponent = magnitude >> f.mantissa_bits;
  const int mantissa = magnitude & ((1 << f.mantissa_bits) - 1);
  const int exponent_max = (1 << f.exponent_bits) - 1;
  if (f.nan_is_0x80 && code == sign_bit) return std::numeric_limits<float>::quiet_NaN();
  if (f.nan_all_ones && magnitude == sign_bit - 1) return std::numeric_limits<float>::quiet_NaN();
  if (f.has_inf && exponent == exponent_max) {
    return mantissa == 0 ? sign * std::numeric_limits<float>::infinity()
                         : std::numeric_limits<float>::quiet_NaN();
  }
  if (exponent == 0) return sign * std::ldexp(static_cast<float>(mantissa), 1 - f.bias - f.mantissa_bits);
  return sign * std::ldexp(static_cast<float>(mantissa + (1 << f.mantissa_bits)),
                           exponent - f.bias - f.mantissa_bits);
}

inline uint8_t small_float_encode(const SmallFloatFormat& f, float value, bool saturate) {
  const int bits = 1 + f.exponent_bits + f.mantissa_bits;
  const uint8_t sign_bit = static_cast<uint8_t>(1u << (bits - 1));
  const bool negative = std::signbit(value);
  const uint8_t sign = negative ? sign_bit : 0;
  // NaN codes as the reference writes them: FNUZ 0x80; E4M3FN S.1111.111 (keeping the sign);
  // E5M2 0x7E; E2M1 has no NaN and gets -0.
  const uint8_t nan_code = f.nan_is_0x80   ? sign_bit
                           : f.nan_all_ones ? static_cast<uint8_t>(sign | (sign_bit - 1))
                           : f.has_nan      ? static_cast<uint8_t>(sign_bit - 2)
                                            : sign_bit;
  if (std::isnan(value)) return nan_code;
  const float a = std::fabs(value);
  const float max_value = small_float_decode(f, f.max_code);
  uint8_t magnitude;
  if (std::isinf(a) && !saturate && f.has_nan) {
    if (!f.has_inf) return nan_code;
    magnitude = static_cast<uint8_t>(f.max_code + 1);  // E5M2 infinity
  } else if (a >= std::ldexp(1.0f, 1 - f.bias)) {
    // Normal: round the float's mantissa to nearest even, letting a carry bump the exponent.
    uint32_t bits32 = std::bit_cast<uint32_t>(std::isinf(a) ? max_value * 2 : a);
    const int shift = 23 - f.mantissa_bits;
    uint32_t rounded = bits32 + ((1u << (shift - 1)) - 1) + ((bits32 >> shift) & 1u);
    int64_t code = static_cast<int64_t>(rounded >> shift) -
                   (static_cast<int64_t>(127 - f.bias) << f.mantissa_bits);
    if (code > f.max_code) {
      if (saturate || !f.has_nan) {
        code = f.max_code;
      } else if (f.has_inf) {
        code = f.max_code + 1;
      } else {
        return nan_code;
      }
    }
    magnitude = static_cast<uint8_t>(code);
  } else {
    // Subnormal or zero: a power-of-two scale is exact, nearbyint rounds half to even.
    magnitude = static_cast<uint8_t>(std::nearbyint(std::ldexp(a, f.bias - 1 + f.mantissa_bits)));
  }
  if (magnitude == 0 && f.nan_is_0x80) return 0;  // FNUZ has no negative zero
  return static_cast<uint8_t>(sign | magnitude);
}

// E8M0: a bare power of two (code 255 is NaN), rounded by `round_mode` (up, down, nearest).
inline float e8m0_decode(uint8_t code) {
  if (code == 0xFF) return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.0f, static_cast<int>(code) - 127);
}

inline uint8_t e8m0_encode(float value, bool saturate, std::string_view round_mode) {
  const uint32_t f = std::bit_cast<uint32_t>(value);
  uint32_t exponent = (f >> 23) & 0xFFu;
  if (exponent == 0xFFu) return 0xFF;
  bool round_up = false;
  if (round_mode == "up") {
    round_up = (f & 0x7FFFFFu) != 0;
  } else if (round_mode == "nearest") {
    const bool g = f & 0x400000u, r = f & 0x200000u, s = f & 0x1FFFFFu, lsb = exponent > 0;
    round_up = g && (r || s || lsb);
  }
  if (round_up && saturate && exponent == 0xFE) round_up = false;
  return static_cast<uint8_t>(exponent + (round_up ? 1 : 0));
}

}  // namespace onyx
