// CPU kernel of LpNormalization (opsets 1 and 22): x / ||x||_p along `axis`, p = 1 or 2, with a
// zero norm giving 0 (the ONNX reference's choice) rather than NaN. The input is viewed as
// [outer, n, inner]; norms accumulate whole rows into a tile, then one multiply per element.
#include <algorithm>
#include <cmath>

#include "onnx_ops/reduction.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

constexpr int64_t kNormTile = 512;

template <typename T>
void lp_normalize(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool l1,
                  int threads) {
  using A = ComputeType<T>;
  const int64_t tiles = (inner + kNormTile - 1) / kNormTile;
  const int64_t grain =
      std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(n * std::min(inner, kNormTile), 1));
  parallel_for(outer * tiles, grain, threads, [&](int64_t i0, int64_t i1) {
    A norm[kNormTile];
    for (int64_t item = i0; item < i1; ++item) {
      const int64_t o = item / tiles;
      const int64_t c0 = (item % tiles) * kNormTile;
      const int64_t m = std::min(kNormTile, inner - c0);
      const int64_t base = o * n * inner + c0;
      std::fill(norm, norm + m, A(0));
      for (int64_t k = 0; k < n; ++k) {
        const T* row = x + base + k * inner;
        if (l1) {
          for (int64_t j = 0; j < m; ++j) norm[j] += std::abs(static_cast<A>(load(row[j])));
        } else {
          for (int64_t j = 0; j < m; ++j) {
            const A v = load(row[j]);
            norm[j] += v * v;
          }
        }
      }
      for (int64_t j = 0; j < m; ++j) {
        const A len = l1 ? norm[j] : std::sqrt(norm[j]);
        norm[j] = len == A(0) ? A(0) : A(1) / len;  // becomes the scale
      }
      for (int64_t k = 0; k < n; ++k) {
        const T* row = x + base + k * inner;
        T* out = y + base + k * inner;
        for (int64_t j = 0; j < m; ++j) out[j] = convert_to<T>(static_cast<A>(load(row[j])) * norm[j]);
      }
    }
  });
}

class LpNormalizationKernel : public Kernel {
 public:
  explicit LpNormalizationKernel(const KernelInfo& info) {
    axis_ = info.attributes().get_int("axis", -1);
    p_ = info.attributes().get_int("p", 2);
    ONYX_CHECK(p_ == 1 || p_ == 2, ErrorCode::kInvalidModel, "LpNormalization: p must be 1 or 2, got ",
               p_);
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t axis = normalize_axis(axis_, rank, "LpNormalization");
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    if (x.element_count() == 0) return;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
    for (int64_t d = axis + 1; d < rank; ++d) inner *= x.dim(d);
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), "LpNormalization", [&]<typename T>() {
      lp_normalize(x.data<T>(), y.mutable_data<T>(), outer, x.dim(axis), inner, p_ == 1,
                   ctx.threads());
    });
  }

 private:
  int64_t axis_ = -1;
  int64_t p_ = 2;
};

ONYX_REGISTER_KERNEL("CPU", "", "LpNormalization", 1, kOpsetOpenEnded, LpNormalizationKernel);

}  // namespace
}  // namespace onyx
