// Launchers of the CUDA Resize kernels (resize.cu) for resize.cc: nearest (any element width)
// and N-linear (float types), every axis mapped through index_math.h's coordinate transforms.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "providers/cuda/index_math.h"
#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

struct ResizeMap {
  int rank = 0;
  int64_t in_dims[kMaxIndexDims] = {};
  int64_t out_dims[kMaxIndexDims] = {};
  float scales[kMaxIndexDims] = {};
  float roi_start[kMaxIndexDims] = {};
  float roi_end[kMaxIndexDims] = {};
  ResizeCoordinate coordinate = ResizeCoordinate::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  // tf_crop_and_resize: a source coordinate outside the input gives this value.
  bool extrapolate = false;
  float extrapolation_value = 0.0f;
};

// `extrapolation_bits`: map.extrapolation_value as the bytes of one element (low bytes).
void launch_resize_nearest(int element_bytes, const void* input, void* output, int64_t count, const ResizeMap& map,
                           uint64_t extrapolation_bits, cudaStream_t stream);
void launch_resize_linear(DataType dtype, const void* input, void* output, int64_t count, const ResizeMap& map,
                          cudaStream_t stream);

}  // namespace onyx::cuda
