// Launcher of the CUDA Cast kernel (cast.cu) for the kernel classes (cast.cc).
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

// float, double, float16, bfloat16, int8, uint8, int16, int32, int64, bool.
bool cast_dtype_supported(DataType dtype);
void launch_cast(DataType from, DataType to, const void* input, void* output, int64_t count, cudaStream_t stream);

}  // namespace onyx::cuda
