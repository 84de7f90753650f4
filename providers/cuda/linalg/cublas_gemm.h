// Row-major GEMMs through cuBLAS for the CUDA kernels (MatMul, Gemm, LSTM): a row-major product
// is the column-major product of the transposes (C^T = B^T A^T), so no operand is copied.
// fp32 runs exact fp32 math unless `tf32` (the provider option) allows TF32 tensor cores;
// fp16/bf16 accumulate in fp32.
#pragma once

#include <cublas_v2.h>

#include <cstdint>

#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

// One row-major GEMM (or a strided batch of them): C[m,n] = alpha op(A)[m,k] op(B)[k,n] + beta C.
struct CudaGemmCall {
  DataType type;
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  const void* a = nullptr;
  const void* b = nullptr;
  void* c = nullptr;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0, batch = 1;
  float alpha = 1.0f, beta = 0.0f;
};

// float, float16 or bfloat16 (call.type); throws naming cuBLAS's status otherwise.
void run_cuda_gemm(cublasHandle_t handle, const CudaGemmCall& call, bool tf32);

}  // namespace onyx::cuda
