// Device code of Resize: one thread per output element maps each axis back to the input.
// Linear mode blends the 2^k corners of the axes whose coordinate falls between two inputs.
#include <cstring>

#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/vision/resize_ops.h"

namespace onyx::cuda {

namespace {

__device__ __forceinline__ bool outside_input(const ResizeMap& map, float coordinate, int d) {
  return map.extrapolate && (coordinate < 0.0f || coordinate > static_cast<float>(map.in_dims[d] - 1));
}

template <typename T>
__global__ void resize_nearest_kernel(const T* input, T* output, int64_t count, ResizeMap map, T extrapolated) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    int64_t rest = i, offset = 0, stride = 1;
    bool outside = false;
    for (int d = map.rank - 1; d >= 0; --d) {
      int64_t x = rest % map.out_dims[d];
      rest /= map.out_dims[d];
      float c = resize_source_coordinate(map.coordinate, static_cast<float>(x), map.scales[d], map.in_dims[d],
                                         map.out_dims[d], map.roi_start[d], map.roi_end[d]);
      outside = outside || outside_input(map, c, d);
      offset += resize_nearest_index(map.nearest, c, map.in_dims[d], map.scales[d]) * stride;
      stride *= map.in_dims[d];
    }
    output[i] = outside ? extrapolated : input[offset];
  }
}

template <typename T>
__global__ void resize_linear_kernel(const T* input, T* output, int64_t count, ResizeMap map) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    LinearTaps taps[kMaxIndexDims];
    int64_t strides[kMaxIndexDims];
    int64_t rest = i, stride = 1;
    bool outside = false;
    for (int d = map.rank - 1; d >= 0; --d) {
      int64_t x = rest % map.out_dims[d];
      rest /= map.out_dims[d];
      float c = resize_source_coordinate(map.coordinate, static_cast<float>(x), map.scales[d], map.in_dims[d],
                                         map.out_dims[d], map.roi_start[d], map.roi_end[d]);
      outside = outside || outside_input(map, c, d);
      taps[d] = resize_linear_taps(c, map.in_dims[d]);
      strides[d] = stride;
      stride *= map.in_dims[d];
    }
    if (outside) {
      output[i] = store_float<T>(map.extrapolation_value);
      continue;
    }
    // Axes with a fractional coordinate take two taps; the rest one.
    unsigned split = 0;
    int64_t base = 0;
    for (int d = 0; d < map.rank; ++d) {
      base += taps[d].lower * strides[d];
      if (taps[d].upper_weight != 0.0f && taps[d].upper != taps[d].lower) split |= 1u << d;
    }
    float value = 0.0f;
    for (unsigned corner = split;; corner = (corner - 1) & split) {
      float weight = 1.0f;
      int64_t offset = base;
      for (int d = 0; d < map.rank; ++d) {
        if (!(split & (1u << d))) continue;
        bool upper = corner & (1u << d);
        weight *= upper ? taps[d].upper_weight : 1.0f - taps[d].upper_weight;
        if (upper) offset += (taps[d].upper - taps[d].lower) * strides[d];
      }
      value += weight * load_float(input[offset]);
      if (corner == 0) break;
    }
    output[i] = store_float<T>(value);
  }
}

}  // namespace

void launch_resize_nearest(int element_bytes, const void* input, void* output, int64_t count, const ResizeMap& map,
                           uint64_t extrapolation_bits, cudaStream_t stream) {
  if (count == 0) return;
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    T value;
    std::memcpy(&value, &extrapolation_bits, sizeof(T));  // little-endian: the low bytes
    resize_nearest_kernel<T><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<const T*>(input),
                                                                               static_cast<T*>(output), count, map, value);
  };
  switch (element_bytes) {
    case 1: launch(uint8_t{}); break;
    case 2: launch(uint16_t{}); break;
    case 4: launch(uint32_t{}); break;
    case 8: launch(uint64_t{}); break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA Resize: ", element_bytes, "-byte elements");
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_resize_linear(DataType dtype, const void* input, void* output, int64_t count, const ResizeMap& map,
                          cudaStream_t stream) {
  if (count == 0) return;
  switch (dtype) {
    case DataType::kFloat:
      resize_linear_kernel<float><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(
          static_cast<const float*>(input), static_cast<float*>(output), count, map);
      break;
    case DataType::kFloat16:
      resize_linear_kernel<__half><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(
          static_cast<const __half*>(input), static_cast<__half*>(output), count, map);
      break;
    case DataType::kBFloat16:
      resize_linear_kernel<__nv_bfloat16><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(
          static_cast<const __nv_bfloat16*>(input), static_cast<__nv_bfloat16*>(output), count, map);
      break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA Resize (linear): element type ", dtype_name(dtype));
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
