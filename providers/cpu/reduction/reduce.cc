// CPU kernels of ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
// ReduceLogSum, ReduceLogSumExp and ReduceSumSquare, all opsets: one kernel class per op, reading
// axes from the attribute or from input 1 by opset. Reductions over an empty set give the op's
// identity (0, 1, -inf, ...) run through its final step, as ONNX specifies.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "providers/cpu/reduction/reduce_loops.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// exp for x <= 0 (LogSumExp only exponentiates x - max) in a branch-free form that vectorizes;
// Cephes' polynomial, relative error about 2e-7.
inline float exp_nonpositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  // Round to nearest by adding 1.5 * 2^23: std::floor does not vectorize without fast-math.
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
}
inline double exp_nonpositive(double x) { return std::exp(x); }

template <typename A>
constexpr bool kIsFloatAcc = std::is_floating_point_v<A>;

// Turns an integer accumulator into the value of a float-valued final step.
template <typename A, typename F>
inline A through_double(A a, F f) {
  return static_cast<A>(f(static_cast<double>(a)));
}

template <typename A>
struct SumOp {
  static constexpr bool kShifted = false;
  static A init() { return A(0); }
  static A pre(A x, A) { return x; }
  static A combine(A a, A b) { return a + b; }
  static A post(A a, int64_t, A) { return a; }
};

template <typename A>
struct MeanOp : SumOp<A> {
  static A post(A a, int64_t n, A) {
    if constexpr (kIsFloatAcc<A>) {
      return a / static_cast<A>(n);
    } else {
      return n == 0 ? A(0) : static_cast<A>(a / static_cast<A>(n));
    }
  }
};

template <typename A>
struct SumSquareOp : SumOp<A> {
  static A pre(A x, A) { return x * x; }
};

template <typename A>
struct L1Op : SumOp<A> {
  static A pre(A x, A) {
    if constexpr (std::is_signed_v<A>) {
      return x < A(0) ? A(-x) : x;
    } else {
      return x;
    }
  }
};

template <typename A>
struct L2Op : SumSquareOp<A> {
  static A post(A a, int64_t, A) { return through_double(a, [](double v) { return std::sqrt(v); }); }
};

template <typename A>
struct LogSumOp : SumOp<A> {
  static A post(A a, int64_t, A) { return through_double(a, [](double v) { return std::log(v); }); }
};

template <typename A>
struct ProdOp {
  static constexpr bool kShifted = false;
  static A init() { return A(1); }
  static A pre(A x, A) { return x; }
  static A combine(A a, A b) { return a * b; }
  static A post(A a, int64_t, A) { return a; }
};

// Max and Min propagate NaN like NumPy (x != x is false for integers and folds away).
template <typename A>
struct MaxOp {
  static constexpr bool kShifted = false;
  static A init() {
    if constexpr (kIsFloatAcc<A>) return -std::numeric_limits<A>::infinity();
    return std::numeric_limits<A>::lowest();
  }
  static A pre(A x, A) { return x; }
  static A combine(A a, A b) { return (b > a || b != b) ? b : a; }
  static A post(A a, int64_t, A) { return a; }
};

template <typename A>
struct MinOp : MaxOp<A> {
  static A init() {
    if constexpr (kIsFloatAcc<A>) return std::numeric_limits<A>::infinity();
    return std::numeric_limits<A>::max();
  }
  static A combine(A a, A b) { return (b < a || b != b) ? b : a; }
};

// log(sum(exp(x - m))) + m with m the max of the same elements (computed in a first pass), so
// large magnitudes neither overflow nor lose everything to rounding.
template <typename A>
struct LogSumExpOp : SumOp<A> {
  static constexpr bool kShifted = true;
  static A pre(A x, A m) { return exp_nonpositive(x - m); }
  static A post(A a, int64_t, A m) {
    if (!std::isfinite(m)) return m;  // empty set or all -inf: -inf; any +inf or NaN: itself
    return std::log(a) + m;
  }
};

// The element types the spec allows (opset 18/20), no more: each type instantiates every loop
// of every op, and this file is the library's slowest to compile.
using ReduceTypes = TypeList<float, double, Float16, BFloat16, int32_t, int64_t, uint32_t, uint64_t>;
using ReduceMaxMinTypes = TypeList<float, double, Float16, BFloat16, int8_t, int32_t, int64_t,
                                   uint8_t, uint32_t, uint64_t, bool>;
// What the loops run on: 16-bit floats and 32-bit integers are widened first (see
// `widened_type`), since they accumulate in float and 64 bits anyway.
using ReduceRunTypes = TypeList<float, double, int64_t, uint64_t>;
using ReduceMaxMinRunTypes = TypeList<float, double, int8_t, int32_t, int64_t, uint8_t, uint32_t,
                                      uint64_t, bool>;

