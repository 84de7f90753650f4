// CPU kernel of Shrink (9): y = x + bias where x < -lambd, x - bias where x > lambd, else 0.
// Numeric, but filed with the string family that owns the remaining "misc" ops. Integers
// compare and subtract in float, as the ONNX reference does, then cast back.
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

class ShrinkKernel final : public Kernel {
 public:
  explicit ShrinkKernel(const KernelInfo& info)
      : lambd_(info.attributes().get_float("lambd", 0.5f)),
        bias_(info.attributes().get_float("bias", 0.0f)) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    dispatch_dtype_or_throw<NumericTypes>(x.dtype(), "Shrink", [&]<typename T>() {
      using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
      const C lambd = static_cast<C>(lambd_), bias = static_cast<C>(bias_);
      unary_map(x.data<T>(), y.mutable_data<T>(), x.element_count(), ctx.threads(),
                [=](auto v) -> C {
                  const C c = static_cast<C>(v);
                  return c < -lambd ? c + bias : (c > lambd ? c - bias : C(0));
                });
    });
  }

 private:
  float lambd_, bias_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Shrink", 9, kOpsetOpenEnded, ShrinkKernel);

}  // namespace onyx
