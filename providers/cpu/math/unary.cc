// One-input elementwise math: Neg, Abs, Reciprocal, Floor, Ceil, Round, Sqrt, Exp, Log, the
// trigonometric and hyperbolic functions, Sign, Erf, IsNaN, IsInf, Not, BitwiseNot. Float math
// runs as Eigen array expressions (vectorized); integer forms are plain loops.
#include <cmath>
#include <string>

#include "providers/cpu/math/eigen_unary.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

// A float op is an Eigen expression on array x; an integer op a scalar functor.
#define ONYX_FLOAT_EXPR(Name, expression)      \
  struct Name {                                \
    template <typename X>                      \
    auto operator()(const X& x) const {        \
      return expression;                       \
    }                                          \
  }

ONYX_FLOAT_EXPR(NegExpr, -x);
ONYX_FLOAT_EXPR(AbsExpr, x.abs());
ONYX_FLOAT_EXPR(ReciprocalExpr, x.inverse());
ONYX_FLOAT_EXPR(FloorExpr, x.floor());
ONYX_FLOAT_EXPR(CeilExpr, x.ceil());
ONYX_FLOAT_EXPR(RoundExpr, x.rint());  // half to even under the default rounding mode
ONYX_FLOAT_EXPR(SqrtExpr, x.sqrt());
ONYX_FLOAT_EXPR(ExpExpr, x.exp());
ONYX_FLOAT_EXPR(LogExpr, x.log());
ONYX_FLOAT_EXPR(SinExpr, x.sin());
ONYX_FLOAT_EXPR(CosExpr, x.cos());
ONYX_FLOAT_EXPR(TanExpr, x.tan());
ONYX_FLOAT_EXPR(AsinExpr, x.asin());
ONYX_FLOAT_EXPR(AcosExpr, x.acos());
ONYX_FLOAT_EXPR(AtanExpr, x.atan());
ONYX_FLOAT_EXPR(SinhExpr, x.sinh());
ONYX_FLOAT_EXPR(CoshExpr, x.cosh());
ONYX_FLOAT_EXPR(AsinhExpr, x.asinh());
ONYX_FLOAT_EXPR(AcoshExpr, x.acosh());
ONYX_FLOAT_EXPR(AtanhExpr, x.atanh());
ONYX_FLOAT_EXPR(ErfExpr, x.erf());
// NaN stays NaN, as in NumPy.
ONYX_FLOAT_EXPR(SignExpr, x.unaryExpr([](auto v) {
  using V = decltype(v);
  return v > V(0) ? V(1) : (v < V(0) ? V(-1) : v);
}));

struct NoIntOp {};
struct NegIntOp {
  template <typename T>
  T operator()(T v) const { return static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(v)); }
};
struct AbsIntOp {
  template <typename T>
  T operator()(T v) const {
    if constexpr (std::is_signed_v<T>) {
      return v < 0 ? NegIntOp{}(v) : v;
    } else {
      return v;
    }
  }
};
struct SignIntOp {
  template <typename T>
  T operator()(T v) const {
    if constexpr (std::is_signed_v<T>) {
      return static_cast<T>((v > 0) - (v < 0));
    } else {
      return static_cast<T>(v > 0);
    }
  }
};

// Float types through Expr; integer types (those in IntList) through IntOp.
template <typename Expr, typename IntList = TypeList<>, typename IntOp = NoIntOp>
class UnaryKernel final : public Kernel {
 public:
  explicit UnaryKernel(const KernelInfo& info) : name_(info.node().op_type) {}
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    bool done = dispatch_dtype(FloatTypes{}, x.dtype(), [&]<typename T>() {
      eigen_unary<T>(ctx, x, Expr{});
    });
    if constexpr (!std::is_same_v<IntOp, NoIntOp>) {
      done = done || dispatch_dtype(IntList{}, x.dtype(), [&]<typename T>() {
               Tensor& out = ctx.output(0, x.dtype(), x.shape());
               unary_map(x.data<T>(), out.mutable_data<T>(), x.element_count(), ctx.threads(),
                         IntOp{});
             });
    }
    if (!done) {
      throw_error(ErrorCode::kNotImplemented, name_, ": element type ", dtype_name(x.dtype()),
                  " is not supported on CPU");
    }
  }

 private:
  std::string name_;
};

class IsNaNKernel final : public Kernel {
 public:
  explicit IsNaNKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), "IsNaN", [&]<typename T>() {
      Tensor& out = ctx.output(0, DataType::kBool, x.shape());
      unary_map(x.data<T>(), out.mutable_data<bool>(), x.element_count(), ctx.threads(),
                [](auto v) { return v != v; });
    });
  }
};

