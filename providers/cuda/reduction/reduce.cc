// CUDA ReduceSum/Mean/Max/Min/Prod/SumSquare/L1/L2/LogSumExp over float types. Axes come from
// the attribute or, from opset 13 (ReduceSum) / 18 (the others), from host input 1.
#include <algorithm>
#include <stdexcept>

#include "onnx_ops/axes.h"
#include "onnx_ops/reduction.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/reduction/reduce_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaReduceKernel {
 public:
  CudaReduceKernel(const KernelInfo& info, ReduceOp op)
      : node_(info.node()), op_(op), axes_from_input_(reduce_axes_from_input(info.node().op_type, info.opset())),
        keepdims_(info.attributes().get_int("keepdims", 1) != 0),
        noop_with_empty_axes_(info.attributes().get_int("noop_with_empty_axes", 0) != 0) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, "float, float16, bfloat16");
    if (!axes_from_input_) axes_ = info.attributes().get_ints("axes");
  }

  static bool supports(const KernelInfo& info) {
    return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16});
  }

  void compute(KernelContext& context) {
    const Tensor& input = context.input(0);
    check_cuda_input_type(node_, 0, input.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16},
                          "float, float16, bfloat16");
    std::vector<int64_t> given = axes_;
    if (axes_from_input_ && context.has_input(1)) given = host_int64s(context.input(1), node_, 1);
    int64_t rank = static_cast<int64_t>(input.rank());
    std::vector<int64_t> axes = resolve_reduce_axes(given, noop_with_empty_axes_, rank, node_.op_type);
    Shape shape = reduced_shape(input.shape(), axes, keepdims_);
    Tensor& output = context.output(0, input.dtype(), shape);
    std::vector<int64_t> strides = dense_strides(input.shape());
    std::vector<int64_t> kept_dims, kept_strides, reduced_dims, reduced_strides;
    int64_t reduced_count = 1;
    for (int64_t d = 0; d < rank; ++d) {
      bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
      (reduced ? reduced_dims : kept_dims).push_back(input.dim(static_cast<size_t>(d)));
      (reduced ? reduced_strides : kept_strides).push_back(strides[static_cast<size_t>(d)]);
      if (reduced) reduced_count *= input.dim(static_cast<size_t>(d));
    }
    StridedMap kept, reduced;
    try {
      kept = make_strided_map(kept_dims, kept_strides, 0, "Reduce");
      reduced = make_strided_map(reduced_dims, reduced_strides, 0, "Reduce");
    } catch (const std::length_error&) {
      throw_error(ErrorCode::kNotImplemented, "CUDA ", node_.op_type, " (node '", node_.name,
                  "'): more than 8 dims that cannot be merged");
    }
    launch_reduce(op_, input.dtype(), input.raw_data(), output.mutable_raw_data(), output.element_count(), kept,
                  reduced, reduced_count, stream_of(context));
  }

 private:
  const Node& node_;
  ReduceOp op_;
  bool axes_from_input_;
  bool keepdims_;
  bool noop_with_empty_axes_;
  std::vector<int64_t> axes_;
};

// One class per op, so that registration sees its static supports() (placement asks it).
template <ReduceOp kOp>
class CudaReduceOpKernel final : public Kernel {
 public:
  explicit CudaReduceOpKernel(const KernelInfo& info) : kernel_(info, kOp) {}
  static bool supports(const KernelInfo& info) { return CudaReduceKernel::supports(info); }
  void compute(KernelContext& context) override { kernel_.compute(context); }

 private:
  CudaReduceKernel kernel_;
};

}  // namespace

// Axes are host input 1 where the op takes them as an input.
#define ONYX_CUDA_REDUCE(name, op)                                                                       \
  ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", name, 1, kOpsetOpenEnded, CudaReduceOpKernel<ReduceOp::op>, \
                                   {.host = {1}, .any_device = {}})

ONYX_CUDA_REDUCE("ReduceSum", kSum);
ONYX_CUDA_REDUCE("ReduceMean", kMean);
ONYX_CUDA_REDUCE("ReduceMax", kMax);
ONYX_CUDA_REDUCE("ReduceMin", kMin);
ONYX_CUDA_REDUCE("ReduceProd", kProd);
ONYX_CUDA_REDUCE("ReduceSumSquare", kSumSquare);
ONYX_CUDA_REDUCE("ReduceL1", kL1);
ONYX_CUDA_REDUCE("ReduceL2", kL2);
ONYX_CUDA_REDUCE("ReduceLogSumExp", kLogSumExp);
#undef ONYX_CUDA_REDUCE

}  // namespace onyx::cuda
