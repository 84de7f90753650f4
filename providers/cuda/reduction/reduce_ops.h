// Launcher of the CUDA Reduce* kernels (reduce.cu) for reduce.cc.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "providers/cuda/index_math.h"
#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

enum class ReduceOp : int { kSum, kMean, kMax, kMin, kProd, kSumSquare, kL1, kL2, kLogSumExp };

// Output element o reduces the input elements kept_offset(o) + strided_offset(reduced, r) for
// r < reduced_count, where kept maps o (over the kept dims) to its first input element.
void launch_reduce(ReduceOp op, DataType dtype, const void* input, void* output, int64_t out_count,
                   const StridedMap& kept, const StridedMap& reduced, int64_t reduced_count, cudaStream_t stream);

}  // namespace onyx::cuda
