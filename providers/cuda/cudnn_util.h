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
// cuDNN convolves 2-D and 3-D data only: a 1-D convolution (Conv or ConvTranspose) runs as a
// 2-D one over a height of 1. The pads, strides and dilations (int, as cuDNN takes them) gain
// that height's 0/1/1; `dims` adds the unit height to an NC... shape.
struct CudnnConvGeometry {
  bool one_dimensional = false;
  std::vector<int> pads, strides, dilations;
  std::vector<int64_t> dims(std::vector<int64_t> shape) const;
};
CudnnConvGeometry cudnn_conv_geometry(const std::vector<int64_t>& pads, const std::vector<int64_t>& strides,
                                      const std::vector<int64_t>& dilations);

// fp32 with tf32 off: FMA math only (no TF32 tensor cores); otherwise tensor cores allowed.
cudnnMathType_t cudnn_math_type(DataType type, bool tf32);

}  // namespace onyx::cuda
