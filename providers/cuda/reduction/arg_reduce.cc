// CUDA ArgMax and ArgMin (axis, keepdims, select_last_index) over float types and int32/int64.
#include "onnx_ops/axes.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/reduction/arg_reduce_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

constexpr const char* kCudaArgTypes = "float, float16, bfloat16, int32, int64";

class CudaArgReduceKernel final : public Kernel {
 public:
  explicit CudaArgReduceKernel(const KernelInfo& info)
      : node_(info.node()), max_(info.node().op_type == "ArgMax"), axis_(info.attributes().get_int("axis", 0)),
        keepdims_(info.attributes().get_int("keepdims", 1) != 0),
        select_last_(info.attributes().get_int("select_last_index", 0) != 0) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, kCudaArgTypes);
  }
  static bool supports(const KernelInfo& info) {
    DataType type = inferred_input_type(info, 0);
    return type == DataType::kUndefined || arg_reduce_dtype_supported(type);
  }

  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    if (!arg_reduce_dtype_supported(input.dtype())) throw_cuda_unsupported_type(node_, 0, input.dtype(), kCudaArgTypes);
    size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(input.rank()), node_.op_type));
    if (input.dim(axis) == 0) {
      throw_error(ErrorCode::kInvalidArgument, node_.op_type, " (node '", node_.name, "'): axis ", axis,
                  " of ", shape_to_string(input.shape()), " is empty");
    }
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < axis; ++d) outer *= input.dim(d);
    for (size_t d = axis + 1; d < input.rank(); ++d) inner *= input.dim(d);
    Shape shape = input.shape();
    if (keepdims_) {
      shape[axis] = 1;
    } else {
      shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(axis));
    }
    Tensor& output = context.output(0, DataType::kInt64, shape);
    launch_arg_reduce(input.dtype(), max_, select_last_, input.raw_data(), output.mutable_data<int64_t>(), outer,
                      input.dim(axis), inner, stream_of(context));
  }

 private:
  const Node& node_;
  bool max_;
  int64_t axis_;
  bool keepdims_;
  bool select_last_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "ArgMax", 1, kOpsetOpenEnded, CudaArgReduceKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "ArgMin", 1, kOpsetOpenEnded, CudaArgReduceKernel);

}  // namespace onyx::cuda
