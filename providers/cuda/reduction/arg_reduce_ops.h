// Launcher of the CUDA ArgMax/ArgMin kernel (arg_reduce.cu) for arg_reduce.cc.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

// Input viewed as [outer, length, inner]; writes outer * inner int64 indices. Ties keep the
// first index, or the last with `select_last` (as the CPU kernel).
bool arg_reduce_dtype_supported(DataType dtype);
void launch_arg_reduce(DataType dtype, bool max, bool select_last, const void* input, int64_t* output, int64_t outer,
                       int64_t length, int64_t inner, cudaStream_t stream);

}  // namespace onyx::cuda
