// Device code of Not/IsNaN/IsInf (elementwise) and CumSum (a thread per scanned line; lines are
// independent, so the device is busy whenever outer * inner is large, the common case).
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/math/predicate_ops.h"

namespace onyx::cuda {

namespace {

template <typename T>
__device__ __forceinline__ double predicate_value(T v) {
  if constexpr (std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>) return load_float(v);
  else return static_cast<double>(v);
}

template <typename T>
__global__ void predicate_kernel(PredicateOp op, const T* input, bool* output, int64_t count, bool positive,
                                 bool negative) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    if constexpr (std::is_same_v<T, bool>) {
      output[i] = !input[i];
    } else {
      double v = predicate_value(input[i]);
      output[i] = op == PredicateOp::kIsNaN ? v != v : ((positive && isinf(v) && v > 0) || (negative && isinf(v) && v < 0));
    }
  }
}

template <typename T>
using ScanType = std::conditional_t<std::is_integral_v<T>, T, float>;

template <typename T>
__global__ void cumsum_kernel(const T* input, T* output, int64_t outer, int64_t length, int64_t inner, bool exclusive,
                              bool reverse) {
  ONYX_GRID_STRIDE_LOOP(line, outer * inner) {
    int64_t base = (line / inner) * length * inner + line % inner;
    ScanType<T> total = 0;
    for (int64_t step = 0; step < length; ++step) {
      int64_t k = reverse ? length - 1 - step : step;
      int64_t at = base + k * inner;
      ScanType<T> value;
      if constexpr (std::is_integral_v<T>) value = input[at]; else value = load_float(input[at]);
      if (exclusive) {
        if constexpr (std::is_integral_v<T>) output[at] = total; else output[at] = store_float<T>(total);
        total += value;
      } else {
        total += value;
        if constexpr (std::is_integral_v<T>) output[at] = total; else output[at] = store_float<T>(total);
      }
    }
  }
}

}  // namespace

bool predicate_dtype_supported(PredicateOp op, DataType dtype) {
  if (op == PredicateOp::kNot) return dtype == DataType::kBool;
  return dtype == DataType::kFloat || dtype == DataType::kDouble || dtype == DataType::kFloat16 ||
         dtype == DataType::kBFloat16;
}

void launch_predicate(PredicateOp op, DataType dtype, const void* input, bool* output, int64_t count,
                      bool detect_positive, bool detect_negative, cudaStream_t stream) {
  if (count == 0) return;
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    predicate_kernel<T><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(op, static_cast<const T*>(input), output, count,
                                                                          detect_positive, detect_negative);
  };
  switch (dtype) {
    case DataType::kBool: launch(bool{}); break;
    case DataType::kFloat: launch(float{}); break;
    case DataType::kDouble: launch(double{}); break;
    case DataType::kFloat16: launch(__half{}); break;
    case DataType::kBFloat16: launch(__nv_bfloat16{}); break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA Not/IsNaN/IsInf: element type ", dtype_name(dtype));
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

bool cumsum_dtype_supported(DataType dtype) {
  return dtype == DataType::kFloat || dtype == DataType::kFloat16 || dtype == DataType::kBFloat16 ||
         dtype == DataType::kInt32 || dtype == DataType::kInt64;
}

void launch_cumsum(DataType dtype, const void* input, void* output, int64_t outer, int64_t length, int64_t inner,
                   bool exclusive, bool reverse, cudaStream_t stream) {
  if (outer * length * inner == 0) return;
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    cumsum_kernel<T><<<grid_for(outer * inner), kThreadsPerBlock, 0, stream>>>(
        static_cast<const T*>(input), static_cast<T*>(output), outer, length, inner, exclusive, reverse);
  };
  switch (dtype) {
    case DataType::kFloat: launch(float{}); break;
    case DataType::kFloat16: launch(__half{}); break;
    case DataType::kBFloat16: launch(__nv_bfloat16{}); break;
    case DataType::kInt32: launch(int32_t{}); break;
    case DataType::kInt64: launch(int64_t{}); break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA CumSum: element type ", dtype_name(dtype));
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
