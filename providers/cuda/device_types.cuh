// Device-side element types and launch shapes shared by the .cu kernels: every 16-bit float
// is loaded to float, computed in float and rounded once on store (as the CPU kernels do), so
// CUDA and CPU results differ only by the last rounding.
#pragma once

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace onyx::cuda {

template <typename T>
__device__ __forceinline__ float load_float(T value) {
  return static_cast<float>(value);
}
template <>
__device__ __forceinline__ float load_float<__half>(__half value) {
  return __half2float(value);
}
template <>
__device__ __forceinline__ float load_float<__nv_bfloat16>(__nv_bfloat16 value) {
  return __bfloat162float(value);
}

template <typename T>
__device__ __forceinline__ T store_float(float value) {
  return static_cast<T>(value);
}
template <>
__device__ __forceinline__ __half store_float<__half>(float value) {
  return __float2half_rn(value);
}
template <>
__device__ __forceinline__ __nv_bfloat16 store_float<__nv_bfloat16>(float value) {
  return __float2bfloat16_rn(value);
}

// Grid-stride loops: a grid sized for the work but capped, so huge tensors do not need a grid
// dimension beyond the device's limit and small ones start one thread per element.
inline constexpr int kThreadsPerBlock = 256;
inline unsigned grid_for(int64_t count) {
  int64_t blocks = (count + kThreadsPerBlock - 1) / kThreadsPerBlock;
  if (blocks < 1) blocks = 1;
  return static_cast<unsigned>(blocks > 65536 ? 65536 : blocks);
}

#define ONYX_GRID_STRIDE_LOOP(i, count)                                                    \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (count); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// Block-wide reductions for kernels that give one block to one row: every thread passes its
// partial value and gets the block's total. blockDim.x must be a multiple of 32, at most 1024.
struct SumCombine {
  __device__ float operator()(float a, float b) const { return a + b; }
};
struct MaxCombine {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

template <typename Combine>
__device__ __forceinline__ float block_reduce(float value, Combine combine, float identity) {
  __shared__ float partials[32];
  for (int offset = 16; offset > 0; offset /= 2) value = combine(value, __shfl_xor_sync(0xffffffffu, value, offset));
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();  // partials may still be read by a previous call
  if (lane == 0) partials[warp] = value;
  __syncthreads();
  int warps = (blockDim.x + 31) / 32;
  value = lane < warps ? partials[lane] : identity;
  for (int offset = 16; offset > 0; offset /= 2) value = combine(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

}  // namespace onyx::cuda
