// Two-input elementwise math with NumPy broadcasting (opset<7 `broadcast`/`axis` forms too):
// Add, Sub, Mul, Div, Pow, Mod, BitShift, BitwiseAnd/Or/Xor.
#include <cmath>
#include <limits>
#include <string>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

struct AddOp {
  template <typename T>
  T operator()(T a, T b) const { return a + b; }
};
struct SubOp {
  template <typename T>
  T operator()(T a, T b) const { return a - b; }
};
struct MulOp {
  template <typename T>
  T operator()(T a, T b) const { return a * b; }
};
struct DivOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      // Truncates like C. Division by zero gives 0 (NumPy's answer) instead of a trap, and
      // MIN / -1 wraps instead of trapping.
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(a));
      }
      return static_cast<T>(a / b);
    } else {
      return a / b;
    }
  }
};

// fmod=0: the result takes the divisor's sign (Python/NumPy `%`); fmod=1: the dividend's (C).
template <bool kFmod>
struct ModOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return 0;
        T r = static_cast<T>(a % b);
        if (!kFmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
        return r;
      } else {
        return static_cast<T>(a % b);
      }
    } else {
      T r = std::fmod(a, b);
      if constexpr (!kFmod) {
        if (r != 0) {
          if ((r < 0) != (b < 0)) r += b;
        } else {
          r = std::copysign(T(0), b);
        }
      }
      return r;
    }
  }
};

// Shifts of at least the bit width (or negative) give 0, or -1 for a right shift of a negative
// value: what the ONNX reference does, and never C's undefined behaviour.
template <bool kLeft>
struct ShiftOp {
  template <typename T>
  T operator()(T a, T b) const {
    constexpr T kBits = static_cast<T>(sizeof(T) * 8);
    bool in_range = b < kBits;
    if constexpr (std::is_signed_v<T>) in_range = in_range && b >= 0;
    if (!in_range) {
      if constexpr (std::is_signed_v<T>) {
        if (!kLeft && a < 0) return T(-1);
      }
      return T(0);
    }
    using U = std::make_unsigned_t<T>;
    if constexpr (kLeft) {
      return static_cast<T>(static_cast<U>(static_cast<U>(a) << b));
    } else {
      return static_cast<T>(a >> b);
    }
  }
};

struct BitAndOp {
  template <typename T>
  T operator()(T a, T b) const { return a & b; }
};
struct BitOrOp {
  template <typename T>
  T operator()(T a, T b) const { return a | b; }
};
struct BitXorOp {
  template <typename T>
  T operator()(T a, T b) const { return a ^ b; }
};

// Shared body of same-type binary kernels.
template <typename Types, typename Op>
void run_same_type_binary(KernelContext& ctx, const LegacyBroadcast& legacy,
                          const std::string& name, const Op& op) {
  const Tensor& a = ctx.input(0);
  Tensor b = legacy.adapt(a, ctx.input(1), name);
  ONYX_CHECK(a.dtype() == b.dtype(), ErrorCode::kInvalidArgument, name, ": inputs have types ",
             dtype_name(a.dtype()), " and ", dtype_name(b.dtype()), "; they must match");
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  dispatch_dtype_or_throw<Types>(a.dtype(), name, [&]<typename T>() {
    Tensor& out = ctx.output(0, a.dtype(), shape);
    binary_broadcast<T, T, T>(a, b, out, ctx.threads(), op);
  });
}

template <typename Types, typename Op>
class SameTypeBinaryKernel final : public Kernel {
 public:
  explicit SameTypeBinaryKernel(const KernelInfo& info)
      : legacy_(info), name_(info.node().op_type) {}
  void compute(KernelContext& ctx) override {
    run_same_type_binary<Types>(ctx, legacy_, name_, Op{});
  }

 private:
  LegacyBroadcast legacy_;
  std::string name_;
};

