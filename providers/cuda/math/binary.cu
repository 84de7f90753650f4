// Device code of the broadcasting binary ops and Where. 16-bit floats compute in float;
// integers natively (integer Div truncates toward zero, as the CPU kernels do).
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/math/binary_ops.h"

namespace onyx::cuda {

namespace {

template <typename T>
inline constexpr bool kIsDeviceFloat =
    std::is_same_v<T, float> || std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

// The arithmetic type of T: float for the float kinds, T for integers.
template <typename T>
using ComputeType = std::conditional_t<kIsDeviceFloat<T>, float, T>;

template <typename T>
__device__ __forceinline__ ComputeType<T> load_value(T v) {
  if constexpr (kIsDeviceFloat<T>) return load_float(v); else return v;
}
template <typename T>
__device__ __forceinline__ T store_value(ComputeType<T> v) {
  if constexpr (kIsDeviceFloat<T>) return store_float<T>(v); else return v;
}

template <BinaryOp kOp, typename C>
__device__ __forceinline__ C apply_arithmetic(C a, C b) {
  if constexpr (kOp == BinaryOp::kAdd) return a + b;
  if constexpr (kOp == BinaryOp::kSub) return a - b;
  if constexpr (kOp == BinaryOp::kMul) return a * b;
  if constexpr (kOp == BinaryOp::kDiv) {
    if constexpr (std::is_integral_v<C>) return b == 0 ? C(0) : a / b;  // no trap on the device
    else return a / b;
  }
  if constexpr (kOp == BinaryOp::kPow) {
    if constexpr (std::is_integral_v<C>) {
      C result = 1;
      for (C e = b; e > 0; --e) result *= a;
      return result;
    } else {
      return powf(a, b);
    }
  }
  // NaN propagates through Max/Min, as in ONNX and the CPU kernels.
  if constexpr (kOp == BinaryOp::kMax) {
    if constexpr (std::is_integral_v<C>) return a > b ? a : b;
    else return (a != a || b != b) ? a + b : (a > b ? a : b);
  }
  if constexpr (kOp == BinaryOp::kMin) {
    if constexpr (std::is_integral_v<C>) return a < b ? a : b;
    else return (a != a || b != b) ? a + b : (a < b ? a : b);
  }
  if constexpr (kOp == BinaryOp::kPRelu) return a < C(0) ? a * b : a;
  if constexpr (kOp == BinaryOp::kFmod) {
    if constexpr (std::is_integral_v<C>) return b == 0 ? C(0) : a % b;
    else return fmodf(a, b);
  }
  if constexpr (kOp == BinaryOp::kMod) {  // the sign of the divisor, like Python
    if constexpr (std::is_integral_v<C>) {
      if (b == 0) return C(0);
      C r = a % b;
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    } else {
      float r = fmodf(a, b);
      return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
    }
  }
  return a;
}

template <BinaryOp kOp, typename C>
__device__ __forceinline__ bool apply_comparison(C a, C b) {
  if constexpr (kOp == BinaryOp::kEqual) return a == b;
  if constexpr (kOp == BinaryOp::kLess) return a < b;
  if constexpr (kOp == BinaryOp::kGreater) return a > b;
  if constexpr (kOp == BinaryOp::kLessOrEqual) return a <= b;
  if constexpr (kOp == BinaryOp::kGreaterOrEqual) return a >= b;
  if constexpr (kOp == BinaryOp::kAnd) return a && b;
  if constexpr (kOp == BinaryOp::kOr) return a || b;
  if constexpr (kOp == BinaryOp::kXor) return (a != 0) != (b != 0);
  return false;
}

template <BinaryOp kOp, typename T, typename Out>
__global__ void binary_kernel(const T* a, const T* b, Out* output, int64_t count, BroadcastMap map, bool contiguous) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    int64_t offsets[kMaxBroadcastInputs] = {i, i, 0};
    if (!contiguous) broadcast_offsets(map, i, offsets);
    ComputeType<T> x = load_value(a[offsets[0]]);
    ComputeType<T> y = load_value(b[offsets[1]]);
    if constexpr (std::is_same_v<Out, bool>) {
      output[i] = apply_comparison<kOp>(x, y);
    } else {
      output[i] = store_value<T>(apply_arithmetic<kOp>(x, y));
    }
  }
}

template <BinaryOp kOp, typename T>
void launch_binary_typed(const void* a, const void* b, void* out, int64_t n, const BroadcastMap& map, bool contiguous,
                         cudaStream_t stream) {
  constexpr bool kBoolOut = binary_op_is_comparison(kOp) || binary_op_is_logical(kOp);
  using Out = std::conditional_t<kBoolOut, bool, T>;
  binary_kernel<kOp, T, Out><<<grid_for(n), kThreadsPerBlock, 0, stream>>>(
      static_cast<const T*>(a), static_cast<const T*>(b), static_cast<Out*>(out), n, map, contiguous);
}

