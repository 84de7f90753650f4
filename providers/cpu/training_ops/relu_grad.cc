// Kernel and shape rule of com.onyx.training::ReluGrad (onyx_training_ops.h).
#include "onnx_ops/op_schema.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"
#include "providers/cpu/training_ops/onyx_training_ops.h"

namespace onyx::training {
namespace {

class ReluGradKernel final : public Kernel {
 public:
  explicit ReluGradKernel(const KernelInfo&) {}

  void compute(KernelContext& ctx) override {
    const Tensor& dy = ctx.input(0);
    const Tensor& x = ctx.input(1);
    ONYX_CHECK(dy.dtype() == x.dtype() && dy.shape() == x.shape(), ErrorCode::kInvalidArgument, "ReluGrad: dY ",
               dtype_name(dy.dtype()), shape_to_string(dy.shape()), " and X ", dtype_name(x.dtype()),
               shape_to_string(x.shape()), " must have one type and shape");
    Tensor& dx = ctx.output(0, x.dtype(), x.shape());
    dispatch_dtype_or_throw<TypeList<float, double, Float16, BFloat16>>(x.dtype(), kReluGradOp, [&]<typename T>() {
      const T* g = dy.data<T>();
      const T* in = x.data<T>();
      T* out = dx.mutable_data<T>();
      parallel_for(x.element_count(), kElementwiseGrain, ctx.threads(), [&](int64_t begin, int64_t end) {
        // A select (not a multiply by a mask) keeps NaN and infinite gradients out of the zeros.
        for (int64_t i = begin; i < end; ++i) out[i] = load(in[i]) > 0 ? g[i] : T(0.0f);
      });
    });
  }
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", kTrainingDomain, kReluGradOp, 1, kOpsetOpenEnded, ReluGradKernel);

// dX has dY's type and shape.
ONYX_REGISTER_SHAPE_RULE(kTrainingDomain, kReluGradOp, [](InferenceContext& ctx) {
  ctx.set_output_type(0, ctx.input_type(0));
});

}  // namespace onyx::training
