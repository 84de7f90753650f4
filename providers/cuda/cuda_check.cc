#include "providers/cuda/cuda_check.h"

namespace onyx::cuda {

void throw_cuda_failure(cudaError_t status, const char* call) {
  // A sticky error (illegal address, launch failure) poisons the context: say so, since every
  // later call fails with the same status and the first one is the one worth reading.
  throw_error(ErrorCode::kRuntimeFailure, call, " failed: ", cudaGetErrorName(status), " (",
              cudaGetErrorString(status), ")");
}

const char* cublas_status_name(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "unknown cuBLAS status";
}

void throw_cublas_failure(cublasStatus_t status, const char* call) {
  throw_error(ErrorCode::kRuntimeFailure, call, " failed: ", cublas_status_name(status), " (",
              cublasGetStatusString(status), ")");
}

void throw_cudnn_failure(cudnnStatus_t status, const char* call) {
  char detail[512] = {};
  cudnnGetLastErrorString(detail, sizeof(detail));
  throw_error(ErrorCode::kRuntimeFailure, call, " failed: ", cudnnGetErrorString(status),
              detail[0] ? std::string(" (") + detail + ")" : std::string());
}

}  // namespace onyx::cuda