// The type a reduction of `type` runs its loops on: float for float16/bfloat16, 64 bits for
// 32-bit integers (the types their accumulators have already, so results are unchanged).
// Max/Min keep integers: their identity on an empty set is the type's own lowest/highest.
DataType widened_type(DataType type, bool widen_integers) {
  if (!widen_integers && (type == DataType::kInt32 || type == DataType::kUInt32)) return type;
  switch (type) {
    case DataType::kFloat16:
    case DataType::kBFloat16: return DataType::kFloat;
    case DataType::kInt32: return DataType::kInt64;
    case DataType::kUInt32: return DataType::kUInt64;
    default: return type;
  }
}

template <typename In, typename Out>
void convert_elements(const Tensor& from, Tensor& to) {
  const In* in = from.data<In>();
  Out* out = to.mutable_data<Out>();
  const int64_t n = from.element_count();
  if constexpr (std::is_same_v<In, Float16> && std::is_same_v<Out, float>) {
    half_to_float(in, out, n);
  } else if constexpr (std::is_same_v<In, float> && std::is_same_v<Out, Float16>) {
    float_to_half(in, out, n);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = convert_to<Out>(load(in[i]));
  }
}

// `from` converted element by element between a type and its widened type (both ways).
void convert_widened(const Tensor& from, Tensor& to) {
  const DataType a = from.dtype(), b = to.dtype();
  if (a == DataType::kFloat16 && b == DataType::kFloat) return convert_elements<Float16, float>(from, to);
  if (a == DataType::kBFloat16 && b == DataType::kFloat) return convert_elements<BFloat16, float>(from, to);
  if (a == DataType::kInt32 && b == DataType::kInt64) return convert_elements<int32_t, int64_t>(from, to);
  if (a == DataType::kUInt32 && b == DataType::kUInt64) return convert_elements<uint32_t, uint64_t>(from, to);
  if (a == DataType::kFloat && b == DataType::kFloat16) return convert_elements<float, Float16>(from, to);
  if (a == DataType::kFloat && b == DataType::kBFloat16) return convert_elements<float, BFloat16>(from, to);
  if (a == DataType::kInt64 && b == DataType::kInt32) return convert_elements<int64_t, int32_t>(from, to);
  if (a == DataType::kUInt64 && b == DataType::kUInt32) return convert_elements<uint64_t, uint32_t>(from, to);
  throw_error(ErrorCode::kRuntimeFailure, "reduction: no conversion from ", dtype_name(a), " to ", dtype_name(b));
}

// How an op accumulates integers: sums and products widen to 64 bits; ops whose final step is a
// float function (sqrt, log, exp) use double; comparisons keep the type, so the identity of an
// empty Max/Min is the lowest/highest value of the element type itself.
enum class Accumulate { kWiden, kDouble, kSame };

template <typename T, Accumulate kHow>
using AccFor = std::conditional_t<
    kHow == Accumulate::kSame, ComputeType<T>,
    std::conditional_t<kHow == Accumulate::kDouble &&
                           !std::is_floating_point_v<typename WideOf<T>::type> &&
                           !std::is_same_v<T, bool>,
                       double, typename WideOf<T>::type>>;

template <template <typename> class Op, Accumulate kHow, typename Types, typename RunTypes>
class ReduceKernel : public Kernel {
 public:
  explicit ReduceKernel(const KernelInfo& info) : op_type_(info.node().op_type) {
    const NodeAttributes& attrs = info.attributes();
    keepdims_ = attrs.get_int("keepdims", 1) != 0;
    noop_with_empty_axes_ = attrs.get_int("noop_with_empty_axes", 0) != 0;
    axes_from_input_ = reduce_axes_from_input(op_type_, info.opset());
    if (!axes_from_input_) axes_ = attrs.get_ints("axes");
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    std::vector<int64_t> axes = axes_;
    if (axes_from_input_ && ctx.has_input(1)) {
      const Tensor& axes_tensor = ctx.input(1);
      ONYX_CHECK(axes_tensor.dtype() == DataType::kInt64 || axes_tensor.dtype() == DataType::kInt32,
                 ErrorCode::kInvalidArgument, op_type_, ": axes must be int64, got ",
                 dtype_name(axes_tensor.dtype()));
      axes = axes_tensor.to_int64_vector();
    }
    const int64_t rank = static_cast<int64_t>(x.rank());
    axes = resolve_reduce_axes(axes, noop_with_empty_axes_, rank, op_type_);
    Tensor& y = ctx.output(0, x.dtype(), reduced_shape(x.shape(), axes, keepdims_));
    dispatch_dtype_or_throw<Types>(x.dtype(), op_type_, [&]<typename T>() {});  // the spec's types only
    const DataType wide = widened_type(x.dtype(), kHow != Accumulate::kSame);
    if (wide == x.dtype()) {
      dispatch_dtype_or_throw<RunTypes>(x.dtype(), op_type_, [&]<typename T>() {
        run<T>(x, y, axes, ctx.threads());
      });
      return;
    }
    Tensor wide_x(wide, x.shape());
    convert_widened(x, wide_x);
    Tensor wide_y(wide, y.shape());
    dispatch_dtype_or_throw<RunTypes>(wide, op_type_, [&]<typename T>() {
      run<T>(wide_x, wide_y, axes, ctx.threads());
    });
    convert_widened(wide_y, y);
  }

