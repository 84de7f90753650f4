// The CUDA unary elementwise ops (Relu, Sigmoid, Gelu, Clip, ...): the op list shared by the
// kernel classes (unary.cc) and the device code (unary.cu), and the launcher between them.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

enum class UnaryOp : int {
  kRelu, kSigmoid, kTanh, kExp, kLog, kSqrt, kNeg, kAbs, kErf, kReciprocal, kGelu, kGeluTanh,
  kHardSigmoid, kHardSwish, kLeakyRelu, kClip, kSoftplus, kSoftsign, kElu, kSelu, kSwish, kMish,
  kFloor, kCeil, kSin, kCos, kSign, kIdentity,
  kRound, kTan, kAsin, kAcos, kAtan, kSinh, kCosh, kAsinh, kAcosh, kAtanh, kThresholdedRelu, kCelu, kShrink,
  kScale,  // alpha * x (Mean's division by the input count)
};

// alpha/beta: the op's attributes (LeakyRelu alpha, HardSigmoid alpha/beta, Clip min/max, ...).
struct UnaryParams {
  float alpha = 0.0f;
  float beta = 0.0f;
  float gamma = 0.0f;
};

// float, float16 and bfloat16 only.
bool unary_dtype_supported(DataType dtype);
void launch_unary(UnaryOp op, DataType dtype, const void* input, void* output, int64_t count,
                  UnaryParams params, cudaStream_t stream);

}  // namespace onyx::cuda