template <typename T>
void launch_binary_op(BinaryOp op, const void* a, const void* b, void* out, int64_t n, const BroadcastMap& map,
                      bool contiguous, cudaStream_t s) {
  switch (op) {
#define ONYX_BINARY_CASE(name) \
  case BinaryOp::name: return launch_binary_typed<BinaryOp::name, T>(a, b, out, n, map, contiguous, s);
    ONYX_BINARY_CASE(kAdd) ONYX_BINARY_CASE(kSub) ONYX_BINARY_CASE(kMul) ONYX_BINARY_CASE(kDiv)
    ONYX_BINARY_CASE(kPow) ONYX_BINARY_CASE(kMax) ONYX_BINARY_CASE(kMin) ONYX_BINARY_CASE(kPRelu)
    ONYX_BINARY_CASE(kMod) ONYX_BINARY_CASE(kFmod) ONYX_BINARY_CASE(kEqual) ONYX_BINARY_CASE(kLess)
    ONYX_BINARY_CASE(kGreater) ONYX_BINARY_CASE(kLessOrEqual) ONYX_BINARY_CASE(kGreaterOrEqual)
#undef ONYX_BINARY_CASE
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
    case BinaryOp::kXor:
      break;  // bool only: below
  }
}

void launch_logical(BinaryOp op, const void* a, const void* b, void* out, int64_t n, const BroadcastMap& map,
                    bool contiguous, cudaStream_t s) {
  if (op == BinaryOp::kAnd) launch_binary_typed<BinaryOp::kAnd, bool>(a, b, out, n, map, contiguous, s);
  if (op == BinaryOp::kOr) launch_binary_typed<BinaryOp::kOr, bool>(a, b, out, n, map, contiguous, s);
  if (op == BinaryOp::kXor) launch_binary_typed<BinaryOp::kXor, bool>(a, b, out, n, map, contiguous, s);
}

template <typename T>
__global__ void where_kernel(const bool* condition, const T* x, const T* y, T* output, int64_t count,
                             BroadcastMap map) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    int64_t offsets[kMaxBroadcastInputs];
    broadcast_offsets(map, i, offsets);
    output[i] = condition[offsets[0]] ? x[offsets[1]] : y[offsets[2]];
  }
}

template <typename T>
void launch_where_typed(const void* c, const void* x, const void* y, void* out, int64_t n, const BroadcastMap& map,
                        cudaStream_t s) {
  where_kernel<T><<<grid_for(n), kThreadsPerBlock, 0, s>>>(static_cast<const bool*>(c), static_cast<const T*>(x),
                                                           static_cast<const T*>(y), static_cast<T*>(out), n, map);
}

}  // namespace

bool binary_dtype_supported(BinaryOp op, DataType dtype) {
  if (binary_op_is_logical(op)) return dtype == DataType::kBool;
  switch (dtype) {
    case DataType::kFloat:
    case DataType::kFloat16:
    case DataType::kBFloat16:
    case DataType::kInt32:
    case DataType::kInt64:
      return true;
    case DataType::kBool:
      return op == BinaryOp::kEqual;
    default:
      return false;
  }
}

void launch_binary(BinaryOp op, DataType dtype, const void* a, const void* b, void* output, int64_t count,
                   const BroadcastMap& map, bool contiguous, cudaStream_t stream) {
  if (count == 0) return;
  if (binary_op_is_logical(op)) {
    launch_logical(op, a, b, output, count, map, contiguous, stream);
  } else {
    switch (dtype) {
      case DataType::kFloat: launch_binary_op<float>(op, a, b, output, count, map, contiguous, stream); break;
      case DataType::kFloat16: launch_binary_op<__half>(op, a, b, output, count, map, contiguous, stream); break;
      case DataType::kBFloat16:
        launch_binary_op<__nv_bfloat16>(op, a, b, output, count, map, contiguous, stream);
        break;
      case DataType::kInt32: launch_binary_op<int32_t>(op, a, b, output, count, map, contiguous, stream); break;
      case DataType::kInt64: launch_binary_op<int64_t>(op, a, b, output, count, map, contiguous, stream); break;
      case DataType::kBool:
        launch_binary_typed<BinaryOp::kEqual, uint8_t>(a, b, output, count, map, contiguous, stream);
        break;
      default: throw_error(ErrorCode::kNotImplemented, "CUDA binary op: element type ", dtype_name(dtype));
    }
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

bool where_dtype_supported(DataType dtype) {
  int bits = dtype_bits(dtype);
  return dtype != DataType::kString && (bits == 8 || bits == 16 || bits == 32 || bits == 64);
}

void launch_where(DataType dtype, const void* condition, const void* x, const void* y, void* output, int64_t count,
                  const BroadcastMap& map, cudaStream_t stream) {
  if (count == 0) return;
  // Where only moves elements: pick by width.
  switch (dtype_bits(dtype)) {
    case 8: launch_where_typed<uint8_t>(condition, x, y, output, count, map, stream); break;
    case 16: launch_where_typed<uint16_t>(condition, x, y, output, count, map, stream); break;
    case 32: launch_where_typed<uint32_t>(condition, x, y, output, count, map, stream); break;
    case 64: launch_where_typed<uint64_t>(condition, x, y, output, count, map, stream); break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA Where: element type ", dtype_name(dtype));
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
