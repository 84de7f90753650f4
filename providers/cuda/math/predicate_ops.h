// Launchers of the CUDA bool-valued unary ops (predicate.cu): Not, IsNaN, IsInf, and CumSum's
// scan, for predicate.cc and cumsum.cc.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

enum class PredicateOp : int { kNot, kIsNaN, kIsInf };

// Not: bool input. IsNaN/IsInf: float, double, float16, bfloat16; IsInf counts +inf and/or -inf.
bool predicate_dtype_supported(PredicateOp op, DataType dtype);
void launch_predicate(PredicateOp op, DataType dtype, const void* input, bool* output, int64_t count,
                      bool detect_positive, bool detect_negative, cudaStream_t stream);

// CumSum along the middle dim of [outer, length, inner]: float types (accumulated in float),
// int32, int64.
bool cumsum_dtype_supported(DataType dtype);
void launch_cumsum(DataType dtype, const void* input, void* output, int64_t outer, int64_t length, int64_t inner,
                   bool exclusive, bool reverse, cudaStream_t stream);

}  // namespace onyx::cuda