class IsInfKernel final : public Kernel {
 public:
  explicit IsInfKernel(const KernelInfo& info)
      : negative_(info.attributes().get_int("detect_negative", 1) != 0),
        positive_(info.attributes().get_int("detect_positive", 1) != 0) {}
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), "IsInf", [&]<typename T>() {
      using C = ComputeType<T>;
      const C inf = std::numeric_limits<C>::infinity();
      const bool neg = negative_, pos = positive_;
      Tensor& out = ctx.output(0, DataType::kBool, x.shape());
      unary_map(x.data<T>(), out.mutable_data<bool>(), x.element_count(), ctx.threads(),
                [=](C v) { return (pos && v == inf) || (neg && v == -inf); });
    });
  }

 private:
  bool negative_;
  bool positive_;
};

class NotKernel final : public Kernel {
 public:
  explicit NotKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    ONYX_CHECK(x.dtype() == DataType::kBool, ErrorCode::kNotImplemented,
               "Not: element type ", dtype_name(x.dtype()), " is not supported (bool only)");
    Tensor& out = ctx.output(0, DataType::kBool, x.shape());
    unary_map(x.data<bool>(), out.mutable_data<bool>(), x.element_count(), ctx.threads(),
              [](bool v) { return !v; });
  }
};

class BitwiseNotKernel final : public Kernel {
 public:
  explicit BitwiseNotKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    dispatch_dtype_or_throw<IntTypes>(x.dtype(), "BitwiseNot", [&]<typename T>() {
      Tensor& out = ctx.output(0, x.dtype(), x.shape());
      unary_map(x.data<T>(), out.mutable_data<T>(), x.element_count(), ctx.threads(),
                [](T v) { return static_cast<T>(~v); });
    });
  }
};

using NegKernel = UnaryKernel<NegExpr, SignedIntTypes, NegIntOp>;
using AbsKernel = UnaryKernel<AbsExpr, IntTypes, AbsIntOp>;
using SignKernel = UnaryKernel<SignExpr, IntTypes, SignIntOp>;

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Neg", 1, kOpsetOpenEnded, NegKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Abs", 1, kOpsetOpenEnded, AbsKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Sign", 9, kOpsetOpenEnded, SignKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Reciprocal", 1, kOpsetOpenEnded, UnaryKernel<ReciprocalExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Floor", 1, kOpsetOpenEnded, UnaryKernel<FloorExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Ceil", 1, kOpsetOpenEnded, UnaryKernel<CeilExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Round", 11, kOpsetOpenEnded, UnaryKernel<RoundExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Sqrt", 1, kOpsetOpenEnded, UnaryKernel<SqrtExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Exp", 1, kOpsetOpenEnded, UnaryKernel<ExpExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Log", 1, kOpsetOpenEnded, UnaryKernel<LogExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Sin", 7, kOpsetOpenEnded, UnaryKernel<SinExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Cos", 7, kOpsetOpenEnded, UnaryKernel<CosExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Tan", 7, kOpsetOpenEnded, UnaryKernel<TanExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Asin", 7, kOpsetOpenEnded, UnaryKernel<AsinExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Acos", 7, kOpsetOpenEnded, UnaryKernel<AcosExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Atan", 7, kOpsetOpenEnded, UnaryKernel<AtanExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Sinh", 9, kOpsetOpenEnded, UnaryKernel<SinhExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Cosh", 9, kOpsetOpenEnded, UnaryKernel<CoshExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Asinh", 9, kOpsetOpenEnded, UnaryKernel<AsinhExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Acosh", 9, kOpsetOpenEnded, UnaryKernel<AcoshExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Atanh", 9, kOpsetOpenEnded, UnaryKernel<AtanhExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "Erf", 9, kOpsetOpenEnded, UnaryKernel<ErfExpr>);
ONYX_REGISTER_KERNEL("CPU", "", "IsNaN", 9, kOpsetOpenEnded, IsNaNKernel);
ONYX_REGISTER_KERNEL("CPU", "", "IsInf", 10, kOpsetOpenEnded, IsInfKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Not", 1, kOpsetOpenEnded, NotKernel);
ONYX_REGISTER_KERNEL("CPU", "", "BitwiseNot", 18, kOpsetOpenEnded, BitwiseNotKernel);

}  // namespace onyx