using AddKernel = SameTypeBinaryKernel<NumericTypes, AddOp>;
using SubKernel = SameTypeBinaryKernel<NumericTypes, SubOp>;
using MulKernel = SameTypeBinaryKernel<NumericTypes, MulOp>;
using DivKernel = SameTypeBinaryKernel<NumericTypes, DivOp>;
using BitAndKernel = SameTypeBinaryKernel<IntTypes, BitAndOp>;
using BitOrKernel = SameTypeBinaryKernel<IntTypes, BitOrOp>;
using BitXorKernel = SameTypeBinaryKernel<IntTypes, BitXorOp>;

class ModKernel final : public Kernel {
 public:
  explicit ModKernel(const KernelInfo& info)
      : legacy_(info), fmod_(info.attributes().get_int("fmod", 0) != 0) {}
  void compute(KernelContext& ctx) override {
    if (fmod_) {
      run_same_type_binary<NumericTypes>(ctx, legacy_, "Mod", ModOp<true>{});
    } else {
      run_same_type_binary<NumericTypes>(ctx, legacy_, "Mod", ModOp<false>{});
    }
  }

 private:
  LegacyBroadcast legacy_;
  bool fmod_;
};

class BitShiftKernel final : public Kernel {
 public:
  explicit BitShiftKernel(const KernelInfo& info) : legacy_(info) {
    std::string direction = info.attributes().require_string("direction");
    ONYX_CHECK(direction == "LEFT" || direction == "RIGHT", ErrorCode::kInvalidModel,
               info.node().describe(), ": direction must be LEFT or RIGHT, got '", direction, "'");
    left_ = direction == "LEFT";
  }
  void compute(KernelContext& ctx) override {
    if (left_) {
      run_same_type_binary<IntTypes>(ctx, legacy_, "BitShift", ShiftOp<true>{});
    } else {
      run_same_type_binary<IntTypes>(ctx, legacy_, "BitShift", ShiftOp<false>{});
    }
  }

 private:
  LegacyBroadcast legacy_;
  bool left_ = true;
};

// Integer power by squaring; a negative exponent gives what truncating 1/a^|b| gives.
template <typename T, typename E>
T int_pow(T base, E exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return (static_cast<int64_t>(exponent) & 1) ? T(-1) : T(1);
    return 0;
  }
  using U = std::make_unsigned_t<T>;
  U result = 1;
  U b = static_cast<U>(base);
  uint64_t e = static_cast<uint64_t>(exponent);
  while (e) {
    if (e & 1) result = static_cast<U>(result * b);
    b = static_cast<U>(b * b);
    e >>= 1;
  }
  return static_cast<T>(result);
}

// An integer base with a float exponent: the power is computed in double and converted back. A
// power outside the base type's range (or NaN, or an infinite exponent) has no integer value,
// and a plain cast would be undefined behaviour; it gives the type's minimum instead, which is
// what x86's conversion instruction gives and so what the ONNX reference (NumPy's astype) gives
// there.
template <typename T>
T double_to_int_like_x86(double value) {
  constexpr double kLow = static_cast<double>(std::numeric_limits<T>::min());
  constexpr double kHigh = -kLow;  // 2^(bits-1): the first value above the range
  if (!(value > kLow - 1.0 && value < kHigh)) return std::numeric_limits<T>::min();
  return static_cast<T>(value);
}

struct PowOp {
  template <typename A, typename B>
  auto operator()(A a, B b) const {
    if constexpr (std::is_integral_v<A> && std::is_integral_v<B>) {
      return int_pow(a, b);
    } else if constexpr (std::is_integral_v<A>) {
      return double_to_int_like_x86<A>(std::pow(static_cast<double>(a), static_cast<double>(b)));
    } else if constexpr (std::is_same_v<A, B>) {
      return std::pow(a, b);
    } else {
      // Mixed types compute in double, as NumPy promotes them, then round to the base type.
      return static_cast<A>(std::pow(static_cast<double>(a), static_cast<double>(b)));
    }
  }
};

