// Device code of Softmax and LogSoftmax in float: a block per row when the axis is the last
// (contiguous) one, otherwise a thread per (outer, inner) column striding over the axis.
#include "providers/cuda/activation/softmax_ops.h"
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"

namespace onyx::cuda {

namespace {

template <typename T>
__global__ void softmax_rows_kernel(const T* input, T* output, int64_t rows, int64_t length, bool log) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* in = input + row * length;
    T* out = output + row * length;
    float high = -INFINITY;
    for (int64_t j = threadIdx.x; j < length; j += blockDim.x) high = fmaxf(high, load_float(in[j]));
    high = block_reduce(high, MaxCombine{}, -INFINITY);
    float sum = 0.0f;
    for (int64_t j = threadIdx.x; j < length; j += blockDim.x) sum += expf(load_float(in[j]) - high);
    sum = block_reduce(sum, SumCombine{}, 0.0f);
    float log_sum = logf(sum);
    for (int64_t j = threadIdx.x; j < length; j += blockDim.x) {
      float shifted = load_float(in[j]) - high;
      out[j] = store_float<T>(log ? shifted - log_sum : expf(shifted) / sum);
    }
  }
}

template <typename T>
__global__ void softmax_columns_kernel(const T* input, T* output, int64_t outer, int64_t length, int64_t inner,
                                       bool log) {
  ONYX_GRID_STRIDE_LOOP(column, outer * inner) {
    int64_t base = (column / inner) * length * inner + column % inner;
    float high = -INFINITY;
    for (int64_t j = 0; j < length; ++j) high = fmaxf(high, load_float(input[base + j * inner]));
    float sum = 0.0f;
    for (int64_t j = 0; j < length; ++j) sum += expf(load_float(input[base + j * inner]) - high);
    float log_sum = logf(sum);
    for (int64_t j = 0; j < length; ++j) {
      float shifted = load_float(input[base + j * inner]) - high;
      output[base + j * inner] = store_float<T>(log ? shifted - log_sum : expf(shifted) / sum);
    }
  }
}

template <typename T>
void launch_softmax_typed(bool log, const void* input, void* output, int64_t outer, int64_t length, int64_t inner,
                          cudaStream_t stream) {
  const T* in = static_cast<const T*>(input);
  T* out = static_cast<T*>(output);
  if (inner == 1) {
    int threads = length >= 1024 ? 1024 : (length >= 256 ? 256 : 128);
    unsigned blocks = static_cast<unsigned>(outer < 65536 ? outer : 65536);
    softmax_rows_kernel<T><<<blocks, threads, 0, stream>>>(in, out, outer, length, log);
  } else {
    softmax_columns_kernel<T><<<grid_for(outer * inner), kThreadsPerBlock, 0, stream>>>(in, out, outer, length,
                                                                                          inner, log);
  }
}

}  // namespace

void launch_softmax(DataType dtype, bool log, const void* input, void* output, int64_t outer, int64_t axis_length,
                    int64_t inner, cudaStream_t stream) {
  if (outer * axis_length * inner == 0) return;
  switch (dtype) {
    case DataType::kFloat: launch_softmax_typed<float>(log, input, output, outer, axis_length, inner, stream); break;
    case DataType::kFloat16: launch_softmax_typed<__half>(log, input, output, outer, axis_length, inner, stream); break;
    case DataType::kBFloat16:
      launch_softmax_typed<__nv_bfloat16>(log, input, output, outer, axis_length, inner, stream);
      break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA Softmax: element type ", dtype_name(dtype));
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
