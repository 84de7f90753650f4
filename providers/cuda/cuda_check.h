// Status checks for CUDA runtime, cuBLAS and cuDNN calls. Every call into those libraries goes
// through one of these macros, so a failure becomes an onyx::Error that names the call and the
// library's own error name and text instead of a silent wrong result later.
#pragma once

#include <cstddef>
#include <string>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "runtime/common/error.h"

namespace onyx::cuda {

// "<call> failed: <name> (<text>)"; kRuntimeFailure.
[[noreturn]] void throw_cuda_failure(cudaError_t status, const char* call);
[[noreturn]] void throw_cublas_failure(cublasStatus_t status, const char* call);
[[noreturn]] void throw_cudnn_failure(cudnnStatus_t status, const char* call);

const char* cublas_status_name(cublasStatus_t status);

}  // namespace onyx::cuda

#define ONYX_CUDA_CHECK(call)                                                        \
  do {                                                                               \
    cudaError_t onyx_cuda_status_ = (call);                                          \
    if (onyx_cuda_status_ != cudaSuccess) ::onyx::cuda::throw_cuda_failure(onyx_cuda_status_, #call); \
  } while (0)

#define ONYX_CUBLAS_CHECK(call)                                                      \
  do {                                                                               \
    cublasStatus_t onyx_cublas_status_ = (call);                                     \
    if (onyx_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                \
      ::onyx::cuda::throw_cublas_failure(onyx_cublas_status_, #call);                \
  } while (0)

#define ONYX_CUDNN_CHECK(call)                                                       \
  do {                                                                               \
    cudnnStatus_t onyx_cudnn_status_ = (call);                                       \
    if (onyx_cudnn_status_ != CUDNN_STATUS_SUCCESS)                                  \
      ::onyx::cuda::throw_cudnn_failure(onyx_cudnn_status_, #call);                  \
  } while (0)
