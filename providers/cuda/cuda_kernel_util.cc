#include "providers/cuda/cuda_kernel_util.h"

#include <cstring>

namespace onyx::cuda {

DataType inferred_input_type(const KernelInfo& info, size_t input) {
  if (input >= info.input_count() || !info.has_input(input)) return DataType::kUndefined;
  const TypeInfo& type = info.input_type(input);
  return type.is_tensor() ? type.elem_type : DataType::kUndefined;
}

bool input_type_in(const KernelInfo& info, size_t input, std::initializer_list<DataType> types) {
  DataType type = inferred_input_type(info, input);
  if (type == DataType::kUndefined) return true;
  for (DataType allowed : types) {
    if (allowed == type) return true;
  }
  return false;
}

void throw_cuda_unsupported_type(const Node& node, size_t input, DataType type, const std::string& supported) {
  throw_error(ErrorCode::kNotImplemented, "CUDA ", node.op_type, " (node '", node.name, "'): input ", input,
              " of type ", dtype_name(type), " is not supported on CUDA (supported: ", supported, ")");
}

void throw_cuda_unsupported_type(const KernelInfo& info, size_t input, const std::string& supported) {
  throw_cuda_unsupported_type(info.node(), input, inferred_input_type(info, input), supported);
}

void check_cuda_input_type(const Node& node, size_t input, DataType type, std::initializer_list<DataType> types,
                           const std::string& supported) {
  for (DataType allowed : types) {
    if (allowed == type) return;
  }
  throw_cuda_unsupported_type(node, input, type, supported);
}

std::vector<int64_t> host_int64s(const Tensor& tensor, const Node& node, size_t input) {
  if (!tensor.device().is_cpu()) {
    throw_error(ErrorCode::kRuntimeFailure, "CUDA ", node.op_type, " (node '", node.name, "'): input ", input,
                " must be on the host (its kernel registration reads it there)");
  }
  return tensor.to_int64_vector();
}

float host_scalar_as_float(const Tensor& tensor, const Node& node, size_t input) {
  if (!tensor.device().is_cpu()) {
    throw_error(ErrorCode::kRuntimeFailure, "CUDA ", node.op_type, " (node '", node.name, "'): input ", input,
                " must be on the host (its kernel registration reads it there)");
  }
  if (tensor.element_count() != 1) {
    throw_error(ErrorCode::kInvalidArgument, node.op_type, " (node '", node.name, "'): input ", input,
                " must hold one value, got shape ", shape_to_string(tensor.shape()));
  }
  return static_cast<float>(tensor.element_as_double(0));
}

int cuda_element_width(const Node& node, size_t input, DataType type) {
  int bits = type == DataType::kString ? 0 : dtype_bits(type);
  int bytes = bits / 8;
  if (bits % 8 != 0 || !(bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8)) {
    throw_cuda_unsupported_type(node, input, type, "element types of 1, 2, 4 or 8 bytes");
  }
  return bytes;
}

bool cuda_copyable_type(const KernelInfo& info, size_t input) {
  DataType type = inferred_input_type(info, input);
  if (type == DataType::kUndefined) return true;
  int bits = type == DataType::kString ? 0 : dtype_bits(type);
  int bytes = bits / 8;
  return bits % 8 == 0 && (bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8);
}

uint64_t cuda_element_bits(const Node& node, DataType type, float value) {
  uint64_t bits = 0;
  auto put = [&](auto element) { std::memcpy(&bits, &element, sizeof(element)); };
  switch (type) {
    case DataType::kFloat: put(value); break;
    case DataType::kDouble: put(static_cast<double>(value)); break;
    case DataType::kFloat16: put(Float16(value).bits); break;
    case DataType::kBFloat16: put(BFloat16(value).bits); break;
    case DataType::kInt32: put(static_cast<int32_t>(value)); break;
    case DataType::kInt64: put(static_cast<int64_t>(value)); break;
    case DataType::kInt8: put(static_cast<int8_t>(value)); break;
    case DataType::kUInt8: put(static_cast<uint8_t>(value)); break;
    case DataType::kInt16: put(static_cast<int16_t>(value)); break;
    case DataType::kUInt16: put(static_cast<uint16_t>(value)); break;
    case DataType::kBool: put(static_cast<uint8_t>(value != 0.0f)); break;
    default:
      throw_cuda_unsupported_type(node, 0, type,
                                  "float, double, float16, bfloat16, int8, uint8, int16, uint16, int32, int64, bool");
  }
  return bits;
}

}  // namespace onyx::cuda
