// CUDA Not, IsNaN, IsInf (bool outputs) and CumSum (axis from host input 1; exclusive, reverse).
#include "onnx_ops/axes.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/math/predicate_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

PredicateOp cuda_predicate_of(const std::string& op_type) {
  if (op_type == "Not") return PredicateOp::kNot;
  return op_type == "IsNaN" ? PredicateOp::kIsNaN : PredicateOp::kIsInf;
}

class CudaPredicateKernel final : public Kernel {
 public:
  explicit CudaPredicateKernel(const KernelInfo& info)
      : node_(info.node()), op_(cuda_predicate_of(info.node().op_type)),
        positive_(info.attributes().get_int("detect_positive", 1) != 0),
        negative_(info.attributes().get_int("detect_negative", 1) != 0) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, op_ == PredicateOp::kNot ? "bool" : "float types");
  }
  static bool supports(const KernelInfo& info) {
    DataType type = inferred_input_type(info, 0);
    return type == DataType::kUndefined || predicate_dtype_supported(cuda_predicate_of(info.node().op_type), type);
  }
  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    if (!predicate_dtype_supported(op_, input.dtype())) {
      throw_cuda_unsupported_type(node_, 0, input.dtype(), op_ == PredicateOp::kNot ? "bool" : "float types");
    }
    Tensor& output = context.output(0, DataType::kBool, input.shape());
    launch_predicate(op_, input.dtype(), input.raw_data(), static_cast<bool*>(output.mutable_raw_data()),
                     input.element_count(), positive_, negative_, stream_of(context));
  }

 private:
  const Node& node_;
  PredicateOp op_;
  bool positive_, negative_;
};

class CudaCumSumKernel final : public Kernel {
 public:
  explicit CudaCumSumKernel(const KernelInfo& info)
      : node_(info.node()), exclusive_(info.attributes().get_int("exclusive", 0) != 0),
        reverse_(info.attributes().get_int("reverse", 0) != 0) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, "float, float16, bfloat16, int32, int64");
  }
  static bool supports(const KernelInfo& info) {
    DataType type = inferred_input_type(info, 0);
    return type == DataType::kUndefined || cumsum_dtype_supported(type);
  }
  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    if (!cumsum_dtype_supported(input.dtype())) {
      throw_cuda_unsupported_type(node_, 0, input.dtype(), "float, float16, bfloat16, int32, int64");
    }
    std::vector<int64_t> axis_values = host_int64s(context.input(1), node_, 1);
    if (axis_values.size() != 1) {
      throw_error(ErrorCode::kInvalidArgument, "CumSum (node '", node_.name, "'): axis must hold one value");
    }
    Tensor& output = context.output(0, input.dtype(), input.shape());
    if (input.rank() == 0) {
      launch_cumsum(input.dtype(), input.raw_data(), output.mutable_raw_data(), 1, 1, 1, exclusive_, reverse_,
                    stream_of(context));
      return;
    }
    size_t axis = static_cast<size_t>(normalize_axis(axis_values[0], static_cast<int64_t>(input.rank()), "CumSum"));
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < axis; ++d) outer *= input.dim(d);
    for (size_t d = axis + 1; d < input.rank(); ++d) inner *= input.dim(d);
    launch_cumsum(input.dtype(), input.raw_data(), output.mutable_raw_data(), outer, input.dim(axis), inner, exclusive_,
                  reverse_, stream_of(context));
  }

 private:
  const Node& node_;
  bool exclusive_, reverse_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "Not", 1, kOpsetOpenEnded, CudaPredicateKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "IsNaN", 9, kOpsetOpenEnded, CudaPredicateKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "IsInf", 10, kOpsetOpenEnded, CudaPredicateKernel);
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "CumSum", 11, kOpsetOpenEnded, CudaCumSumKernel,
                                 {.host = {1}, .any_device = {}});

}  // namespace onyx::cuda
