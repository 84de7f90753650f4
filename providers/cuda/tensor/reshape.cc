// CUDA Identity, Reshape, Flatten, Squeeze and Unsqueeze: no device work, the output is a view
// of the input's device buffer with the new shape (the buffer stays alive through the view).
// Shape inputs (Reshape's shape, Squeeze/Unsqueeze axes) are read on the host.
#include "onnx_ops/axes.h"
#include "onnx_ops/tensor_ops.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaReshapeKernel final : public Kernel {
 public:
  explicit CudaReshapeKernel(const KernelInfo& info)
      : node_(info.node()), opset_(info.opset()), allow_zero_(info.attributes().get_int("allowzero", 0) != 0) {
    if (opset_ < 5) shape_attribute_ = info.attributes().get_ints("shape");
  }
  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    std::vector<int64_t> target = opset_ < 5 ? shape_attribute_ : host_int64s(context.input(1), node_, 1);
    context.set_output(0, input.reshaped(resolve_reshape(input.shape(), target, allow_zero_)));
  }

 private:
  const Node& node_;
  int64_t opset_;
  bool allow_zero_;
  std::vector<int64_t> shape_attribute_;
};

class CudaIdentityKernel final : public Kernel {
 public:
  explicit CudaIdentityKernel(const KernelInfo&) {}
  void compute(KernelContext& context) override { context.set_output(0, context.input_value(0)); }
};

class CudaFlattenKernel final : public Kernel {
 public:
  explicit CudaFlattenKernel(const KernelInfo& info) : axis_(info.attributes().get_int("axis", 1)) {}
  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    context.set_output(0, input.reshaped(flatten_shape(input.shape(), axis_)));
  }

 private:
  int64_t axis_;
};

// Squeeze and Unsqueeze: axes from the attribute before opset 13, from host input 1 after.
class CudaSqueezeKernel final : public Kernel {
 public:
  explicit CudaSqueezeKernel(const KernelInfo& info)
      : node_(info.node()), opset_(info.opset()), unsqueeze_(info.node().op_type == "Unsqueeze") {
    if (opset_ < 13) axes_ = info.attributes().get_ints("axes");
  }
  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    std::vector<int64_t> axes = opset_ >= 13 && context.has_input(1) ? host_int64s(context.input(1), node_, 1) : axes_;
    Shape shape = unsqueeze_ ? unsqueeze_shape(input.shape(), axes) : squeeze_shape(input.shape(), axes);
    context.set_output(0, input.reshaped(shape));
  }

 private:
  const Node& node_;
  int64_t opset_;
  bool unsqueeze_;
  std::vector<int64_t> axes_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "Identity", 1, kOpsetOpenEnded, CudaIdentityKernel);
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Reshape", 1, kOpsetOpenEnded, CudaReshapeKernel,
                                 {.host = {1}, .any_device = {}});
ONYX_REGISTER_KERNEL(kCudaProvider, "", "Flatten", 1, kOpsetOpenEnded, CudaFlattenKernel);
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Squeeze", 1, kOpsetOpenEnded, CudaSqueezeKernel,
                                 {.host = {1}, .any_device = {}});
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Unsqueeze", 1, kOpsetOpenEnded, CudaSqueezeKernel,
                                 {.host = {1}, .any_device = {}});

}  // namespace onyx::cuda
