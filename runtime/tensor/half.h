// 16-bit float storage types (IEEE half and bfloat16). Arithmetic happens in float: kernels
// convert on load and store, which is how every CPU without native fp16 math must do it.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace onyx {

struct Float16 {
  uint16_t bits = 0;

  Float16() = default;
  explicit Float16(float value) : bits(from_float(value)) {}
  operator float() const { return to_float(bits); }

  static Float16 from_bits(uint16_t raw) {
    Float16 h;
    h.bits = raw;
    return h;
  }

  static uint16_t from_float(float value) {
    uint32_t f = std::bit_cast<uint32_t>(value);
    uint32_t sign = (f >> 16) & 0x8000u;
    uint32_t abs = f & 0x7fffffffu;
    if (abs >= 0x7f800000u) {  // inf or nan
      return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
    }
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
    if (abs < 0x38800000u) {  // subnormal or zero in half: round to nearest even
      if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
      uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
      int shift = 113 - static_cast<int>(abs >> 23) + 13;
      uint32_t half = mantissa >> shift;
      uint32_t rem = mantissa & ((1u << shift) - 1u);
      uint32_t midpoint = 1u << (shift - 1);
      if (rem > midpoint || (rem == midpoint && (half & 1u))) ++half;
      return static_cast<uint16_t>(sign | half);
    }
    uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);  // round to nearest even
    return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  }

  static float to_float(uint16_t h) {
    uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    uint32_t f;
    if (exponent == 0) {
      if (mantissa == 0) {
        f = sign;
      } else {  // normalise the subnormal
        exponent = 127 - 15 + 1;
        while (!(mantissa & 0x400u)) {
          mantissa <<= 1;
          --exponent;
        }
        mantissa &= 0x3ffu;
        f = sign | (exponent << 23) | (mantissa << 13);
      }
    } else if (exponent == 0x1f) {
      f = sign | 0x7f800000u | (mantissa << 13);
    } else {
      f = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    return std::bit_cast<float>(f);
  }
};

struct BFloat16 {
  uint16_t bits = 0;

  BFloat16() = default;
  explicit BFloat16(float value) : bits(from_float(value)) {}
  operator float() const { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

  static BFloat16 from_bits(uint16_t raw) {
    BFloat16 b;
    b.bits = raw;
    return b;
  }

  static uint16_t from_float(float value) {
    uint32_t f = std::bit_cast<uint32_t>(value);
    if ((f & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((f >> 16) | 0x40u);  // quiet nan
    uint32_t rounding = 0x7fffu + ((f >> 16) & 1u);  // round to nearest even
    return static_cast<uint16_t>((f + rounding) >> 16);
  }
};

static_assert(sizeof(Float16) == 2 && sizeof(BFloat16) == 2);

}  // namespace onyx
