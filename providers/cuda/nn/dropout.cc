// CUDA Dropout in inference mode: the output aliases the input and the optional mask is all
// true. Training mode (random masks) is not implemented on CUDA; ratio and training_mode are
// host inputs from opset 12.
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaDropoutKernel final : public Kernel {
 public:
  explicit CudaDropoutKernel(const KernelInfo& info) : node_(info.node()), opset_(info.opset()) {
    if (!supports(info)) {
      throw_error(ErrorCode::kNotImplemented, "CUDA Dropout (node '", node_.name,
                  "'): training mode is not implemented on CUDA");
    }
  }
  // Before opset 7 inference needs is_test = 1; later, the training_mode input decides at run time.
  static bool supports(const KernelInfo& info) {
    return info.opset() >= 7 || info.attributes().get_int("is_test", 0) != 0;
  }

  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    if (opset_ >= 12 && context.has_input(2) && host_scalar_as_float(context.input(2), node_, 2) != 0.0f) {
      throw_error(ErrorCode::kNotImplemented, "CUDA Dropout (node '", node_.name,
                  "'): training mode is not implemented on CUDA");
    }
    context.set_output(0, x);
    if (context.has_output(1)) {
      Tensor& mask = context.output(1, DataType::kBool, x.shape());
      if (mask.byte_size() > 0) {
        ONYX_CUDA_CHECK(cudaMemsetAsync(mask.mutable_raw_data(), 1, mask.byte_size(), stream_of(context)));
      }
    }
  }

 private:
  const Node& node_;
  int64_t opset_;
};

}  // namespace

ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Dropout", 1, kOpsetOpenEnded, CudaDropoutKernel,
                                 {.host = {1, 2}, .any_device = {}});

}  // namespace onyx::cuda
