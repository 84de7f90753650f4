// Building blocks of the CPU elementwise kernels (math, comparisons, activations, Where, Clip):
// dtype dispatch by type list, contiguous unary maps and broadcasting binary loops with fast
// paths for equal shapes and scalars. Ops are small functor structs inlined into plain loops
// over contiguous memory so the compiler vectorizes them; 16-bit floats compute in float.
#pragma once

#include <string_view>
#include <type_traits>

#include "onnx_ops/broadcast.h"
#include "providers/kernel.h"
#include "runtime/common/parallel.h"

namespace onyx {

// Grain of parallel elementwise loops: below this many elements a parallel region costs more
// than it saves.
constexpr int64_t kElementwiseGrain = 16384;

template <typename... Ts>
struct TypeList {};

using FloatTypes = TypeList<float, double, Float16, BFloat16>;
using SignedIntTypes = TypeList<int8_t, int16_t, int32_t, int64_t>;
using UnsignedIntTypes = TypeList<uint8_t, uint16_t, uint32_t, uint64_t>;
using IntTypes = TypeList<int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t>;
using NumericTypes = TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t,
                              uint8_t, uint16_t, uint32_t, uint64_t>;

// Calls fn.template operator()<T>() for the T of `dtype` in the list; false if none matches.
template <typename... Ts, typename Fn>
bool dispatch_dtype(TypeList<Ts...>, DataType dtype, Fn&& fn) {
  return ((dtype == dtype_of<Ts>() ? (fn.template operator()<Ts>(), true) : false) || ...);
}

template <typename List, typename Fn>
void dispatch_dtype_or_throw(DataType dtype, std::string_view op, Fn&& fn) {
  if (!dispatch_dtype(List{}, dtype, fn)) {
    throw_error(ErrorCode::kNotImplemented, op, ": element type ", dtype_name(dtype),
                " is not supported on CPU");
  }
}

template <typename T>
constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

// The type arithmetic on T happens in.
template <typename T>
using ComputeType = std::conditional_t<kIsHalf<T>, float, T>;

template <typename Out, typename In>
inline Out convert_to(In value) {
  if constexpr (kIsHalf<Out>) {
    return Out(static_cast<float>(value));
  } else {
    return static_cast<Out>(value);
  }
}

// Bulk float16 <-> float conversion (F16C instructions where the CPU has them; same rounding
// as Float16's constructor).
void half_to_float(const Float16* in, float* out, int64_t n);
void float_to_half(const float* in, Float16* out, int64_t n);

// An element as the op sees it: 16-bit floats widened to float, everything else by reference
// (strings are not copied).
template <typename T>
inline decltype(auto) load(const T& value) {
  if constexpr (kIsHalf<T>) {
    return static_cast<float>(value);
  } else {
    return (value);
  }
}

// Any arithmetic element as double (16-bit floats through float).
template <typename T>
inline double to_double(const T& value) {
  return static_cast<double>(load(value));
}

// out[i] = op(in[i]) over n contiguous elements, in parallel chunks.
template <typename In, typename Out, typename Op>
void unary_map(const In* in, Out* out, int64_t n, int threads, const Op& op) {
  parallel_for(n, kElementwiseGrain, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      out[i] = convert_to<Out>(op(load(in[i])));
    }
  });
}

// One contiguous run of a broadcast binary op; strides are 0 (repeat) or 1.
template <typename A, typename B, typename Out, typename Op>
inline void binary_run(const A* a, int64_t sa, const B* b, int64_t sb, Out* out, int64_t n,
                       const Op& op) {
  if constexpr (std::is_same_v<A, Float16> && std::is_same_v<B, Float16> &&
                std::is_same_v<Out, Float16>) {
    // Widen blocks in bulk so the op itself runs as a vector float loop.
    constexpr int64_t kBlock = 512;
    alignas(64) float fa[kBlock], fb[kBlock], fo[kBlock];
    for (int64_t start = 0; start < n; start += kBlock) {
      const int64_t len = std::min(kBlock, n - start);
      if (sa) half_to_float(a + start, fa, len);
      if (sb) half_to_float(b + start, fb, len);
      const float* pa = fa;
      const float* pb = fb;
      const float a0 = static_cast<float>(a[0]), b0 = static_cast<float>(b[0]);
      if (!sa) pa = &a0;
      if (!sb) pb = &b0;
      binary_run(pa, sa, pb, sb, fo, len, op);
      float_to_half(fo, out + start, len);
    }
    return;
  }
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) out[i] = convert_to<Out>(op(load(a[i]), load(b[i])));
  } else if (sb) {
    decltype(auto) x = load(a[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = convert_to<Out>(op(x, load(b[i])));
  } else if (sa) {
    decltype(auto) y = load(b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = convert_to<Out>(op(load(a[i]), y));
  } else {
    const Out v = convert_to<Out>(op(load(a[0]), load(b[0])));
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

// out = op(a, b) with NumPy broadcasting; `out` is already allocated with a shape both inputs
// broadcast to. `out` may alias `a` or `b` when that input has the output's shape.
template <typename A, typename B, typename Out, typename Op>
void binary_broadcast(const Tensor& ta, const Tensor& tb, Tensor& tout, int threads,
                      const Op& op) {
  const A* a = ta.data<A>();
  const B* b = tb.data<B>();
  Out* out = tout.mutable_data<Out>();
  const int64_t n = tout.element_count();
  const int64_t na = ta.element_count();
  const int64_t nb = tb.element_count();
  if ((na == n || na == 1) && (nb == n || nb == 1)) {
    const int64_t sa = na == n ? 1 : 0;
    const int64_t sb = nb == n ? 1 : 0;
    parallel_for(n, kElementwiseGrain, threads, [&](int64_t begin, int64_t end) {
      binary_run(a + begin * sa, sa, b + begin * sb, sb, out + begin, end - begin, op);
    });
    return;
  }
  const Shape shapes[2] = {ta.shape(), tb.shape()};
  BroadcastPlan plan(std::span<const Shape>(shapes, 2), tout.shape());
  const int64_t run = plan.run_length();
  const int64_t sa = plan.inner_stride(0);
  const int64_t sb = plan.inner_stride(1);
  parallel_for(plan.run_count(), std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(run, 1)),
               threads, [&](int64_t begin, int64_t end) {
                 plan.for_each_run(begin, end, [&](int64_t o, const int64_t* in) {
                   binary_run(a + in[0], sa, b + in[1], sb, out + o, run, op);
                 });
               });
}

// The opset<7 form of binary ops (attributes `broadcast` and `axis`): B's dims line up with
// A's starting at `axis` (default: trailing). Padding B's shape with 1s on the right turns it
// into a NumPy broadcast, so kernels reshape B once and share the modern path.
class LegacyBroadcast {
 public:
  explicit LegacyBroadcast(const KernelInfo& info);
  // B, reshaped when the node uses the legacy form; checks shapes the legacy rules forbid.
  Tensor adapt(const Tensor& a, const Tensor& b, std::string_view op) const;

 private:
  bool active_ = false;
  bool broadcast_ = false;
  int64_t axis_ = 0;
  bool has_axis_ = false;
};

}  // namespace onyx
