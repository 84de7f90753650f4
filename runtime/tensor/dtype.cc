#include "runtime/tensor/dtype.h"

#include "runtime/tensor/shape_arithmetic.h"

namespace onyx {

namespace {
struct DataTypeFacts {
  std::string_view name;
  int bits;
};

// Indexed by the TensorProto code.
constexpr DataTypeFacts kFacts[kMaxDataTypeCode + 1] = {
    {"undefined", 0},       {"float", 32},          {"uint8", 8},         {"int8", 8},
    {"uint16", 16},         {"int16", 16},          {"int32", 32},        {"int64", 64},
    {"string", 8 * sizeof(std::string)}, {"bool", 8}, {"float16", 16},  {"double", 64},
    {"uint32", 32},         {"uint64", 64},         {"complex64", 64},    {"complex128", 128},
    {"bfloat16", 16},       {"float8e4m3fn", 8},    {"float8e4m3fnuz", 8}, {"float8e5m2", 8},
    {"float8e5m2fnuz", 8},  {"uint4", 4},           {"int4", 4},          {"float4e2m1", 4},
    {"float8e8m0", 8},      {"uint2", 2},           {"int2", 2},          {"float6e2m3", 6},
    {"float6e3m2", 6},
};

constexpr bool bits_match_the_inline_table() {
  for (int code = 0; code <= kMaxDataTypeCode; ++code) {
    if (kFacts[code].bits != detail::kDataTypeBits[code]) return false;
  }
  return true;
}
static_assert(bits_match_the_inline_table(), "dtype.h's kDataTypeBits must list the bits of kFacts");

const DataTypeFacts& facts(DataType type) {
  auto code = static_cast<int32_t>(type);
  if (code < 0 || code > kMaxDataTypeCode) {
    throw_error(ErrorCode::kNotImplemented, "unknown tensor element type code ", code);
  }
  return kFacts[code];
}
}  // namespace

int dtype_bits(DataType type) { return facts(type).bits; }

std::string_view dtype_name(DataType type) { return facts(type).name; }

DataType dtype_from_code(int32_t code) {
  if (code <= 0 || code > kMaxDataTypeCode) {
    throw_error(ErrorCode::kInvalidModel, "unknown tensor element type code ", code);
  }
  return static_cast<DataType>(code);
}

bool dtype_is_float(DataType type) {
  switch (type) {
    case DataType::kFloat:
    case DataType::kDouble:
    case DataType::kFloat16:
    case DataType::kBFloat16:
    case DataType::kFloat8E4M3FN:
    case DataType::kFloat8E4M3FNUZ:
    case DataType::kFloat8E5M2:
    case DataType::kFloat8E5M2FNUZ:
    case DataType::kFloat8E8M0:
    case DataType::kFloat4E2M1:
    case DataType::kFloat6E2M3:
    case DataType::kFloat6E3M2:
      return true;
    default:
      return false;
  }
}

bool dtype_is_signed(DataType type) {
  switch (type) {
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kInt4:
    case DataType::kInt2:
      return true;
    default:
      return false;
  }
}

bool dtype_is_integer(DataType type) {
  switch (type) {
    case DataType::kUInt8:
    case DataType::kUInt16:
    case DataType::kUInt32:
    case DataType::kUInt64:
    case DataType::kUInt4:
    case DataType::kUInt2:
      return true;
    default:
      return dtype_is_signed(type);
  }
}

size_t dtype_storage_bytes(DataType type, int64_t count) {
  if (std::optional<size_t> bytes = storage_bytes(type, count)) return *bytes;
  throw_error(ErrorCode::kInvalidArgument, count, " elements of ", dtype_name(type),
              " take more bytes than fit in 64 bits");
}

}  // namespace onyx
