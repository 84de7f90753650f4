// Device code of TopK: a block per line selects the k results one by one, each the best element
// that comes after the previous pick in the total order (value, then lower index), found by a
// block-wide reduction. O(k n) work per line: meant for the small k models use.
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/reduction/top_k_ops.h"

namespace onyx::cuda {

namespace {

constexpr int kTopKThreads = 256;

template <typename T>
using TopKValue = std::conditional_t<std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>, float, T>;

template <typename T>
__device__ __forceinline__ TopKValue<T> top_k_load(T v) {
  if constexpr (std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>) return load_float(v); else return v;
}

// True when (v, i) ranks before (w, j): larger (or smaller) value first, then lower index.
template <bool kLargest, typename V>
__device__ __forceinline__ bool ranks_before(V v, int64_t i, V w, int64_t j) {
  if (j < 0) return i >= 0;
  if (i < 0) return false;
  if (v == w) return i < j;
  return kLargest ? v > w : v < w;
}

template <bool kLargest, typename T>
__global__ void top_k_kernel(const T* input, T* values, int64_t* indices, int64_t outer, int64_t n, int64_t inner,
                             int64_t k) {
  using V = TopKValue<T>;
  __shared__ V shared_value[kTopKThreads];
  __shared__ int64_t shared_index[kTopKThreads];
  const int tid = threadIdx.x;
  for (int64_t line = blockIdx.x; line < outer * inner; line += gridDim.x) {
    int64_t base = (line / inner) * n * inner + line % inner;
    int64_t out_base = (line / inner) * k * inner + line % inner;
    V previous_value{};
    int64_t previous_index = -1;
    for (int64_t pick = 0; pick < k; ++pick) {
      V best_value{};
      int64_t best_index = -1;
      for (int64_t e = tid; e < n; e += kTopKThreads) {
        V v = top_k_load(input[base + e * inner]);
        bool after = previous_index < 0 || ranks_before<kLargest>(previous_value, previous_index, v, e);
        if (after && ranks_before<kLargest>(v, e, best_value, best_index)) {
          best_value = v;
          best_index = e;
        }
      }
      shared_value[tid] = best_value;
      shared_index[tid] = best_index;
      __syncthreads();
      for (int stride = kTopKThreads / 2; stride > 0; stride /= 2) {
        if (tid < stride && ranks_before<kLargest>(shared_value[tid + stride], shared_index[tid + stride],
                                                   shared_value[tid], shared_index[tid])) {
          shared_value[tid] = shared_value[tid + stride];
          shared_index[tid] = shared_index[tid + stride];
        }
        __syncthreads();
      }
      previous_value = shared_value[0];
      previous_index = shared_index[0];
      if (tid == 0) {
        values[out_base + pick * inner] = input[base + previous_index * inner];
        indices[out_base + pick * inner] = previous_index;
      }
      __syncthreads();  // shared slots are rewritten by the next pick
    }
  }
}

template <typename T>
void launch_top_k_typed(bool largest, const void* in, void* values, int64_t* indices, int64_t outer, int64_t n,
                        int64_t inner, int64_t k, cudaStream_t stream) {
  int64_t lines = outer * inner;
  unsigned blocks = static_cast<unsigned>(lines < 65536 ? lines : 65536);
  const T* input = static_cast<const T*>(in);
  T* out = static_cast<T*>(values);
  if (largest) {
    top_k_kernel<true, T><<<blocks, kTopKThreads, 0, stream>>>(input, out, indices, outer, n, inner, k);
  } else {
    top_k_kernel<false, T><<<blocks, kTopKThreads, 0, stream>>>(input, out, indices, outer, n, inner, k);
  }
}

}  // namespace

bool top_k_dtype_supported(DataType dtype) {
  return dtype == DataType::kFloat || dtype == DataType::kFloat16 || dtype == DataType::kBFloat16 ||
         dtype == DataType::kInt32 || dtype == DataType::kInt64;
}

void launch_top_k(DataType dtype, bool largest, const void* input, void* values, int64_t* indices, int64_t outer,
                  int64_t n, int64_t inner, int64_t k, cudaStream_t stream) {
  if (outer * inner == 0 || k == 0) return;
  switch (dtype) {
    case DataType::kFloat: launch_top_k_typed<float>(largest, input, values, indices, outer, n, inner, k, stream); break;
    case DataType::kFloat16: launch_top_k_typed<__half>(largest, input, values, indices, outer, n, inner, k, stream); break;
    case DataType::kBFloat16:
      launch_top_k_typed<__nv_bfloat16>(largest, input, values, indices, outer, n, inner, k, stream);
      break;
    case DataType::kInt32: launch_top_k_typed<int32_t>(largest, input, values, indices, outer, n, inner, k, stream); break;
    case DataType::kInt64: launch_top_k_typed<int64_t>(largest, input, values, indices, outer, n, inner, k, stream); break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA TopK: element type ", dtype_name(dtype));
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
