// Launcher of the CUDA TopK kernel (top_k.cu) for top_k.cc.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

// Input viewed as [outer, n, inner]; outputs [outer, k, inner]. Results are sorted, equal values
// keep the lower index first (the CPU kernel's order; `sorted = 0` permits it).
bool top_k_dtype_supported(DataType dtype);
void launch_top_k(DataType dtype, bool largest, const void* input, void* values, int64_t* indices, int64_t outer,
                  int64_t n, int64_t inner, int64_t k, cudaStream_t stream);

}  // namespace onyx::cuda
