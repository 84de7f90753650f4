// CPU kernels of ArgMax and ArgMin (opsets 1-13+: axis, keepdims, select_last_index). The input
// is viewed as [outer, n, inner]: with inner == 1 each output scans a contiguous row; otherwise
// whole rows of `inner` values update a tile of running best values and indices, a compare and
// select per element that vectorizes.
#include <algorithm>

#include "onnx_ops/reduction.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

constexpr int64_t kArgTile = 512;

// Ties keep the first index, or the last with select_last_index.
template <bool kMax, bool kLast, typename V>
inline bool better(V candidate, V best) {
  if constexpr (kMax) {
    return kLast ? candidate >= best : candidate > best;
  } else {
    return kLast ? candidate <= best : candidate < best;
  }
}

template <bool kMax, bool kLast, typename T>
void arg_reduce(const T* x, int64_t* y, int64_t outer, int64_t n, int64_t inner, int threads) {
  using V = ComputeType<T>;
  if (inner == 1) {
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / n);
    parallel_for(outer, grain, threads, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const T* row = x + o * n;
        V best = load(row[0]);
        int64_t index = 0;
        for (int64_t k = 1; k < n; ++k) {
          const V v = load(row[k]);
          if (better<kMax, kLast>(v, best)) {
            best = v;
            index = k;
          }
        }
        y[o] = index;
      }
    });
    return;
  }
  const int64_t tiles = (inner + kArgTile - 1) / kArgTile;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / (n * std::min(inner, kArgTile)));
  parallel_for(outer * tiles, grain, threads, [&](int64_t i0, int64_t i1) {
    V best[kArgTile];
    for (int64_t item = i0; item < i1; ++item) {
      const int64_t o = item / tiles;
      const int64_t c0 = (item % tiles) * kArgTile;
      const int64_t m = std::min(kArgTile, inner - c0);
      const T* base = x + o * n * inner + c0;
      int64_t* index = y + o * inner + c0;
      for (int64_t j = 0; j < m; ++j) {
        best[j] = load(base[j]);
        index[j] = 0;
      }
      for (int64_t k = 1; k < n; ++k) {
        const T* row = base + k * inner;
        for (int64_t j = 0; j < m; ++j) {
          const V v = load(row[j]);
          const bool take = better<kMax, kLast>(v, best[j]);
          best[j] = take ? v : best[j];
          index[j] = take ? k : index[j];
        }
      }
    }
  });
}

template <bool kMax>
class ArgReduceKernel : public Kernel {
 public:
  explicit ArgReduceKernel(const KernelInfo& info) : op_type_(info.node().op_type) {
    axis_ = info.attributes().get_int("axis", 0);
    keepdims_ = info.attributes().get_int("keepdims", 1) != 0;
    select_last_ = info.attributes().get_int("select_last_index", 0) != 0;
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t axis = normalize_axis(axis_, rank, op_type_);
    const int64_t axes[1] = {axis};
    Tensor& y = ctx.output(0, DataType::kInt64, reduced_shape(x.shape(), axes, keepdims_));
    const int64_t n = x.dim(axis);
    if (y.element_count() == 0) return;
    ONYX_CHECK(n > 0, ErrorCode::kInvalidArgument, op_type_, ": axis ", axis_,
               " of shape ", shape_to_string(x.shape()), " is empty");
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
    for (int64_t d = axis + 1; d < rank; ++d) inner *= x.dim(d);
    int64_t* out = y.mutable_data<int64_t>();
    dispatch_dtype_or_throw<NumericTypes>(x.dtype(), op_type_, [&]<typename T>() {
      if (select_last_) {
        arg_reduce<kMax, true>(x.data<T>(), out, outer, n, inner, ctx.threads());
      } else {
        arg_reduce<kMax, false>(x.data<T>(), out, outer, n, inner, ctx.threads());
      }
    });
  }

 private:
  std::string op_type_;
  int64_t axis_ = 0;
  bool keepdims_ = true;
  bool select_last_ = false;
};

ONYX_REGISTER_KERNEL("CPU", "", "ArgMax", 1, kOpsetOpenEnded, ArgReduceKernel<true>);
ONYX_REGISTER_KERNEL("CPU", "", "ArgMin", 1, kOpsetOpenEnded, ArgReduceKernel<false>);

}  // namespace
}  // namespace onyx
