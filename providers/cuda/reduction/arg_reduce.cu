// Device code of ArgMax/ArgMin: a thread per output element walks its axis (the comparisons
// are the CPU kernel's, so ties and NaNs resolve the same way).
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/reduction/arg_reduce_ops.h"

namespace onyx::cuda {

namespace {

template <typename T>
__device__ __forceinline__ auto arg_value(T v) {
  if constexpr (std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>) return load_float(v); else return v;
}

template <bool kMax, bool kLast, typename T>
__global__ void arg_reduce_kernel(const T* input, int64_t* output, int64_t outer, int64_t length, int64_t inner) {
  ONYX_GRID_STRIDE_LOOP(o, outer * inner) {
    const T* base = input + (o / inner) * length * inner + o % inner;
    auto best = arg_value(base[0]);
    int64_t index = 0;
    for (int64_t k = 1; k < length; ++k) {
      auto v = arg_value(base[k * inner]);
      bool better = kMax ? (kLast ? v >= best : v > best) : (kLast ? v <= best : v < best);
      if (better) {
        best = v;
        index = k;
      }
    }
    output[o] = index;
  }
}

template <typename T>
void launch_arg_reduce_typed(bool max, bool last, const void* in, int64_t* out, int64_t outer, int64_t length,
                             int64_t inner, cudaStream_t stream) {
  const T* input = static_cast<const T*>(in);
  unsigned grid = grid_for(outer * inner);
  if (max && last) arg_reduce_kernel<true, true, T><<<grid, kThreadsPerBlock, 0, stream>>>(input, out, outer, length, inner);
  if (max && !last) arg_reduce_kernel<true, false, T><<<grid, kThreadsPerBlock, 0, stream>>>(input, out, outer, length, inner);
  if (!max && last) arg_reduce_kernel<false, true, T><<<grid, kThreadsPerBlock, 0, stream>>>(input, out, outer, length, inner);
  if (!max && !last) arg_reduce_kernel<false, false, T><<<grid, kThreadsPerBlock, 0, stream>>>(input, out, outer, length, inner);
}

}  // namespace

bool arg_reduce_dtype_supported(DataType dtype) {
  return dtype == DataType::kFloat || dtype == DataType::kFloat16 || dtype == DataType::kBFloat16 ||
         dtype == DataType::kInt32 || dtype == DataType::kInt64;
}

void launch_arg_reduce(DataType dtype, bool max, bool select_last, const void* input, int64_t* output, int64_t outer,
                       int64_t length, int64_t inner, cudaStream_t stream) {
  if (outer * inner == 0 || length == 0) return;
  switch (dtype) {
    case DataType::kFloat: launch_arg_reduce_typed<float>(max, select_last, input, output, outer, length, inner, stream); break;
    case DataType::kFloat16: launch_arg_reduce_typed<__half>(max, select_last, input, output, outer, length, inner, stream); break;
    case DataType::kBFloat16:
      launch_arg_reduce_typed<__nv_bfloat16>(max, select_last, input, output, outer, length, inner, stream);
      break;
    case DataType::kInt32: launch_arg_reduce_typed<int32_t>(max, select_last, input, output, outer, length, inner, stream); break;
    case DataType::kInt64: launch_arg_reduce_typed<int64_t>(max, select_last, input, output, outer, length, inner, stream); break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA ArgMax/ArgMin: element type ", dtype_name(dtype));
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
