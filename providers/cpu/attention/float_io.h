// Reading and writing float, float16 and bfloat16 tensors through float buffers, for the
// transformer kernels that compute in float whatever their storage type.
#pragma once

#include <cstring>
#include <string_view>
#include <vector>

#include "runtime/tensor/half.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

inline bool is_attention_float_type(DataType type) {
  return type == DataType::kFloat || type == DataType::kFloat16 || type == DataType::kBFloat16;
}

// Throws kNotImplemented naming `op` unless `tensor` is float, float16 or bfloat16.
inline void check_attention_float_type(const Tensor& tensor, std::string_view op,
                                       std::string_view input) {
  if (!is_attention_float_type(tensor.dtype())) {
    throw_error(ErrorCode::kNotImplemented, op, ": ", input, " of type ",
                dtype_name(tensor.dtype()), " is not supported (float, float16, bfloat16)");
  }
}

inline std::vector<float> to_float_vector(const Tensor& tensor) {
  std::vector<float> out(static_cast<size_t>(tensor.element_count()));
  switch (tensor.dtype()) {
    case DataType::kFloat:
      if (!out.empty()) std::memcpy(out.data(), tensor.data<float>(), out.size() * sizeof(float));
      break;
    case DataType::kFloat16: {
      const Float16* in = tensor.data<Float16>();
      for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(in[i]);
      break;
    }
    case DataType::kBFloat16: {
      const BFloat16* in = tensor.data<BFloat16>();
      for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(in[i]);
      break;
    }
    default:
      throw_error(ErrorCode::kNotImplemented, "float conversion of ", dtype_name(tensor.dtype()));
  }
  return out;
}

// Stores float values into `tensor` (float, float16 or bfloat16), rounding to nearest.
inline void store_floats(const float* values, Tensor& tensor) {
  const int64_t n = tensor.element_count();
  switch (tensor.dtype()) {
    case DataType::kFloat:
      if (n > 0) std::memcpy(tensor.mutable_data<float>(), values, n * sizeof(float));
      break;
    case DataType::kFloat16: {
      Float16* out = tensor.mutable_data<Float16>();
      for (int64_t i = 0; i < n; ++i) out[i] = Float16(values[i]);
      break;
    }
    case DataType::kBFloat16: {
      BFloat16* out = tensor.mutable_data<BFloat16>();
      for (int64_t i = 0; i < n; ++i) out[i] = BFloat16(values[i]);
      break;
    }
    default:
      throw_error(ErrorCode::kNotImplemented, "float conversion to ", dtype_name(tensor.dtype()));
  }
}

}  // namespace onyx
