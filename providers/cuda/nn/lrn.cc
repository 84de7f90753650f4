// CUDA LRN through cuDNN's cross-channel LRN: y = x / (bias + alpha / size * sum of squares)^beta
// over `size` neighbouring channels, which is ONNX's formula. Odd sizes 1-15 (cuDNN's window
// agrees with ONNX's centered one only for odd sizes; cuDNN takes at most 16).
#include "providers/cuda/cudnn_util.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

using CudnnLrnDescriptor = CudnnDescriptor<cudnnLRNDescriptor_t, cudnnCreateLRNDescriptor, cudnnDestroyLRNDescriptor>;

class CudaLrnKernel final : public Kernel {
 public:
  explicit CudaLrnKernel(const KernelInfo& info)
      : node_(info.node()), size_(info.attributes().require_int("size")),
        alpha_(info.attributes().get_float("alpha", 1e-4f)), beta_(info.attributes().get_float("beta", 0.75f)),
        bias_(info.attributes().get_float("bias", 1.0f)) {
    if (!input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16})) {
      throw_cuda_unsupported_type(info, 0, "float, float16, bfloat16");
    }
    if (size_ % 2 == 0 || size_ < 1 || size_ > 15 || bias_ < 1e-5f || beta_ < 0.01f) {
      throw_error(ErrorCode::kNotImplemented, "CUDA LRN (node '", node_.name,
                  "'): cuDNN serves odd sizes 1-15 with bias >= 1e-5 and beta >= 0.01, got size ", size_, ", bias ",
                  bias_, ", beta ", beta_);
    }
  }

  static bool supports(const KernelInfo& info) {
    int64_t size = info.attributes().get_int("size", 0);
    return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}) && size % 2 == 1 && size <= 15 &&
           info.attributes().get_float("bias", 1.0f) >= 1e-5f && info.attributes().get_float("beta", 0.75f) >= 0.01f;
  }

  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    check_cuda_input_type(node_, 0, x.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16},
                          "float, float16, bfloat16");
    Tensor& y = context.output(0, x.dtype(), x.shape());
    if (y.element_count() == 0) return;
    if (x.rank() < 3 || x.rank() > 8) {
      throw_error(ErrorCode::kNotImplemented, "CUDA LRN (node '", node_.name, "'): input ", shape_to_string(x.shape()));
    }
    CudnnLrnDescriptor lrn;
    ONYX_CUDNN_CHECK(cudnnSetLRNDescriptor(lrn.get(), static_cast<unsigned>(size_), alpha_, beta_, bias_));
    CudnnTensorDescriptor desc;
    set_cudnn_tensor(desc, x.dtype(), x.shape());
    float one = 1.0f, zero = 0.0f;
    ONYX_CUDNN_CHECK(cudnnLRNCrossChannelForward(run_state_of(context).cudnn, lrn.get(), CUDNN_LRN_CROSS_CHANNEL_DIM1,
                                                 &one, desc.get(), x.raw_data(), &zero, desc.get(), y.mutable_raw_data()));
  }

 private:
  const Node& node_;
  int64_t size_;
  float alpha_, beta_, bias_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "LRN", 1, kOpsetOpenEnded, CudaLrnKernel);

}  // namespace onyx::cuda
