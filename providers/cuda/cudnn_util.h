// cuDNN helpers for the CUDA kernels: owning descriptor handles, onyx types as cuDNN types,
// and the math type that honours the provider's tf32 option.
#pragma once

#include <cudnn.h>

#include <vector>

#include "providers/cuda/cuda_check.h"
#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

// Owns one cuDNN descriptor; destroyed with the object.
template <typename Handle, cudnnStatus_t (*kCreate)(Handle*), cudnnStatus_t (*kDestroy)(Handle)>
class CudnnDescriptor {
 public:
  CudnnDescriptor() { ONYX_CUDNN_CHECK(kCreate(&handle_)); }
  ~CudnnDescriptor() { kDestroy(handle_); }
  CudnnDescriptor(const CudnnDescriptor&) = delete;
  CudnnDescriptor& operator=(const CudnnDescriptor&) = delete;
  Handle get() const { return handle_; }

 private:
  Handle handle_ = nullptr;
};

using CudnnTensorDescriptor =
    CudnnDescriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using CudnnFilterDescriptor =
    CudnnDescriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using CudnnConvolutionDescriptor =
    CudnnDescriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;
using CudnnPoolingDescriptor =
    CudnnDescriptor<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor>;

cudnnDataType_t cudnn_data_type(DataType type);
// Dense NCHW-style descriptor of `dims` (at least 4 dims: shorter shapes get trailing 1s).
void set_cudnn_tensor(const CudnnTensorDescriptor& descriptor, DataType type, std::vector<int64_t> dims);
void set_cudnn_filter(const CudnnFilterDescriptor& descriptor, DataType type, std::vector<int64_t> dims);
// fp32 with tf32 off: FMA math only (no TF32 tensor cores); otherwise tensor cores allowed.
cudnnMathType_t cudnn_math_type(DataType type, bool tf32);

}  // namespace onyx::cuda
