// Clip (bounds as attributes before opset 11, optional scalar inputs after) and Where (a
// broadcast select of three inputs).
#include <bit>
#include <limits>
#include <string>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

class ClipKernel final : public Kernel {
 public:
  explicit ClipKernel(const KernelInfo& info)
      : legacy_(info.opset() < 11),
        min_attr_(info.attributes().get_float("min", -std::numeric_limits<float>::max())),
        max_attr_(info.attributes().get_float("max", std::numeric_limits<float>::max())),
        has_min_attr_(info.attributes().has("min")),
        has_max_attr_(info.attributes().has("max")) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    dispatch_dtype_or_throw<NumericTypes>(x.dtype(), "Clip", [&]<typename T>() {
      using C = ComputeType<T>;
      C lo = std::numeric_limits<C>::lowest();
      C hi = std::numeric_limits<C>::max();
      if (legacy_) {
        if (has_min_attr_) lo = static_cast<C>(min_attr_);
        if (has_max_attr_) hi = static_cast<C>(max_attr_);
      } else {
        if (ctx.has_input(1)) lo = bound<T>(ctx.input(1), x, "min");
        if (ctx.has_input(2)) hi = bound<T>(ctx.input(2), x, "max");
      }
      Tensor& out = ctx.output(0, x.dtype(), x.shape());
      // min(max(x, lo), hi): when lo > hi every element becomes hi, as in NumPy.
      unary_map(x.data<T>(), out.mutable_data<T>(), x.element_count(), ctx.threads(),
                [lo, hi](C v) {
                  C r = v < lo ? lo : v;
                  return r > hi ? hi : r;
                });
    });
  }

 private:
  template <typename T>
  static ComputeType<T> bound(const Tensor& t, const Tensor& x, const char* which) {
    ONYX_CHECK(t.element_count() == 1, ErrorCode::kInvalidArgument, "Clip: ", which,
               " must be a scalar, got shape ", shape_to_string(t.shape()));
    ONYX_CHECK(t.dtype() == x.dtype(), ErrorCode::kInvalidArgument, "Clip: ", which,
               " has type ", dtype_name(t.dtype()), " but input has ", dtype_name(x.dtype()));
    return static_cast<ComputeType<T>>(t.data<T>()[0]);
  }

  bool legacy_;
  float min_attr_;
  float max_attr_;
  bool has_min_attr_;
  bool has_max_attr_;
};

using AllTypes = TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t,
                          uint8_t, uint16_t, uint32_t, uint64_t, bool, std::string>;

class WhereKernel final : public Kernel {
 public:
  explicit WhereKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Tensor& cond = ctx.input(0);
    const Tensor& x = ctx.input(1);
    const Tensor& y = ctx.input(2);
    ONYX_CHECK(cond.dtype() == DataType::kBool, ErrorCode::kInvalidArgument,
               "Where: condition must be bool, got ", dtype_name(cond.dtype()));
    ONYX_CHECK(x.dtype() == y.dtype(), ErrorCode::kInvalidArgument, "Where: X has type ",
               dtype_name(x.dtype()), " but Y ", dtype_name(y.dtype()));
    const Shape shapes[3] = {cond.shape(), x.shape(), y.shape()};
    Shape shape = broadcast_shapes(std::span<const Shape>(shapes, 3), "Where");
    dispatch_dtype_or_throw<AllTypes>(x.dtype(), "Where", [&]<typename T>() {
      Tensor& out = ctx.output(0, x.dtype(), shape);
      const bool* c = cond.data<bool>();
      const T* a = x.data<T>();
      const T* b = y.data<T>();
      T* o = out.mutable_data<T>();
      // A full condition and branch with a one-element other branch (Relu's gradient masks
      // with 0): one flat loop; the broadcast plan would walk it in rows of the last dim.
      const int64_t count = out.element_count();
      const bool flat_cond = cond.element_count() == count;
      if (flat_cond && (x.element_count() == count || x.element_count() == 1) &&
          (y.element_count() == count || y.element_count() == 1) && count > 1) {
        const int64_t sa = x.element_count() == count ? 1 : 0, sb = y.element_count() == count ? 1 : 0;
        parallel_for(count, kElementwiseGrain, ctx.threads(), [&](int64_t begin, int64_t end) {
          if constexpr (std::is_arithmetic_v<T> && (sizeof(T) == 4 || sizeof(T) == 8)) {
            // Bit masks: a ?: here compiles to a branch that a random condition mispredicts.
            using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
            for (int64_t i = begin; i < end; ++i) {
              const Bits mask = static_cast<Bits>(0) - static_cast<Bits>(c[i] ? 1 : 0);
              o[i] = std::bit_cast<T>(static_cast<Bits>((std::bit_cast<Bits>(a[i * sa]) & mask) |
                                                        (std::bit_cast<Bits>(b[i * sb]) & ~mask)));
            }
          } else {
            for (int64_t i = begin; i < end; ++i) o[i] = c[i] ? a[i * sa] : b[i * sb];
          }
        });
        return;
      }
      BroadcastPlan plan(std::span<const Shape>(shapes, 3), shape);
      const int64_t run = plan.run_length();
      const int64_t sc = plan.inner_stride(0), sa = plan.inner_stride(1), sb = plan.inner_stride(2);
      parallel_for(plan.run_count(), std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(run, 1)),
                   ctx.threads(), [&](int64_t begin, int64_t end) {
                     plan.for_each_run(begin, end, [&](int64_t off, const int64_t* in) {
                       const bool* cr = c + in[0];
                       const T* ar = a + in[1];
                       const T* br = b + in[2];
                       T* orow = o + off;
                       if (sc && sa && sb) {
                         for (int64_t i = 0; i < run; ++i) orow[i] = cr[i] ? ar[i] : br[i];
                       } else {
                         for (int64_t i = 0; i < run; ++i) {
                           orow[i] = cr[i * sc] ? ar[i * sa] : br[i * sb];
                         }
                       }
                     });
                   });
    });
  }
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Clip", 1, kOpsetOpenEnded, ClipKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Where", 9, kOpsetOpenEnded, WhereKernel);

}  // namespace onyx
