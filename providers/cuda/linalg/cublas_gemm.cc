#include "providers/cuda/linalg/cublas_gemm.h"

#include "providers/cuda/cuda_check.h"

namespace onyx::cuda {

namespace {

cudaDataType_t cublas_data_type(DataType type) {
  switch (type) {
    case DataType::kFloat: return CUDA_R_32F;
    case DataType::kFloat16: return CUDA_R_16F;
    case DataType::kBFloat16: return CUDA_R_16BF;
    default: throw_error(ErrorCode::kNotImplemented, "cuBLAS GEMM: element type ", dtype_name(type));
  }
}

cublasComputeType_t cublas_compute_type(DataType type, bool tf32) {
  return type == DataType::kFloat && tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
}

int cublas_dim(int64_t value) {
  if (value > INT32_MAX) throw_error(ErrorCode::kNotImplemented, "cuBLAS GEMM: a dim of ", value, " exceeds its int range");
  return static_cast<int>(value);
}

}  // namespace

void run_cuda_gemm(cublasHandle_t handle, const CudaGemmCall& call, bool tf32) {
  cudaDataType_t data = cublas_data_type(call.type);
  cublasOperation_t op_a = call.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t op_b = call.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  int64_t lda = call.trans_a ? call.m : call.k;
  int64_t ldb = call.trans_b ? call.k : call.n;
  ONYX_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      handle, op_b, op_a, cublas_dim(call.n), cublas_dim(call.m), cublas_dim(call.k), &call.alpha, call.b, data,
      cublas_dim(ldb), call.stride_b, call.a, data, cublas_dim(lda), call.stride_a, &call.beta, call.c, data,
      cublas_dim(call.n), call.stride_c, cublas_dim(call.batch), cublas_compute_type(call.type, tf32),
      CUBLAS_GEMM_DEFAULT));
}

}  // namespace onyx::cuda
