// CUDA Cast and CastLike among float, double, float16, bfloat16, 8/16/32/64-bit integers and
// bool. A cast to the same type aliases the input.
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/math/cast_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

constexpr const char* kCudaCastTypes = "float, double, float16, bfloat16, int8, uint8, int16, int32, int64, bool";

class CudaCastKernel final : public Kernel {
 public:
  explicit CudaCastKernel(const KernelInfo& info) : node_(info.node()), like_(info.node().op_type == "CastLike") {
    if (!like_) to_ = dtype_from_code(static_cast<int32_t>(info.attributes().require_int("to")));
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, kCudaCastTypes);
    if (!like_ && !cast_dtype_supported(to_)) {
      throw_error(ErrorCode::kNotImplemented, "CUDA Cast (node '", node_.name, "'): target type ", dtype_name(to_),
                  " is not supported on CUDA (supported: ", kCudaCastTypes, ")");
    }
  }

  static bool supports(const KernelInfo& info) {
    DataType type = inferred_input_type(info, 0);
    if (type != DataType::kUndefined && !cast_dtype_supported(type)) return false;
    if (info.node().op_type == "CastLike") {
      DataType target = inferred_input_type(info, 1);
      return target == DataType::kUndefined || cast_dtype_supported(target);
    }
    int64_t to = info.attributes().get_int("to", 0);
    return to >= 0 && to <= kMaxDataTypeCode && cast_dtype_supported(static_cast<DataType>(to));
  }

  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    DataType to = like_ ? context.input(1).dtype() : to_;
    if (!cast_dtype_supported(input.dtype())) throw_cuda_unsupported_type(node_, 0, input.dtype(), kCudaCastTypes);
    if (to == input.dtype()) {
      context.set_output(0, input);
      return;
    }
    Tensor& output = context.output(0, to, input.shape());
    launch_cast(input.dtype(), to, input.raw_data(), output.mutable_raw_data(), input.element_count(),
                stream_of(context));
  }

 private:
  const Node& node_;
  bool like_;
  DataType to_ = DataType::kUndefined;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "Cast", 1, kOpsetOpenEnded, CudaCastKernel);
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "CastLike", 15, kOpsetOpenEnded, CudaCastKernel,
                                 {.host = {}, .any_device = {1}});

}  // namespace onyx::cuda
