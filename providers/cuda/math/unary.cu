// Device code of the unary elementwise ops: one grid-stride kernel per (op, element type).
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/math/unary_ops.h"

namespace onyx::cuda {

namespace {

template <UnaryOp kOp>
__device__ __forceinline__ float apply_unary(float x, const UnaryParams& p) {
  if constexpr (kOp == UnaryOp::kRelu) return x > 0.0f ? x : 0.0f;
  if constexpr (kOp == UnaryOp::kSigmoid) return 1.0f / (1.0f + expf(-x));
  if constexpr (kOp == UnaryOp::kTanh) return tanhf(x);
  if constexpr (kOp == UnaryOp::kExp) return expf(x);
  if constexpr (kOp == UnaryOp::kLog) return logf(x);
  if constexpr (kOp == UnaryOp::kSqrt) return sqrtf(x);
  if constexpr (kOp == UnaryOp::kNeg) return -x;
  if constexpr (kOp == UnaryOp::kAbs) return fabsf(x);
  if constexpr (kOp == UnaryOp::kErf) return erff(x);
  if constexpr (kOp == UnaryOp::kReciprocal) return 1.0f / x;
  if constexpr (kOp == UnaryOp::kGelu) return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
  if constexpr (kOp == UnaryOp::kGeluTanh) {
    float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + tanhf(inner));
  }
  if constexpr (kOp == UnaryOp::kHardSigmoid) return fminf(1.0f, fmaxf(0.0f, p.alpha * x + p.beta));
  if constexpr (kOp == UnaryOp::kHardSwish) return x * fminf(1.0f, fmaxf(0.0f, x / 6.0f + 0.5f));
  if constexpr (kOp == UnaryOp::kLeakyRelu) return x < 0.0f ? p.alpha * x : x;
  // fminf/fmaxf would drop a NaN input: Clip keeps it.
  if constexpr (kOp == UnaryOp::kClip) return x != x ? x : (x < p.alpha ? p.alpha : (x > p.beta ? p.beta : x));
  // log(1 + e^x) overflows for large x, where it equals x to float precision.
  if constexpr (kOp == UnaryOp::kSoftplus) return x > 20.0f ? x : log1pf(expf(x));
  if constexpr (kOp == UnaryOp::kSoftsign) return x / (1.0f + fabsf(x));
  if constexpr (kOp == UnaryOp::kElu) return x < 0.0f ? p.alpha * expm1f(x) : x;
  if constexpr (kOp == UnaryOp::kSelu) return p.gamma * (x <= 0.0f ? p.alpha * expm1f(x) : x);
  if constexpr (kOp == UnaryOp::kSwish) return x / (1.0f + expf(-p.alpha * x));
  if constexpr (kOp == UnaryOp::kMish) return x * tanhf(x > 20.0f ? x : log1pf(expf(x)));
  if constexpr (kOp == UnaryOp::kFloor) return floorf(x);
  if constexpr (kOp == UnaryOp::kCeil) return ceilf(x);
  if constexpr (kOp == UnaryOp::kSin) return sinf(x);
  if constexpr (kOp == UnaryOp::kCos) return cosf(x);
  if constexpr (kOp == UnaryOp::kSign) return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);
  if constexpr (kOp == UnaryOp::kRound) return rintf(x);  // halves to even, as ONNX Round
  if constexpr (kOp == UnaryOp::kTan) return tanf(x);
  if constexpr (kOp == UnaryOp::kAsin) return asinf(x);
  if constexpr (kOp == UnaryOp::kAcos) return acosf(x);
  if constexpr (kOp == UnaryOp::kAtan) return atanf(x);
  if constexpr (kOp == UnaryOp::kSinh) return sinhf(x);
  if constexpr (kOp == UnaryOp::kCosh) return coshf(x);
  if constexpr (kOp == UnaryOp::kAsinh) return asinhf(x);
  if constexpr (kOp == UnaryOp::kAcosh) return acoshf(x);
  if constexpr (kOp == UnaryOp::kAtanh) return atanhf(x);
  if constexpr (kOp == UnaryOp::kThresholdedRelu) return x > p.alpha ? x : 0.0f;
  if constexpr (kOp == UnaryOp::kCelu) return fmaxf(0.0f, x) + fminf(0.0f, p.alpha * expm1f(x / p.alpha));
  // Shrink: alpha = lambd, beta = bias.
  if constexpr (kOp == UnaryOp::kShrink) return x < -p.alpha ? x + p.beta : (x > p.alpha ? x - p.beta : 0.0f);
  if constexpr (kOp == UnaryOp::kScale) return p.alpha * x;
  return x;
}

