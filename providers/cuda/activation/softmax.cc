// CUDA Softmax and LogSoftmax. Before opset 13 the op flattens the input to 2-D at `axis`
// (default 1) and normalizes the whole trailing part; from 13 it normalizes one axis (default -1).
#include "onnx_ops/axes.h"
#include "providers/cuda/activation/softmax_ops.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaSoftmaxKernel final : public Kernel {
 public:
  explicit CudaSoftmaxKernel(const KernelInfo& info)
      : node_(info.node()), log_(info.node().op_type == "LogSoftmax"), opset_(info.opset()),
        axis_(info.attributes().get_int("axis", info.opset() < 13 ? 1 : -1)) {
    if (!input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16})) {
      throw_cuda_unsupported_type(info, 0, "float, float16, bfloat16");
    }
  }

  static bool supports(const KernelInfo& info) { return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}); }

  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    check_cuda_input_type(node_, 0, input.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16},
                          "float, float16, bfloat16");
    Tensor& output = context.output(0, input.dtype(), input.shape());
    int64_t rank = static_cast<int64_t>(input.rank());
    if (rank == 0) {
      launch_softmax(input.dtype(), log_, input.raw_data(), output.mutable_raw_data(), 1, 1, 1, stream_of(context));
      return;
    }
    size_t axis = static_cast<size_t>(normalize_axis(axis_, rank, node_.op_type));
    int64_t outer = 1, length = 1, inner = 1;
    for (size_t d = 0; d < axis; ++d) outer *= input.dim(d);
    if (opset_ < 13) {
      for (size_t d = axis; d < input.rank(); ++d) length *= input.dim(d);
    } else {
      length = input.dim(axis);
      for (size_t d = axis + 1; d < input.rank(); ++d) inner *= input.dim(d);
    }
    launch_softmax(input.dtype(), log_, input.raw_data(), output.mutable_raw_data(), outer, length, inner,
                   stream_of(context));
  }

 private:
  const Node& node_;
  bool log_;
  int64_t opset_;
  int64_t axis_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "Softmax", 1, kOpsetOpenEnded, CudaSoftmaxKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "LogSoftmax", 1, kOpsetOpenEnded, CudaSoftmaxKernel);

}  // namespace onyx::cuda
