// The CUDA binary elementwise ops with NumPy broadcasting (Add ... Greater, PRelu) and Where:
// the op list shared by binary.cc and binary.cu, and the launchers between them.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "providers/cuda/index_math.h"
#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

enum class BinaryOp : int {
  kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kPRelu, kMod, kFmod,
  kEqual, kLess, kGreater, kLessOrEqual, kGreaterOrEqual,  // bool outputs
  kAnd, kOr, kXor,                                         // bool inputs and outputs
};

constexpr bool binary_op_is_comparison(BinaryOp op) { return op >= BinaryOp::kEqual && op <= BinaryOp::kGreaterOrEqual; }
constexpr bool binary_op_is_logical(BinaryOp op) { return op >= BinaryOp::kAnd; }

// Element types the op takes on CUDA (its inputs' type; comparisons write bool).
bool binary_dtype_supported(BinaryOp op, DataType dtype);

// `map` gives both inputs' offsets per output element; `contiguous` when neither broadcasts.
void launch_binary(BinaryOp op, DataType dtype, const void* a, const void* b, void* output, int64_t count,
                   const BroadcastMap& map, bool contiguous, cudaStream_t stream);

// Where(condition, x, y): `map` over the three inputs in that order.
bool where_dtype_supported(DataType dtype);
void launch_where(DataType dtype, const void* condition, const void* x, const void* y, void* output, int64_t count,
                  const BroadcastMap& map, cudaStream_t stream);

}  // namespace onyx::cuda