template <typename T, UnaryOp kOp>
__global__ void unary_kernel(const T* input, T* output, int64_t count, UnaryParams params) {
  ONYX_GRID_STRIDE_LOOP(i, count) { output[i] = store_float<T>(apply_unary<kOp>(load_float(input[i]), params)); }
}

template <typename T, UnaryOp kOp>
void launch_unary_typed(const void* input, void* output, int64_t count, UnaryParams params, cudaStream_t stream) {
  unary_kernel<T, kOp><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<const T*>(input),
                                                                         static_cast<T*>(output), count, params);
}

template <typename T>
void launch_unary_op(UnaryOp op, const void* in, void* out, int64_t n, UnaryParams p, cudaStream_t s) {
  switch (op) {
#define ONYX_UNARY_CASE(name) \
  case UnaryOp::name: return launch_unary_typed<T, UnaryOp::name>(in, out, n, p, s);
    ONYX_UNARY_CASE(kRelu) ONYX_UNARY_CASE(kSigmoid) ONYX_UNARY_CASE(kTanh) ONYX_UNARY_CASE(kExp)
    ONYX_UNARY_CASE(kLog) ONYX_UNARY_CASE(kSqrt) ONYX_UNARY_CASE(kNeg) ONYX_UNARY_CASE(kAbs)
    ONYX_UNARY_CASE(kErf) ONYX_UNARY_CASE(kReciprocal) ONYX_UNARY_CASE(kGelu) ONYX_UNARY_CASE(kGeluTanh)
    ONYX_UNARY_CASE(kHardSigmoid) ONYX_UNARY_CASE(kHardSwish) ONYX_UNARY_CASE(kLeakyRelu)
    ONYX_UNARY_CASE(kClip) ONYX_UNARY_CASE(kSoftplus) ONYX_UNARY_CASE(kSoftsign) ONYX_UNARY_CASE(kElu)
    ONYX_UNARY_CASE(kSelu) ONYX_UNARY_CASE(kSwish) ONYX_UNARY_CASE(kMish) ONYX_UNARY_CASE(kFloor)
    ONYX_UNARY_CASE(kCeil) ONYX_UNARY_CASE(kSin) ONYX_UNARY_CASE(kCos) ONYX_UNARY_CASE(kSign)
    ONYX_UNARY_CASE(kIdentity) ONYX_UNARY_CASE(kRound) ONYX_UNARY_CASE(kTan) ONYX_UNARY_CASE(kAsin)
    ONYX_UNARY_CASE(kAcos) ONYX_UNARY_CASE(kAtan) ONYX_UNARY_CASE(kSinh) ONYX_UNARY_CASE(kCosh)
    ONYX_UNARY_CASE(kAsinh) ONYX_UNARY_CASE(kAcosh) ONYX_UNARY_CASE(kAtanh) ONYX_UNARY_CASE(kThresholdedRelu)
    ONYX_UNARY_CASE(kCelu) ONYX_UNARY_CASE(kShrink) ONYX_UNARY_CASE(kScale)
#undef ONYX_UNARY_CASE
  }
}

}  // namespace

bool unary_dtype_supported(DataType dtype) {
  return dtype == DataType::kFloat || dtype == DataType::kFloat16 || dtype == DataType::kBFloat16;
}

void launch_unary(UnaryOp op, DataType dtype, const void* input, void* output, int64_t count,
                  UnaryParams params, cudaStream_t stream) {
  if (count == 0) return;
  switch (dtype) {
    case DataType::kFloat: launch_unary_op<float>(op, input, output, count, params, stream); break;
    case DataType::kFloat16: launch_unary_op<__half>(op, input, output, count, params, stream); break;
    case DataType::kBFloat16: launch_unary_op<__nv_bfloat16>(op, input, output, count, params, stream); break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA unary op: element type ", dtype_name(dtype));
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
