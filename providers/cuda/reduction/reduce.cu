// Device code of the Reduce* ops, accumulating in float: a block per output element when each
// reduces many inputs (block-wide tree), a thread per output element otherwise.
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/reduction/reduce_ops.h"

namespace onyx::cuda {

namespace {

template <ReduceOp kOp>
__device__ __forceinline__ float reduce_identity() {
  if constexpr (kOp == ReduceOp::kMax) return -INFINITY;
  if constexpr (kOp == ReduceOp::kMin) return INFINITY;
  if constexpr (kOp == ReduceOp::kProd) return 1.0f;
  return 0.0f;
}

// The value each element contributes (|x|, x^2, e^(x - shift)).
template <ReduceOp kOp>
__device__ __forceinline__ float reduce_term(float x, float shift) {
  if constexpr (kOp == ReduceOp::kSumSquare || kOp == ReduceOp::kL2) return x * x;
  if constexpr (kOp == ReduceOp::kL1) return fabsf(x);
  if constexpr (kOp == ReduceOp::kLogSumExp) return expf(x - shift);
  return x;
}

template <ReduceOp kOp>
__device__ __forceinline__ float reduce_combine(float a, float b) {
  if constexpr (kOp == ReduceOp::kMax) return (a != a || b != b) ? a + b : fmaxf(a, b);
  if constexpr (kOp == ReduceOp::kMin) return (a != a || b != b) ? a + b : fminf(a, b);
  if constexpr (kOp == ReduceOp::kProd) return a * b;
  return a + b;
}

template <ReduceOp kOp>
__device__ __forceinline__ float reduce_finish(float total, int64_t count, float shift) {
  if constexpr (kOp == ReduceOp::kMean) return total / static_cast<float>(count);
  if constexpr (kOp == ReduceOp::kL2) return sqrtf(total);
  if constexpr (kOp == ReduceOp::kLogSumExp) return logf(total) + shift;
  return total;
}

template <ReduceOp kOp>
struct ReduceCombiner {
  __device__ float operator()(float a, float b) const { return reduce_combine<kOp>(a, b); }
};

// Log-sum-exp shifts by the maximum first (one extra pass), so large inputs do not overflow.
template <typename T>
__device__ float thread_max(const T* input, int64_t base, const StridedMap& reduced, int64_t begin, int64_t count,
                            int64_t step) {
  float high = -INFINITY;
  for (int64_t r = begin; r < count; r += step) high = fmaxf(high, load_float(input[base + strided_offset(reduced, r)]));
  return high;
}

template <ReduceOp kOp, typename T>
__global__ void reduce_block_kernel(const T* input, T* output, int64_t out_count, StridedMap kept, StridedMap reduced,
                                    int64_t reduced_count) {
  for (int64_t o = blockIdx.x; o < out_count; o += gridDim.x) {
    int64_t base = strided_offset(kept, o);
    float shift = 0.0f;
    if constexpr (kOp == ReduceOp::kLogSumExp) {
      shift = block_reduce(thread_max(input, base, reduced, threadIdx.x, reduced_count, blockDim.x), MaxCombine{},
                           -INFINITY);
      if (isinf(shift)) shift = 0.0f;
    }
    float partial = reduce_identity<kOp>();
    for (int64_t r = threadIdx.x; r < reduced_count; r += blockDim.x) {
      partial = reduce_combine<kOp>(partial, reduce_term<kOp>(load_float(input[base + strided_offset(reduced, r)]), shift));
    }
    float total = block_reduce(partial, ReduceCombiner<kOp>{}, reduce_identity<kOp>());
    if (threadIdx.x == 0) output[o] = store_float<T>(reduce_finish<kOp>(total, reduced_count, shift));
  }
}

template <ReduceOp kOp, typename T>
__global__ void reduce_thread_kernel(const T* input, T* output, int64_t out_count, StridedMap kept, StridedMap reduced,
                                     int64_t reduced_count) {
  ONYX_GRID_STRIDE_LOOP(o, out_count) {
    int64_t base = strided_offset(kept, o);
    float shift = 0.0f;
    if constexpr (kOp == ReduceOp::kLogSumExp) {
      shift = thread_max(input, base, reduced, 0, reduced_count, 1);
      if (isinf(shift)) shift = 0.0f;
    }
    float total = reduce_identity<kOp>();
    for (int64_t r = 0; r < reduced_count; ++r) {
      total = reduce_combine<kOp>(total, reduce_term<kOp>(load_float(input[base + strided_offset(reduced, r)]), shift));
    }
    output[o] = store_float<T>(reduce_finish<kOp>(total, reduced_count, shift));
  }
}

template <ReduceOp kOp, typename T>
void launch_reduce_typed(const void* in, void* out, int64_t out_count, const StridedMap& kept, const StridedMap& reduced,
                         int64_t reduced_count, cudaStream_t stream) {
  const T* input = static_cast<const T*>(in);
  T* output = static_cast<T*>(out);
  // Few long reductions: a block each; many short ones: a thread each.
  if (reduced_count >= 512 && out_count < 65536 * 4) {
    unsigned blocks = static_cast<unsigned>(out_count < 65536 ? out_count : 65536);
    reduce_block_kernel<kOp, T><<<blocks, 256, 0, stream>>>(input, output, out_count, kept, reduced, reduced_count);
  } else {
    reduce_thread_kernel<kOp, T><<<grid_for(out_count), kThreadsPerBlock, 0, stream>>>(input, output, out_count, kept,
                                                                                        reduced, reduced_count);
  }
}

template <typename T>
void launch_reduce_op(ReduceOp op, const void* in, void* out, int64_t n, const StridedMap& kept,
                      const StridedMap& reduced, int64_t r, cudaStream_t s) {
  switch (op) {
#define ONYX_REDUCE_CASE(name) \
  case ReduceOp::name: return launch_reduce_typed<ReduceOp::name, T>(in, out, n, kept, reduced, r, s);
    ONYX_REDUCE_CASE(kSum) ONYX_REDUCE_CASE(kMean) ONYX_REDUCE_CASE(kMax) ONYX_REDUCE_CASE(kMin)
    ONYX_REDUCE_CASE(kProd) ONYX_REDUCE_CASE(kSumSquare) ONYX_REDUCE_CASE(kL1) ONYX_REDUCE_CASE(kL2)
    ONYX_REDUCE_CASE(kLogSumExp)
#undef ONYX_REDUCE_CASE
  }
}

}  // namespace

void launch_reduce(ReduceOp op, DataType dtype, const void* input, void* output, int64_t out_count,
                   const StridedMap& kept, const StridedMap& reduced, int64_t reduced_count, cudaStream_t stream) {
  if (out_count == 0) return;
  switch (dtype) {
    case DataType::kFloat: launch_reduce_op<float>(op, input, output, out_count, kept, reduced, reduced_count, stream); break;
    case DataType::kFloat16:
      launch_reduce_op<__half>(op, input, output, out_count, kept, reduced, reduced_count, stream);
      break;
    case DataType::kBFloat16:
      launch_reduce_op<__nv_bfloat16>(op, input, output, out_count, kept, reduced, reduced_count, stream);
      break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA Reduce: element type ", dtype_name(dtype));
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
