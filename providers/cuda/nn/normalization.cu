// Device code of LayerNormalization (a block per row, two passes in float: mean, then the
// variance of the centered values, which stays accurate for large means) and inference-mode
// BatchNormalization (elementwise with per-channel parameters).
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/nn/normalization_ops.h"

namespace onyx::cuda {

namespace {

template <typename T>
__global__ void layer_norm_kernel(const T* x, const T* scale, const T* bias, T* y, float* mean_out,
                                  float* inv_std_out, int64_t rows, int64_t columns, float epsilon) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* in = x + row * columns;
    T* out = y + row * columns;
    float sum = 0.0f;
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) sum += load_float(in[j]);
    float mean = block_reduce(sum, SumCombine{}, 0.0f) / static_cast<float>(columns);
    float squares = 0.0f;
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      float centered = load_float(in[j]) - mean;
      squares += centered * centered;
    }
    float variance = block_reduce(squares, SumCombine{}, 0.0f) / static_cast<float>(columns);
    float inv_std = rsqrtf(variance + epsilon);
    for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
      float value = (load_float(in[j]) - mean) * inv_std * load_float(scale[j]);
      if (bias != nullptr) value += load_float(bias[j]);
      out[j] = store_float<T>(value);
    }
    if (threadIdx.x == 0) {
      if (mean_out != nullptr) mean_out[row] = mean;
      if (inv_std_out != nullptr) inv_std_out[row] = inv_std;
    }
  }
}

template <typename T>
__global__ void batch_norm_kernel(const T* x, const T* scale, const T* bias, const T* mean, const T* variance, T* y,
                                  int64_t count, int64_t channels, int64_t inner, float epsilon) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    int64_t c = (i / inner) % channels;
    float normalized = (load_float(x[i]) - load_float(mean[c])) * rsqrtf(load_float(variance[c]) + epsilon);
    y[i] = store_float<T>(normalized * load_float(scale[c]) + load_float(bias[c]));
  }
}

template <typename Fn>
void with_norm_type(DataType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DataType::kFloat: fn(float{}); break;
    case DataType::kFloat16: fn(__half{}); break;
    case DataType::kBFloat16: fn(__nv_bfloat16{}); break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA ", op, ": element type ", dtype_name(dtype));
  }
}

}  // namespace

void launch_layer_norm(DataType dtype, const void* x, const void* scale, const void* bias, void* y, float* mean,
                       float* inv_std_dev, int64_t rows, int64_t columns, float epsilon, cudaStream_t stream) {
  if (rows == 0 || columns == 0) return;
  with_norm_type(dtype, "LayerNormalization", [&](auto tag) {
    using T = decltype(tag);
    int threads = columns >= 1024 ? 1024 : (columns >= 256 ? 256 : 128);
    unsigned blocks = static_cast<unsigned>(rows < 65536 ? rows : 65536);
    layer_norm_kernel<T><<<blocks, threads, 0, stream>>>(static_cast<const T*>(x), static_cast<const T*>(scale),
                                                         static_cast<const T*>(bias), static_cast<T*>(y), mean,
                                                         inv_std_dev, rows, columns, epsilon);
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_batch_norm(DataType dtype, const void* x, const void* scale, const void* bias, const void* mean,
                       const void* variance, void* y, int64_t outer, int64_t channels, int64_t inner, float epsilon,
                       cudaStream_t stream) {
  int64_t count = outer * channels * inner;
  if (count == 0) return;
  with_norm_type(dtype, "BatchNormalization", [&](auto tag) {
    using T = decltype(tag);
    batch_norm_kernel<T><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(scale), static_cast<const T*>(bias), static_cast<const T*>(mean),
        static_cast<const T*>(variance), static_cast<T*>(y), count, channels, inner, epsilon);
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
