// Element types of ONNX tensors. The numeric values are TensorProto.DataType codes so a
// conversion to and from protobuf is a cast.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/common/error.h"
#include "runtime/tensor/half.h"

namespace onyx {

enum class DataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBFloat16 = 16,
  kFloat8E4M3FN = 17,
  kFloat8E4M3FNUZ = 18,
  kFloat8E5M2 = 19,
  kFloat8E5M2FNUZ = 20,
  kUInt4 = 21,
  kInt4 = 22,
  kFloat4E2M1 = 23,
  kFloat8E8M0 = 24,
  kUInt2 = 25,
  kInt2 = 26,
  kFloat6E2M3 = 27,
  kFloat6E3M2 = 28,
};

constexpr int32_t kMaxDataTypeCode = 28;

// Bits one element occupies in memory. Sub-byte types are packed, low bits first, as ONNX
// stores them; string tensors hold std::string objects.
int dtype_bits(DataType type);
namespace detail {
// dtype_bits by TensorProto code, for the inline dtype_storage_bits below.
inline constexpr int kDataTypeBits[kMaxDataTypeCode + 1] = {
    0, 32, 8, 8, 16, 16, 32, 64, 8 * sizeof(std::string), 8, 16, 64, 32, 64, 64, 128,
    16, 8, 8, 8, 8, 4, 4, 4, 8, 2, 2, 6, 6};
}  // namespace detail
// dtype_bits inline (every allocation asks it); an unknown code takes dtype_bits' error.
inline int dtype_storage_bits(DataType type) {
  const auto code = static_cast<uint32_t>(type);
  return code <= static_cast<uint32_t>(kMaxDataTypeCode) ? detail::kDataTypeBits[code] : dtype_bits(type);
}
std::string_view dtype_name(DataType type);  // ONNX spelling: "float", "int64", "float16", ...
DataType dtype_from_code(int32_t code);      // throws on a code outside the enum
bool dtype_is_float(DataType type);          // float, double, float16, bfloat16, float8 kinds
bool dtype_is_integer(DataType type);        // signed or unsigned, any width, not bool
bool dtype_is_signed(DataType type);
// Bytes a dense buffer of `count` elements needs (rounds packed types up to whole bytes).
size_t dtype_storage_bytes(DataType type, int64_t count);

// Maps C++ element types to DataType codes, for typed access and kernel dispatch.
template <typename T>
struct DataTypeOf;
#define ONYX_DTYPE_OF(CppType, Code) \
  template <>                        \
  struct DataTypeOf<CppType> {       \
    static constexpr DataType value = DataType::Code; \
  };
ONYX_DTYPE_OF(float, kFloat)
ONYX_DTYPE_OF(double, kDouble)
ONYX_DTYPE_OF(Float16, kFloat16)
ONYX_DTYPE_OF(BFloat16, kBFloat16)
ONYX_DTYPE_OF(int8_t, kInt8)
ONYX_DTYPE_OF(int16_t, kInt16)
ONYX_DTYPE_OF(int32_t, kInt32)
ONYX_DTYPE_OF(int64_t, kInt64)
ONYX_DTYPE_OF(uint8_t, kUInt8)
ONYX_DTYPE_OF(uint16_t, kUInt16)
ONYX_DTYPE_OF(uint32_t, kUInt32)
ONYX_DTYPE_OF(uint64_t, kUInt64)
ONYX_DTYPE_OF(bool, kBool)
ONYX_DTYPE_OF(std::string, kString)
ONYX_DTYPE_OF(std::complex<float>, kComplex64)
ONYX_DTYPE_OF(std::complex<double>, kComplex128)
#undef ONYX_DTYPE_OF

template <typename T>
constexpr DataType dtype_of() {
  return DataTypeOf<T>::value;
}

}  // namespace onyx
