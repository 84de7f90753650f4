// CPU kernel of GridSample (opset 16: 2-D, modes bilinear/nearest/bicubic; 20+: N-d, modes
// linear/nearest/cubic). Per output point the taps of every spatial dim are combined once into
// (offset, weight) pairs, then reused for all channels. Coordinate handling (denormalisation,
// border clamping, reflection, std::round-like nearest) follows the ONNX reference.
#include <array>
#include <type_traits>
#include <cmath>
#include <vector>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

enum class GridMode { kLinear, kNearest, kCubic };
enum class GridPadding { kZeros, kBorder, kReflection };

double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    double dx = lo - x;
    int64_t n = static_cast<int64_t>(dx / range);
    double r = dx - static_cast<double>(n) * range;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    double dx = x - hi;
    int64_t n = static_cast<int64_t>(dx / range);
    double r = dx - static_cast<double>(n) * range;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

void cubic_coeffs(double t, double* c) {
  constexpr double a = -0.75;
  t = std::abs(t);
  c[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  c[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  c[2] = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
  c[3] = ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a;
}

class GridSampleKernel final : public Kernel {
 public:
  explicit GridSampleKernel(const KernelInfo& info) : opset_(info.opset()) {
    const auto& a = info.attributes();
    std::string mode = a.get_string("mode", opset_ >= 20 ? "linear" : "bilinear");
    const bool new_names = opset_ >= 20;
    if (mode == (new_names ? "linear" : "bilinear")) {
      mode_ = GridMode::kLinear;
    } else if (mode == "nearest") {
      mode_ = GridMode::kNearest;
    } else {  // the attribute check allowed only these three
      mode_ = GridMode::kCubic;
    }
    std::string pad = a.get_string("padding_mode", "zeros");
    if (pad == "zeros") {
      padding_ = GridPadding::kZeros;
    } else if (pad == "border") {
      padding_ = GridPadding::kBorder;
    } else {
      padding_ = GridPadding::kReflection;
    }
    align_corners_ = a.get_int("align_corners", 0) != 0;
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& grid = ctx.input(1);
    const size_t rank = x.rank();
    ONYX_CHECK(rank >= 3, ErrorCode::kInvalidArgument, "GridSample: X must be [N, C, D1, ...], got ",
               shape_to_string(x.shape()));
    const size_t spatial = rank - 2;
    ONYX_CHECK(opset_ >= 20 || spatial == 2, ErrorCode::kInvalidArgument, "GridSample-", opset_,
               ": only 4-D input is supported before opset 20, got ", shape_to_string(x.shape()));
    ONYX_CHECK(grid.rank() == rank && grid.dim(0) == x.dim(0) &&
                   grid.dim(rank - 1) == static_cast<int64_t>(spatial),
               ErrorCode::kInvalidArgument, "GridSample: grid ", shape_to_string(grid.shape()),
               " does not match X ", shape_to_string(x.shape()), " (expected [N, ..., ", spatial,
               "])");
    Shape out_shape{x.dim(0), x.dim(1)};
    for (size_t i = 1; i + 1 < rank; ++i) out_shape.push_back(grid.dim(i));
    Tensor& y = ctx.output(0, x.dtype(), out_shape);
    if (y.element_count() == 0) return;
    for (size_t d = 2; d < rank; ++d) {
      ONYX_CHECK(x.dim(d) > 0, ErrorCode::kInvalidArgument, "GridSample: cannot sample from ",
                 "empty input ", shape_to_string(x.shape()));
    }
    dispatch_dtype_or_throw<TypeList<float, double, Float16, BFloat16>>(
        grid.dtype(), "GridSample (grid)", [&]<typename G>() {
          dispatch_dtype_or_throw<TypeList<float, double, Float16, BFloat16>>(
              x.dtype(), "GridSample", [&]<typename T>() {
                run<T, G>(x, grid, y, ctx.threads());
              });
        });
  }

 private:
  // Taps of one dim for one coordinate: index -1 reads zero.
  struct DimTaps {
    int count = 0;
    std::array<int64_t, 4> index{};
    std::array<double, 4> weight{};
  };

  int64_t tap_index(int64_t i, int64_t len, double lo, double hi) const {
    switch (padding_) {
      case GridPadding::kZeros: return (i >= 0 && i < len) ? i : -1;
      case GridPadding::kBorder: return std::clamp<int64_t>(i, 0, len - 1);
      case GridPadding::kReflection:
        return std::clamp<int64_t>(
            static_cast<int64_t>(reflect(static_cast<double>(i), lo, hi)), 0, len - 1);
    }
    return -1;
  }

  DimTaps dim_taps(double g, int64_t len) const {
    const double dl = static_cast<double>(len);
    double v = align_corners_ ? (g + 1) / 2 * (dl - 1) : ((g + 1) * dl - 1) / 2;
    const double lo = align_corners_ ? 0.0 : -0.5;
    const double hi = align_corners_ ? dl - 1 : dl - 0.5;
    if (mode_ == GridMode::kNearest) v = std::nearbyint(v);
    if (v < lo || v > hi) {
      if (padding_ == GridPadding::kBorder) v = std::clamp(v, 0.0, dl - 1);
      if (padding_ == GridPadding::kReflection) v = reflect(v, lo, hi);
    }
    DimTaps t;
    if (mode_ == GridMode::kNearest) {
      t.count = 1;
      t.index[0] = tap_index(static_cast<int64_t>(v), len, lo, hi);
      t.weight[0] = 1;
      return t;
    }
    const double f = std::floor(v);
    const int64_t i0 = static_cast<int64_t>(f);
    if (mode_ == GridMode::kLinear) {
      t.count = 2;
      t.weight[0] = 1 - (v - f);
      t.weight[1] = v - f;
      t.index[0] = tap_index(i0, len, lo, hi);
      t.index[1] = tap_index(i0 + 1, len, lo, hi);
    } else {
      t.count = 4;
      cubic_coeffs(v - f, t.weight.data());
      for (int k = 0; k < 4; ++k) t.index[k] = tap_index(i0 - 1 + k, len, lo, hi);
    }
    return t;
  }

  template <typename T, typename G>
  void run(const Tensor& x, const Tensor& grid, Tensor& y, int threads) const {
    const size_t spatial = x.rank() - 2;
    const int64_t batch = x.dim(0), channels = x.dim(1);
    int64_t in_plane = 1, out_plane = 1;
    for (size_t i = 0; i < spatial; ++i) in_plane *= x.dim(i + 2), out_plane *= grid.dim(i + 1);
    std::vector<int64_t> in_strides(spatial, 1);
    for (size_t i = spatial; i-- > 1;) in_strides[i - 1] = in_strides[i] * x.dim(i + 2);
    const T* xd = x.data<T>();
    const G* gd = grid.data<G>();
    T* yd = y.mutable_data<T>();
    // Every point has the same number of tap combinations (taps^spatial); a tap outside the
    // image under zeros padding gets weight 0 and offset 0, so the channel loop has no branches.
    const int per_dim = mode_ == GridMode::kNearest ? 1 : mode_ == GridMode::kLinear ? 2 : 4;
    int64_t combos = 1;
    for (size_t d = 0; d < spatial; ++d) combos *= per_dim;
    using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
    // Points are processed in blocks: taps for the block first, then channel by channel, so
    // one input plane is read at a time and output rows are written contiguously.
    constexpr int64_t kBlock = 256;
    const int64_t grain = std::max<int64_t>(kBlock, 4096 / std::max<int64_t>(channels, 1));
    parallel_for(batch * out_plane, grain, threads, [&](int64_t p0, int64_t p1) {
      std::vector<DimTaps> taps(spatial);
      std::vector<int64_t> offsets(static_cast<size_t>(kBlock * combos));
      std::vector<Acc> weights(static_cast<size_t>(kBlock * combos));
      std::vector<int64_t> off_a(static_cast<size_t>(combos)), off_b(static_cast<size_t>(combos));
      std::vector<double> w_a(static_cast<size_t>(combos)), w_b(static_cast<size_t>(combos));
      for (int64_t b0 = p0; b0 < p1;) {
        const int64_t n = b0 / out_plane;
        const int64_t b1 = std::min({p1, b0 + kBlock, (n + 1) * out_plane});
        for (int64_t p = b0; p < b1; ++p) {
          const G* g = gd + p * static_cast<int64_t>(spatial);
          // The grid's last axis lists coordinates innermost dim first (x, y, z).
          for (size_t d = 0; d < spatial; ++d) {
            taps[d] = dim_taps(static_cast<double>(load(g[spatial - 1 - d])), x.dim(d + 2));
          }
          int64_t count = 1;
          off_a[0] = 0;
          w_a[0] = 1.0;
          for (size_t d = 0; d < spatial; ++d) {
            int64_t next = 0;
            for (int64_t c = 0; c < count; ++c) {
              for (int k = 0; k < taps[d].count; ++k) {
                const bool inside = taps[d].index[k] >= 0;
                off_b[next] = off_a[c] + (inside ? taps[d].index[k] * in_strides[d] : 0);
                w_b[next] = inside ? w_a[c] * taps[d].weight[k] : 0.0;
                ++next;
              }
            }
            off_a.swap(off_b);
            w_a.swap(w_b);
            count = next;
          }
          const int64_t base = (p - b0) * combos;
          for (int64_t k = 0; k < combos; ++k) {
            offsets[base + k] = off_a[k];
            weights[base + k] = static_cast<Acc>(w_a[k]);
          }
        }
        const int64_t q0 = b0 - n * out_plane, len = b1 - b0;
        for (int64_t c = 0; c < channels; ++c) {
          const T* plane = xd + (n * channels + c) * in_plane;
          T* out = yd + (n * channels + c) * out_plane + q0;
          for (int64_t i = 0; i < len; ++i) {
            const int64_t* off = offsets.data() + i * combos;
            const Acc* w = weights.data() + i * combos;
            Acc acc = 0;
            for (int64_t k = 0; k < combos; ++k) acc += w[k] * static_cast<Acc>(load(plane[off[k]]));
            out[i] = convert_to<T>(acc);
          }
        }
        b0 = b1;
      }
    });
  }

  int64_t opset_;
  GridMode mode_ = GridMode::kLinear;
  GridPadding padding_ = GridPadding::kZeros;
  bool align_corners_ = false;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "GridSample", 16, kOpsetOpenEnded, GridSampleKernel);

}  // namespace onyx
