// Launcher of the CUDA Softmax/LogSoftmax kernels (softmax.cu) for softmax.cc.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

// Input viewed as [outer, axis_length, inner]; the softmax runs along the middle dim.
void launch_softmax(DataType dtype, bool log, const void* input, void* output, int64_t outer, int64_t axis_length,
                    int64_t inner, cudaStream_t stream);

}  // namespace onyx::cuda
