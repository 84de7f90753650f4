// CUDA kernels of the unary elementwise ops: one class for every op (the op and its attributes
// chosen at creation), and Clip, whose bounds are host inputs from opset 11.
#include <limits>

#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/math/unary_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaUnaryKernel {
 public:
  CudaUnaryKernel(const KernelInfo& info, UnaryOp op) : node_(info.node()), op_(op) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, "float, float16, bfloat16");
    const NodeAttributes& attributes = info.attributes();
    switch (op) {
      case UnaryOp::kLeakyRelu: params_.alpha = attributes.get_float("alpha", 0.01f); break;
      case UnaryOp::kHardSigmoid:
        params_.alpha = attributes.get_float("alpha", 0.2f);
        params_.beta = attributes.get_float("beta", 0.5f);
        break;
      case UnaryOp::kElu: params_.alpha = attributes.get_float("alpha", 1.0f); break;
      case UnaryOp::kSelu:
        params_.alpha = attributes.get_float("alpha", 1.67326319217681884765625f);
        params_.gamma = attributes.get_float("gamma", 1.05070102214813232421875f);
        break;
      case UnaryOp::kSwish: params_.alpha = attributes.get_float("alpha", 1.0f); break;
      case UnaryOp::kThresholdedRelu: params_.alpha = attributes.get_float("alpha", 1.0f); break;
      case UnaryOp::kCelu: params_.alpha = attributes.get_float("alpha", 1.0f); break;
      case UnaryOp::kShrink:
        params_.alpha = attributes.get_float("lambd", 0.5f);
        params_.beta = attributes.get_float("bias", 0.0f);
        break;
      case UnaryOp::kGelu:
        if (attributes.get_string("approximate", "none") == "tanh") op_ = UnaryOp::kGeluTanh;
        break;
      default: break;
    }
  }

  static bool supports(const KernelInfo& info) {
    return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16});
  }

  void compute(KernelContext& context) {
    const Tensor& input = context.input(0);
    check_cuda_input_type(node_, 0, input.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16},
                          "float, float16, bfloat16");
    Tensor& output = context.output(0, input.dtype(), input.shape());
    launch_unary(op_, input.dtype(), input.raw_data(), output.mutable_raw_data(), input.element_count(), params_,
                 stream_of(context));
  }

 private:
  const Node& node_;
  UnaryOp op_;
  UnaryParams params_;
};

// Clip: bounds from attributes (opset < 11) or optional host inputs 1 and 2.
class CudaClipKernel final : public Kernel {
 public:
  explicit CudaClipKernel(const KernelInfo& info) : node_(info.node()), opset_(info.opset()) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, "float, float16, bfloat16");
    low_ = info.attributes().get_float("min", std::numeric_limits<float>::lowest());
    high_ = info.attributes().get_float("max", std::numeric_limits<float>::max());
  }

  static bool supports(const KernelInfo& info) { return CudaUnaryKernel::supports(info); }

  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    check_cuda_input_type(node_, 0, input.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16},
                          "float, float16, bfloat16");
    UnaryParams params{low_, high_, 0.0f};
    if (opset_ >= 11) {
      params.alpha = context.has_input(1) ? host_scalar_as_float(context.input(1), node_, 1)
                                          : -std::numeric_limits<float>::infinity();
      params.beta = context.has_input(2) ? host_scalar_as_float(context.input(2), node_, 2)
                                         : std::numeric_limits<float>::infinity();
    }
    Tensor& output = context.output(0, input.dtype(), input.shape());
    launch_unary(UnaryOp::kClip, input.dtype(), input.raw_data(), output.mutable_raw_data(), input.element_count(),
                 params, stream_of(context));
  }

 private:
  const Node& node_;
  int64_t opset_;
  float low_;
  float high_;
};

// One class per op, so that registration sees its static supports() (placement asks it).
template <UnaryOp kOp>
class CudaUnaryOpKernel final : public Kernel {
 public:
  explicit CudaUnaryOpKernel(const KernelInfo& info) : kernel_(info, kOp) {}
  static bool supports(const KernelInfo& info) { return CudaUnaryKernel::supports(info); }
  void compute(KernelContext& context) override { kernel_.compute(context); }

 private:
  CudaUnaryKernel kernel_;
};

}  // namespace

#define ONYX_CUDA_UNARY(name, since, op) \
  ONYX_REGISTER_KERNEL(kCudaProvider, "", name, since, kOpsetOpenEnded, CudaUnaryOpKernel<UnaryOp::op>)

ONYX_CUDA_UNARY("Relu", 1, kRelu);
ONYX_CUDA_UNARY("Sigmoid", 1, kSigmoid);
ONYX_CUDA_UNARY("Tanh", 1, kTanh);
ONYX_CUDA_UNARY("Exp", 1, kExp);
ONYX_CUDA_UNARY("Log", 1, kLog);
ONYX_CUDA_UNARY("Sqrt", 1, kSqrt);
ONYX_CUDA_UNARY("Neg", 1, kNeg);
ONYX_CUDA_UNARY("Abs", 1, kAbs);
ONYX_CUDA_UNARY("Erf", 9, kErf);
ONYX_CUDA_UNARY("Reciprocal", 1, kReciprocal);
ONYX_CUDA_UNARY("Gelu", 20, kGelu);
ONYX_CUDA_UNARY("HardSigmoid", 1, kHardSigmoid);
ONYX_CUDA_UNARY("HardSwish", 14, kHardSwish);
ONYX_CUDA_UNARY("LeakyRelu", 1, kLeakyRelu);
ONYX_CUDA_UNARY("Softplus", 1, kSoftplus);
ONYX_CUDA_UNARY("Softsign", 1, kSoftsign);
ONYX_CUDA_UNARY("Elu", 1, kElu);
ONYX_CUDA_UNARY("Selu", 1, kSelu);
ONYX_CUDA_UNARY("Mish", 18, kMish);
ONYX_CUDA_UNARY("Swish", 24, kSwish);
ONYX_CUDA_UNARY("Floor", 1, kFloor);
ONYX_CUDA_UNARY("Ceil", 1, kCeil);
ONYX_CUDA_UNARY("Sin", 7, kSin);
ONYX_CUDA_UNARY("Cos", 7, kCos);
ONYX_CUDA_UNARY("Sign", 9, kSign);
ONYX_CUDA_UNARY("Round", 11, kRound);
ONYX_CUDA_UNARY("Tan", 7, kTan);
ONYX_CUDA_UNARY("Asin", 7, kAsin);
ONYX_CUDA_UNARY("Acos", 7, kAcos);
ONYX_CUDA_UNARY("Atan", 7, kAtan);
ONYX_CUDA_UNARY("Sinh", 9, kSinh);
ONYX_CUDA_UNARY("Cosh", 9, kCosh);
ONYX_CUDA_UNARY("Asinh", 9, kAsinh);
ONYX_CUDA_UNARY("Acosh", 9, kAcosh);
ONYX_CUDA_UNARY("Atanh", 9, kAtanh);
ONYX_CUDA_UNARY("ThresholdedRelu", 10, kThresholdedRelu);
ONYX_CUDA_UNARY("Celu", 12, kCelu);
ONYX_CUDA_UNARY("Shrink", 9, kShrink);
#undef ONYX_CUDA_UNARY
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Clip", 1, kOpsetOpenEnded, CudaClipKernel, {.host = {1, 2}, .any_device = {}});

}  // namespace onyx::cuda
