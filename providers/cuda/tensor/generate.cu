// Device code of ConstantOfShape and Range: one grid-stride loop over the output each.
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/tensor/generate_ops.h"

namespace onyx::cuda {

namespace {

template <typename T>
__global__ void fill_kernel(T* output, int64_t count, T value) {
  ONYX_GRID_STRIDE_LOOP(i, count) { output[i] = value; }
}

template <typename T>
__global__ void range_kernel(T* output, int64_t count, T start, T delta) {
  ONYX_GRID_STRIDE_LOOP(i, count) { output[i] = static_cast<T>(start + static_cast<T>(i) * delta); }
}

template <typename T>
void launch_range_of(void* output, int64_t count, T start, T delta, cudaStream_t stream) {
  range_kernel<T><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<T*>(output), count, start, delta);
}

}  // namespace

void launch_fill(int element_bytes, void* output, int64_t count, uint64_t value_bits, cudaStream_t stream) {
  if (count == 0) return;
  switch (element_bytes) {
    case 1:
      fill_kernel<uint8_t><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<uint8_t*>(output), count,
                                                                             static_cast<uint8_t>(value_bits));
      break;
    case 2:
      fill_kernel<uint16_t><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<uint16_t*>(output), count,
                                                                              static_cast<uint16_t>(value_bits));
      break;
    case 4:
      fill_kernel<uint32_t><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<uint32_t*>(output), count,
                                                                              static_cast<uint32_t>(value_bits));
      break;
    case 8:
      fill_kernel<uint64_t><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<uint64_t*>(output), count,
                                                                              value_bits);
      break;
    default:
      throw_error(ErrorCode::kNotImplemented, "CUDA fill of ", element_bytes, "-byte elements");
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_range(RangeElement element, void* output, int64_t count, double start, double delta, int64_t start_int,
                  int64_t delta_int, cudaStream_t stream) {
  if (count == 0) return;
  switch (element) {
    case RangeElement::kFloat:
      launch_range_of<float>(output, count, static_cast<float>(start), static_cast<float>(delta), stream);
      break;
    case RangeElement::kDouble: launch_range_of<double>(output, count, start, delta, stream); break;
    case RangeElement::kInt16:
      launch_range_of<int16_t>(output, count, static_cast<int16_t>(start_int), static_cast<int16_t>(delta_int), stream);
      break;
    case RangeElement::kInt32:
      launch_range_of<int32_t>(output, count, static_cast<int32_t>(start_int), static_cast<int32_t>(delta_int), stream);
      break;
    case RangeElement::kInt64: launch_range_of<int64_t>(output, count, start_int, delta_int, stream); break;
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