// Pow's base and exponent may differ in type (opset 12+); the result has the base's type.
class PowKernel final : public Kernel {
 public:
  explicit PowKernel(const KernelInfo& info) : legacy_(info) {}
  void compute(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    Tensor b = legacy_.adapt(a, ctx.input(1), "Pow");
    Shape shape = broadcast_shapes(a.shape(), b.shape(), "Pow");
    using BaseTypes = TypeList<float, double, Float16, BFloat16, int32_t, int64_t>;
    dispatch_dtype_or_throw<BaseTypes>(a.dtype(), "Pow", [&]<typename T>() {
      Tensor& out = ctx.output(0, a.dtype(), shape);
      if (a.dtype() == b.dtype() && b.element_count() == 1 && !std::is_integral_v<T> &&
          a.shape() == shape && pow_by_constant<T>(a, static_cast<float>(b.data<T>()[0]), out,
                                                    ctx.threads())) {
        return;
      }
      if (a.dtype() == b.dtype()) {
        binary_broadcast<T, T, T>(a, b, out, ctx.threads(), PowOp{});
        return;
      }
      // A mixed-type exponent is converted once to the type the mixed case computes in (an
      // integer power for an integer base and exponent, double otherwise), so the loops exist
      // for three exponent types instead of one per (base, exponent) pair.
      const bool float_exponent = b.dtype() == DataType::kFloat || b.dtype() == DataType::kDouble ||
                                  b.dtype() == DataType::kFloat16 || b.dtype() == DataType::kBFloat16;
      if (std::is_integral_v<T> && !float_exponent) {
        if (b.dtype() == DataType::kUInt64) {
          binary_broadcast<T, uint64_t, T>(a, widened_exponent<uint64_t>(b), out, ctx.threads(), PowOp{});
        } else {
          binary_broadcast<T, int64_t, T>(a, widened_exponent<int64_t>(b), out, ctx.threads(), PowOp{});
        }
      } else {
        binary_broadcast<T, double, T>(a, widened_exponent<double>(b), out, ctx.threads(), PowOp{});
      }
    });
  }

 private:
  // The exponent as W, elementwise (exact for every integer exponent as int64/uint64).
  template <typename W>
  static Tensor widened_exponent(const Tensor& b) {
    Tensor wide(dtype_of<W>(), b.shape());
    W* out = wide.mutable_data<W>();
    const int64_t n = b.element_count();
    dispatch_dtype_or_throw<NumericTypes>(b.dtype(), "Pow exponent", [&]<typename E>() {
      const E* in = b.data<E>();
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<W>(load(in[i]));
    });
    return wide;
  }

  // x^2, x^3, sqrt(x) and x^1 with a scalar exponent skip libm's pow.
  template <typename T>
  static bool pow_by_constant(const Tensor& a, float e, Tensor& out, int threads) {
    const T* in = a.data<T>();
    T* o = out.mutable_data<T>();
    int64_t n = a.element_count();
    if (e == 2.0f) {
      unary_map(in, o, n, threads, [](auto x) { return x * x; });
    } else if (e == 3.0f) {
      unary_map(in, o, n, threads, [](auto x) { return x * x * x; });
    } else if (e == 1.0f) {
      unary_map(in, o, n, threads, [](auto x) { return x; });
    } else if (e == 0.5f) {
      unary_map(in, o, n, threads, [](auto x) { return std::sqrt(x); });
    } else {
      return false;
    }
    return true;
  }

  LegacyBroadcast legacy_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Add", 1, kOpsetOpenEnded, AddKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Sub", 1, kOpsetOpenEnded, SubKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Mul", 1, kOpsetOpenEnded, MulKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Div", 1, kOpsetOpenEnded, DivKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Pow", 1, kOpsetOpenEnded, PowKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Mod", 10, kOpsetOpenEnded, ModKernel);
ONYX_REGISTER_KERNEL("CPU", "", "BitShift", 11, kOpsetOpenEnded, BitShiftKernel);
ONYX_REGISTER_KERNEL("CPU", "", "BitwiseAnd", 18, kOpsetOpenEnded, BitAndKernel);
ONYX_REGISTER_KERNEL("CPU", "", "BitwiseOr", 18, kOpsetOpenEnded, BitOrKernel);
ONYX_REGISTER_KERNEL("CPU", "", "BitwiseXor", 18, kOpsetOpenEnded, BitXorKernel);

}  // namespace onyx
