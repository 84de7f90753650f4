// CUDA TopK (opset 1: k attribute; 10+: k from host input 1; 11+: largest, sorted) over float
// types and int32/int64.
#include "onnx_ops/axes.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/reduction/top_k_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaTopKKernel final : public Kernel {
 public:
  explicit CudaTopKKernel(const KernelInfo& info)
      : node_(info.node()), opset_(info.opset()), axis_(info.attributes().get_int("axis", -1)),
        largest_(info.attributes().get_int("largest", 1) != 0), k_attribute_(info.attributes().get_int("k", 0)) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, "float, float16, bfloat16, int32, int64");
  }
  static bool supports(const KernelInfo& info) {
    DataType type = inferred_input_type(info, 0);
    return type == DataType::kUndefined || top_k_dtype_supported(type);
  }

  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    if (!top_k_dtype_supported(input.dtype())) {
      throw_cuda_unsupported_type(node_, 0, input.dtype(), "float, float16, bfloat16, int32, int64");
    }
    int64_t k = k_attribute_;
    if (opset_ >= 10) {
      std::vector<int64_t> given = host_int64s(context.input(1), node_, 1);
      if (given.size() != 1) throw_error(ErrorCode::kInvalidArgument, "TopK (node '", node_.name, "'): K must hold one value");
      k = given[0];
    }
    size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(input.rank()), "TopK"));
    int64_t n = input.dim(axis);
    if (k < 0 || k > n) {
      throw_error(ErrorCode::kInvalidArgument, "TopK (node '", node_.name, "'): k = ", k, " for an axis of ", n);
    }
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < axis; ++d) outer *= input.dim(d);
    for (size_t d = axis + 1; d < input.rank(); ++d) inner *= input.dim(d);
    Shape shape = input.shape();
    shape[axis] = k;
    Tensor& values = context.output(0, input.dtype(), shape);
    Tensor& indices = context.output(1, DataType::kInt64, shape);
    launch_top_k(input.dtype(), largest_, input.raw_data(), values.mutable_raw_data(), indices.mutable_data<int64_t>(),
                 outer, n, inner, k, stream_of(context));
  }

 private:
  const Node& node_;
  int64_t opset_;
  int64_t axis_;
  bool largest_;
  int64_t k_attribute_;
};

}  // namespace

ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "TopK", 1, kOpsetOpenEnded, CudaTopKKernel,
                                 {.host = {1}, .any_device = {}});

}  // namespace onyx::cuda
