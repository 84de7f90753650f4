// Pointwise activations as Eigen array expressions (vectorized exp/tanh/erf; 16-bit floats in
// float): Relu, LeakyRelu, Elu, Selu, Celu, Sigmoid, HardSigmoid, HardSwish, Tanh, Softplus,
// Softsign, ThresholdedRelu, Mish, Swish, Gelu; and PRelu, whose slope broadcasts into X.
#include <cmath>
#include <string>

#include "onnx_ops/op_schema.h"
#include "providers/cpu/math/eigen_unary.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

// Each activation: a struct built from the node's attributes whose operator() maps an Eigen
// array x to an expression.
struct ReluExpr {
  explicit ReluExpr(const NodeAttributes&) {}
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return (x > S(0)).select(x, S(0));
  }
};

struct LeakyReluExpr {
  explicit LeakyReluExpr(const NodeAttributes& a) : alpha(a.get_float("alpha", 0.01f)) {}
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return (x >= S(0)).select(x, x * S(alpha));
  }
  float alpha;
};

struct EluExpr {
  explicit EluExpr(const NodeAttributes& a) : alpha(a.get_float("alpha", 1.0f)) {}
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return (x >= S(0)).select(x, S(alpha) * x.expm1());
  }
  float alpha;
};

struct SeluExpr {
  explicit SeluExpr(const NodeAttributes& a)
      : alpha(a.get_float("alpha", 1.67326319217681884765625f)),
        gamma(a.get_float("gamma", 1.05070102214813232421875f)) {}
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return S(gamma) * (x > S(0)).select(x, S(alpha) * x.expm1());
  }
  float alpha, gamma;
};

struct CeluExpr {
  explicit CeluExpr(const NodeAttributes& a) : alpha(a.get_float("alpha", 1.0f)) {}
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return (x > S(0)).select(x, S(alpha) * (x / S(alpha)).expm1());
  }
  float alpha;
};

struct SigmoidExpr {
  explicit SigmoidExpr(const NodeAttributes&) {}
  template <typename X>
  auto operator()(const X& x) const { return x.logistic(); }
};

struct HardSigmoidExpr {
  explicit HardSigmoidExpr(const NodeAttributes& a)
      : alpha(a.get_float("alpha", 0.2f)), beta(a.get_float("beta", 0.5f)) {}
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return (x * S(alpha) + S(beta)).max(S(0)).min(S(1));
  }
  float alpha, beta;
};

struct HardSwishExpr {
  explicit HardSwishExpr(const NodeAttributes&) {}
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return x * (x * S(1.0 / 6.0) + S(0.5)).max(S(0)).min(S(1));
  }
};

struct TanhExpr {
  explicit TanhExpr(const NodeAttributes&) {}
  template <typename X>
  auto operator()(const X& x) const { return x.tanh(); }
};

// log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|).
template <typename X>
auto softplus(const X& x) {
  using S = typename X::Scalar;
  return x.max(S(0)) + (-x.abs()).exp().log1p();
}

struct SoftplusExpr {
  explicit SoftplusExpr(const NodeAttributes&) {}
  template <typename X>
  auto operator()(const X& x) const { return softplus(x); }
};

struct SoftsignExpr {
  explicit SoftsignExpr(const NodeAttributes&) {}
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return x / (x.abs() + S(1));
  }
};

struct ThresholdedReluExpr {
  explicit ThresholdedReluExpr(const NodeAttributes& a) : alpha(a.get_float("alpha", 1.0f)) {}
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return (x > S(alpha)).select(x, S(0));
  }
  float alpha;
};

// x * sigmoid(alpha * x)
struct SwishExpr {
  explicit SwishExpr(const NodeAttributes& a) : alpha(a.get_float("alpha", 1.0f)) {}
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return x * (x * S(alpha)).logistic();
  }
  float alpha;
};

struct MishExpr {
  explicit MishExpr(const NodeAttributes&) {}
  template <typename X>
  auto operator()(const X& x) const { return x * softplus(x).tanh(); }
};

struct GeluErfExpr {
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return S(0.5) * x * (S(1) + (x * S(0.7071067811865476)).erf());
  }
};

struct GeluTanhExpr {
  template <typename X>
  auto operator()(const X& x) const {
    using S = typename X::Scalar;
    return S(0.5) * x * (S(1) + ((x + S(0.044715) * x * x * x) * S(0.7978845608028654)).tanh());
  }
};

