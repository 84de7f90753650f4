// CPU kernel of AffineGrid (opset 20): grid[n, ..., :] = theta[n] @ [x, y, (z,) 1] over the
// normalised base grid of `size` (the sampling grid GridSample consumes).
#include <vector>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// Normalised coordinates of a dim of length n: pixel centres, or corners with align_corners.
std::vector<double> base_coordinates(int64_t n, bool align_corners) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double di = static_cast<double>(i), dn = static_cast<double>(n);
    v[i] = align_corners ? (n == 1 ? -1.0 : -1.0 + 2.0 * di / (dn - 1))
                         : -1.0 + (2.0 * di + 1.0) / dn;
  }
  return v;
}

class AffineGridKernel final : public Kernel {
 public:
  explicit AffineGridKernel(const KernelInfo& info)
      : align_corners_(info.attributes().get_int("align_corners", 0) != 0) {}

  void compute(KernelContext& ctx) override {
    const Tensor& theta = ctx.input(0);
    std::vector<int64_t> size = ctx.input(1).to_int64_vector();
    ONYX_CHECK(size.size() == 4 || size.size() == 5, ErrorCode::kInvalidArgument,
               "AffineGrid: size must have 4 or 5 values (N, C, [D,] H, W), got ", size.size());
    const int64_t nd = static_cast<int64_t>(size.size()) - 2;
    ONYX_CHECK(theta.rank() == 3 && theta.dim(0) == size[0] && theta.dim(1) == nd &&
                   theta.dim(2) == nd + 1,
               ErrorCode::kInvalidArgument, "AffineGrid: theta ", shape_to_string(theta.shape()),
               " must be [N, ", nd, ", ", nd + 1, "] for size ", shape_to_string(size));
    for (int64_t s : size) {
      ONYX_CHECK(s >= 0, ErrorCode::kInvalidArgument, "AffineGrid: negative size ",
                 shape_to_string(size));
    }
    Shape out_shape{size[0]};
    for (int64_t d = 0; d < nd; ++d) out_shape.push_back(size[2 + d]);
    out_shape.push_back(nd);
    Tensor& y = ctx.output(0, theta.dtype(), out_shape);
    if (y.element_count() == 0) return;
    // coords[k] lists dim k's coordinates with k = 0 the innermost (x).
    std::vector<std::vector<double>> coords(nd);
    for (int64_t k = 0; k < nd; ++k) coords[k] = base_coordinates(size[1 + nd - k], align_corners_);
    int64_t points = 1;
    for (int64_t d = 0; d < nd; ++d) points *= size[2 + d];
    dispatch_dtype_or_throw<TypeList<float, double, Float16, BFloat16>>(
        theta.dtype(), "AffineGrid", [&]<typename T>() {
          const T* th = theta.data<T>();
          T* out = y.mutable_data<T>();
          for (int64_t n = 0; n < size[0]; ++n) {
            std::vector<double> m(static_cast<size_t>(nd * (nd + 1)));
            for (size_t i = 0; i < m.size(); ++i) {
              m[i] = static_cast<double>(load(th[n * nd * (nd + 1) + static_cast<int64_t>(i)]));
            }
            for (int64_t p = 0; p < points; ++p) {
              double h[4] = {0, 0, 0, 1};
              int64_t rest = p;
              for (int64_t k = 0; k < nd; ++k) {
                const int64_t len = size[1 + nd - k];
                h[k] = coords[k][rest % len];
                rest /= len;
              }
              h[nd] = 1;
              T* o = out + (n * points + p) * nd;
              for (int64_t r = 0; r < nd; ++r) {
                double acc = 0;
                for (int64_t c = 0; c <= nd; ++c) acc += m[r * (nd + 1) + c] * h[c];
                o[r] = convert_to<T>(acc);
              }
            }
          }
        });
  }

 private:
  bool align_corners_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "AffineGrid", 20, kOpsetOpenEnded, AffineGridKernel);

}  // namespace onyx