 private:
  template <typename T>
  void run(const Tensor& x, Tensor& y, const std::vector<int64_t>& axes, int threads) {
    using A = AccFor<T, kHow>;
    using O = Op<A>;
    T* out = y.mutable_data<T>();
    if (y.element_count() == 0) return;
    if (x.element_count() == 0) {  // every output reduces an empty set
      const T value = convert_to<T>(O::post(O::init(), 0, MaxOp<A>::init()));
      std::fill(out, out + y.element_count(), value);
      return;
    }
    ReducePlan plan(x.shape(), axes);
    const T* in = x.data<T>();
    if constexpr (O::kShifted) {
      std::unique_ptr<A[]> max(new A[y.element_count()]);
      run_reduce<MaxOp<A>, T, A, A>(plan, in, max.get(), nullptr, threads);
      run_reduce<O, T, A, T>(plan, in, out, max.get(), threads);
    } else {
      run_reduce<O, T, A, T>(plan, in, out, nullptr, threads);
    }
  }

  std::string op_type_;
  bool keepdims_ = true;
  bool noop_with_empty_axes_ = false;
  bool axes_from_input_ = false;
  std::vector<int64_t> axes_;
};

using ReduceSumKernel = ReduceKernel<SumOp, Accumulate::kWiden, ReduceTypes, ReduceRunTypes>;
using ReduceMeanKernel = ReduceKernel<MeanOp, Accumulate::kWiden, ReduceTypes, ReduceRunTypes>;
using ReduceMaxKernel = ReduceKernel<MaxOp, Accumulate::kSame, ReduceMaxMinTypes, ReduceMaxMinRunTypes>;
using ReduceMinKernel = ReduceKernel<MinOp, Accumulate::kSame, ReduceMaxMinTypes, ReduceMaxMinRunTypes>;
using ReduceProdKernel = ReduceKernel<ProdOp, Accumulate::kWiden, ReduceTypes, ReduceRunTypes>;
using ReduceL1Kernel = ReduceKernel<L1Op, Accumulate::kWiden, ReduceTypes, ReduceRunTypes>;
using ReduceL2Kernel = ReduceKernel<L2Op, Accumulate::kDouble, ReduceTypes, ReduceRunTypes>;
using ReduceLogSumKernel = ReduceKernel<LogSumOp, Accumulate::kDouble, ReduceTypes, ReduceRunTypes>;
using ReduceLogSumExpKernel = ReduceKernel<LogSumExpOp, Accumulate::kDouble, ReduceTypes, ReduceRunTypes>;
using ReduceSumSquareKernel = ReduceKernel<SumSquareOp, Accumulate::kWiden, ReduceTypes, ReduceRunTypes>;

// One kernel per op serves every opset: the axes move from attribute to input at 13
// (ReduceSum) or 18 (the others), which the kernel reads from info.opset().
ONYX_REGISTER_KERNEL("CPU", "", "ReduceSum", 1, kOpsetOpenEnded, ReduceSumKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ReduceMean", 1, kOpsetOpenEnded, ReduceMeanKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ReduceMax", 1, kOpsetOpenEnded, ReduceMaxKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ReduceMin", 1, kOpsetOpenEnded, ReduceMinKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ReduceProd", 1, kOpsetOpenEnded, ReduceProdKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ReduceL1", 1, kOpsetOpenEnded, ReduceL1Kernel);
ONYX_REGISTER_KERNEL("CPU", "", "ReduceL2", 1, kOpsetOpenEnded, ReduceL2Kernel);
ONYX_REGISTER_KERNEL("CPU", "", "ReduceLogSum", 1, kOpsetOpenEnded, ReduceLogSumKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ReduceLogSumExp", 1, kOpsetOpenEnded, ReduceLogSumExpKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ReduceSumSquare", 1, kOpsetOpenEnded, ReduceSumSquareKernel);

}  // namespace
}  // namespace onyx