template <typename Expr, typename IntList = TypeList<>>
class ActivationKernel final : public Kernel {
 public:
  explicit ActivationKernel(const KernelInfo& info)
      : expr_(info.attributes()), name_(info.node().op_type) {}
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    bool done = dispatch_dtype(FloatTypes{}, x.dtype(), [&]<typename T>() {
      eigen_unary<T>(ctx, x, expr_);
    });
    done = done || dispatch_dtype(IntList{}, x.dtype(), [&]<typename T>() {
             Tensor& out = ctx.output(0, x.dtype(), x.shape());
             unary_map(x.data<T>(), out.mutable_data<T>(), x.element_count(), ctx.threads(),
                       [](T v) { return v > 0 ? v : T(0); });
           });
    if (!done) {
      throw_error(ErrorCode::kNotImplemented, name_, ": element type ", dtype_name(x.dtype()),
                  " is not supported on CPU");
    }
  }

 private:
  Expr expr_;
  std::string name_;
};

class GeluKernel final : public Kernel {
 public:
  explicit GeluKernel(const KernelInfo& info) {
    std::string approximate = info.attributes().get_string("approximate", "none");
    ONYX_CHECK(approximate == "none" || approximate == "tanh", ErrorCode::kInvalidModel,
               info.node().describe(), ": approximate must be 'none' or 'tanh', got '",
               approximate, "'");
    use_tanh_ = approximate == "tanh";
  }
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), "Gelu", [&]<typename T>() {
      if (use_tanh_) {
        eigen_unary<T>(ctx, x, GeluTanhExpr{});
      } else {
        eigen_unary<T>(ctx, x, GeluErfExpr{});
      }
    });
  }

 private:
  bool use_tanh_ = false;
};

struct PReluOp {
  template <typename T>
  T operator()(T x, T slope) const { return x < T(0) ? x * slope : x; }
};

// Slope broadcasts into X (opset 7+). Before opset 7 a 1-D slope of X's channel count meant
// per-channel; that reading is kept when the NumPy broadcast would not fit.
class PReluKernel final : public Kernel {
 public:
  explicit PReluKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor slope = ctx.input(1);
    ONYX_CHECK(x.dtype() == slope.dtype(), ErrorCode::kInvalidArgument, "PRelu: X has type ",
               dtype_name(x.dtype()), " but slope ", dtype_name(slope.dtype()));
    if (slope.rank() == 1 && x.rank() >= 2 && slope.dim(0) == x.dim(1) && slope.dim(0) != 1 &&
        x.dim(x.rank() - 1) != slope.dim(0)) {
      Shape per_channel(x.rank() - 1, 1);
      per_channel[0] = slope.dim(0);
      slope = slope.reshaped(per_channel);
    }
    Shape shape = broadcast_shapes(x.shape(), slope.shape(), "PRelu");
    ONYX_CHECK(shape == x.shape(), ErrorCode::kInvalidArgument, "PRelu: slope of shape ",
               shape_to_string(slope.shape()), " does not broadcast to X of shape ",
               shape_to_string(x.shape()));
    using Types = TypeList<float, double, Float16, BFloat16, int32_t, int64_t, uint32_t, uint64_t>;
    dispatch_dtype_or_throw<Types>(x.dtype(), "PRelu", [&]<typename T>() {
      Tensor& out = ctx.output(0, x.dtype(), shape);
      binary_broadcast<T, T, T>(x, slope, out, ctx.threads(), PReluOp{});
    });
  }
};

using ReluKernel = ActivationKernel<ReluExpr, SignedIntTypes>;

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Relu", 1, kOpsetOpenEnded, ReluKernel);
ONYX_REGISTER_KERNEL("CPU", "", "LeakyRelu", 1, kOpsetOpenEnded, ActivationKernel<LeakyReluExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Elu", 1, kOpsetOpenEnded, ActivationKernel<EluExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Selu", 1, kOpsetOpenEnded, ActivationKernel<SeluExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Celu", 12, kOpsetOpenEnded, ActivationKernel<CeluExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Sigmoid", 1, kOpsetOpenEnded, ActivationKernel<SigmoidExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "HardSigmoid", 1, kOpsetOpenEnded,
                     ActivationKernel<HardSigmoidExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "HardSwish", 14, kOpsetOpenEnded, ActivationKernel<HardSwishExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Tanh", 1, kOpsetOpenEnded, ActivationKernel<TanhExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Softplus", 1, kOpsetOpenEnded, ActivationKernel<SoftplusExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Softsign", 1, kOpsetOpenEnded, ActivationKernel<SoftsignExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "ThresholdedRelu", 10, kOpsetOpenEnded,
                     ActivationKernel<ThresholdedReluExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Mish", 18, kOpsetOpenEnded, ActivationKernel<MishExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Swish", 24, kOpsetOpenEnded, ActivationKernel<SwishExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Gelu", 20, kOpsetOpenEnded, GeluKernel);
// The same op under com.onyx, for models older than opset 20 (runtime/optimizer/gelu_fusion.h).
ONYX_REGISTER_KERNEL("CPU", kOnyxDomain, "Gelu", 1, kOpsetOpenEnded, GeluKernel);
ONYX_REGISTER_KERNEL("CPU", "", "PRelu", 1, kOpsetOpenEnded, PReluKernel);

}  // namespace onyx
