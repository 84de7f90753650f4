// CPU kernels of Det (11: LU with partial pivoting in double per matrix, matrices in
// parallel), MeanVarianceNormalization (9: (x - mean) / (sqrt(E[x^2] - mean^2) + 1e-9) over
// `axes`, as the ONNX function body computes it) and SwiGLU (28: a * sigmoid(alpha * a) * b).
#include <cmath>
#include <vector>

#include "onnx_ops/axes.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {


double lu_determinant(std::vector<double>& a, int64_t m) {
  double det = 1.0;
  for (int64_t c = 0; c < m; ++c) {
    int64_t pivot = c;
    for (int64_t r = c + 1; r < m; ++r) {
      if (std::fabs(a[r * m + c]) > std::fabs(a[pivot * m + c])) pivot = r;
    }
    if (a[pivot * m + c] == 0.0) return 0.0;
    if (pivot != c) {
      for (int64_t k = 0; k < m; ++k) std::swap(a[c * m + k], a[pivot * m + k]);
      det = -det;
    }
    const double p = a[c * m + c];
    det *= p;
    for (int64_t r = c + 1; r < m; ++r) {
      const double f = a[r * m + c] / p;
      if (f == 0.0) continue;
      for (int64_t k = c + 1; k < m; ++k) a[r * m + k] -= f * a[c * m + k];
    }
  }
  return det;
}

class DetKernel final : public Kernel {
 public:
  explicit DetKernel(const KernelInfo&) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    ONYX_CHECK(x.rank() >= 2 && x.dim(x.rank() - 1) == x.dim(x.rank() - 2),
               ErrorCode::kInvalidArgument, "Det: input must have shape [*, M, M], got ",
               shape_to_string(x.shape()));
    const int64_t m = x.dim(x.rank() - 1);
    Tensor& y = ctx.output(0, x.dtype(), Shape(x.shape().begin(), x.shape().end() - 2));
    const int64_t batch = y.element_count();
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), "Det", [&]<typename T>() {
      const T* in = x.data<T>();
      T* out = y.mutable_data<T>();
      const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(m * m * m, 1));
      parallel_for(batch, grain, ctx.threads(), [&](int64_t begin, int64_t end) {
        std::vector<double> a(static_cast<size_t>(m * m));
        for (int64_t b = begin; b < end; ++b) {
          for (int64_t i = 0; i < m * m; ++i) a[i] = to_double(in[b * m * m + i]);
          out[b] = convert_to<T>(lu_determinant(a, m));
        }
      });
    });
  }
};

class MeanVarianceNormalizationKernel final : public Kernel {
 public:
  explicit MeanVarianceNormalizationKernel(const KernelInfo& info)
      : axes_(info.attributes().get_ints("axes", {0, 2, 3})) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    std::vector<int64_t> axes = normalize_axis_list(axes_, rank, "MeanVarianceNormalization: axes");
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    for (int64_t a : axes) reduced[a] = true;
    // Group of each element: its index with the reduced dims dropped, in mixed radix.
    std::vector<int64_t> group_stride(static_cast<size_t>(rank), 0);
    int64_t groups = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (!reduced[d]) {
        group_stride[d] = groups;
        groups *= x.dim(d);
      }
    }
    const int64_t n = x.element_count();
    const int64_t per_group = groups > 0 ? n / groups : 0;
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    if (n == 0) return;
    std::vector<int64_t> group_of(static_cast<size_t>(n));
    {
      std::vector<int64_t> index(static_cast<size_t>(rank), 0);
      int64_t g = 0;
      for (int64_t i = 0; i < n; ++i) {
        group_of[i] = g;
        for (int64_t d = rank - 1; d >= 0; --d) {
          if (++index[d] < x.dim(d)) {
            g += group_stride[d];
            break;
          }
          g -= group_stride[d] * (x.dim(d) - 1);
          index[d] = 0;
        }
      }
    }
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), "MeanVarianceNormalization", [&]<typename T>() {
      const T* in = x.data<T>();
      T* out = y.mutable_data<T>();
      std::vector<double> sum(static_cast<size_t>(groups), 0.0), sum_sq(static_cast<size_t>(groups), 0.0);
      for (int64_t i = 0; i < n; ++i) {
        const double v = to_double(in[i]);
        sum[group_of[i]] += v;
        sum_sq[group_of[i]] += v * v;
      }
      for (int64_t g = 0; g < groups; ++g) {
        const double mean = sum[g] / static_cast<double>(per_group);
        const double var = std::max(0.0, sum_sq[g] / static_cast<double>(per_group) - mean * mean);
        sum[g] = mean;
        sum_sq[g] = 1.0 / (std::sqrt(var) + 1e-9);
      }
      parallel_for(n, kElementwiseGrain, ctx.threads(), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const int64_t g = group_of[i];
          out[i] = convert_to<T>((to_double(in[i]) - sum[g]) * sum_sq[g]);
        }
      });
    });
  }

 private:
  std::vector<int64_t> axes_;
};

class SwiGluKernel final : public Kernel {
 public:
  explicit SwiGluKernel(const KernelInfo& info) : alpha_(info.attributes().get_float("alpha", 1.0f)) {}

  void compute(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    ONYX_CHECK(a.shape() == b.shape(), ErrorCode::kInvalidArgument,
               "SwiGLU: A and B must have identical shapes (no broadcasting), got ",
               shape_to_string(a.shape()), " and ", shape_to_string(b.shape()));
    ONYX_CHECK(a.dtype() == b.dtype(), ErrorCode::kInvalidArgument, "SwiGLU: A is ",
               dtype_name(a.dtype()), " but B is ", dtype_name(b.dtype()));
    Tensor& y = ctx.output(0, a.dtype(), a.shape());
    dispatch_dtype_or_throw<FloatTypes>(a.dtype(), "SwiGLU", [&]<typename T>() {
      using C = ComputeType<T>;
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* out = y.mutable_data<T>();
      const C alpha = static_cast<C>(alpha_);
      parallel_for(a.element_count(), kElementwiseGrain, ctx.threads(), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const C va = static_cast<C>(load(pa[i]));
          const C gate = va / (C(1) + std::exp(-alpha * va));
          out[i] = convert_to<T>(gate * static_cast<C>(load(pb[i])));
        }
      });
    });
  }

 private:
  float alpha_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Det", 11, kOpsetOpenEnded, DetKernel);
ONYX_REGISTER_KERNEL("CPU", "", "MeanVarianceNormalization", 9, kOpsetOpenEnded,
                     MeanVarianceNormalizationKernel);
ONYX_REGISTER_KERNEL("CPU", "", "SwiGLU", 28, kOpsetOpenEnded, SwiGluKernel);

}  // namespace onyx
