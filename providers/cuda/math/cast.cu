// Device code of Cast: every pair of the supported types. 16-bit floats go through float;
// a cast to bool tests for non-zero (NaN is true), as the CPU kernel does.
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/math/cast_ops.h"

namespace onyx::cuda {

namespace {

template <typename T>
inline constexpr bool kIsHalfKind = std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

template <typename Out, typename In>
__device__ __forceinline__ Out convert_element(In value) {
  if constexpr (kIsHalfKind<In>) {
    return convert_element<Out>(load_float(value));
  } else if constexpr (std::is_same_v<Out, bool>) {
    return value != In(0);
  } else if constexpr (kIsHalfKind<Out>) {
    return store_float<Out>(static_cast<float>(value));
  } else {
    return static_cast<Out>(value);
  }
}

template <typename In, typename Out>
__global__ void cast_kernel(const In* input, Out* output, int64_t count) {
  ONYX_GRID_STRIDE_LOOP(i, count) { output[i] = convert_element<Out>(input[i]); }
}

template <typename Fn>
bool with_cast_type(DataType type, Fn&& fn) {
  switch (type) {
    case DataType::kFloat: fn(float{}); return true;
    case DataType::kDouble: fn(double{}); return true;
    case DataType::kFloat16: fn(__half{}); return true;
    case DataType::kBFloat16: fn(__nv_bfloat16{}); return true;
    case DataType::kInt8: fn(int8_t{}); return true;
    case DataType::kUInt8: fn(uint8_t{}); return true;
    case DataType::kInt16: fn(int16_t{}); return true;
    case DataType::kInt32: fn(int32_t{}); return true;
    case DataType::kInt64: fn(int64_t{}); return true;
    case DataType::kBool: fn(bool{}); return true;
    default: return false;
  }
}

}  // namespace

bool cast_dtype_supported(DataType dtype) {
  return with_cast_type(dtype, [](auto) {});
}

void launch_cast(DataType from, DataType to, const void* input, void* output, int64_t count, cudaStream_t stream) {
  if (count == 0) return;
  bool known = with_cast_type(from, [&](auto in_tag) {
    using In = decltype(in_tag);
    with_cast_type(to, [&](auto out_tag) {
      using Out = decltype(out_tag);
      cast_kernel<In, Out><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<const In*>(input),
                                                                            static_cast<Out*>(output), count);
    });
  });
  if (!known || !cast_dtype_supported(to)) {
    throw_error(ErrorCode::kNotImplemented, "CUDA Cast from ", dtype_name(from), " to ", dtype_name(to));
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
