// Softmax, LogSoftmax and Hardmax. Opset<13 coerces the input to 2-D at `axis` (default 1);
// opset 13+ works along one axis (default -1). Both are a [outer, length, inner] view: the
// old form is inner = 1. Stable: the max along the axis is subtracted before exp.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "providers/cpu/math/eigen_unary.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

enum class SoftmaxKind { kSoftmax, kLogSoftmax, kHardmax };

struct SoftmaxView {
  int64_t outer = 1, length = 1, inner = 1;
};

// One [length, inner] block; `max` and `sum` are scratch of `inner` elements.
template <typename T>
void softmax_block(const T* x, T* y, int64_t length, int64_t inner, SoftmaxKind kind, T* max,
                   T* sum) {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  const int64_t n = length * inner;
  if (inner == 1 && kind != SoftmaxKind::kHardmax) {
    // A contiguous row: whole-row vector reductions.
    Eigen::Map<const Array> row(x, length);
    Eigen::Map<Array> out(y, length);
    const T m = row.maxCoeff();
    out = (row - m).exp();
    const T total = out.sum();
    if (kind == SoftmaxKind::kSoftmax) {
      out *= T(1) / total;
    } else {
      out = (row - m) - std::log(total);  // (x - max) first: max + log(sum) would round
    }
    return;
  }
  for (int64_t i = 0; i < inner; ++i) max[i] = x[i];
  for (int64_t k = 1; k < length; ++k) {
    const T* row = x + k * inner;
    for (int64_t i = 0; i < inner; ++i) max[i] = row[i] > max[i] ? row[i] : max[i];
  }
  if (kind == SoftmaxKind::kHardmax) {
    // 1 at the first maximum along the axis.
    for (int64_t j = 0; j < n; ++j) y[j] = T(0);
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t k = 0; k < length; ++k) {
        if (x[k * inner + i] == max[i]) {
          y[k * inner + i] = T(1);
          break;
        }
      }
    }
    return;
  }
  for (int64_t k = 0; k < length; ++k) {
    const T* row = x + k * inner;
    T* out = y + k * inner;
    for (int64_t i = 0; i < inner; ++i) out[i] = row[i] - max[i];
  }
  Eigen::Map<Array> shifted(y, n);
  if (kind == SoftmaxKind::kSoftmax) {
    shifted = shifted.exp();
    for (int64_t i = 0; i < inner; ++i) sum[i] = 0;
    for (int64_t k = 0; k < length; ++k) {
      for (int64_t i = 0; i < inner; ++i) sum[i] += y[k * inner + i];
    }
    for (int64_t i = 0; i < inner; ++i) sum[i] = T(1) / sum[i];
    for (int64_t k = 0; k < length; ++k) {
      for (int64_t i = 0; i < inner; ++i) y[k * inner + i] *= sum[i];
    }
  } else {
    for (int64_t i = 0; i < inner; ++i) sum[i] = 0;
    for (int64_t k = 0; k < length; ++k) {
      const T* row = y + k * inner;
      Eigen::Map<const Array> r(row, inner);
      Eigen::Map<Array>(sum, inner) += r.exp();
    }
    Eigen::Map<Array>(sum, inner) = Eigen::Map<Array>(sum, inner).log();
    for (int64_t k = 0; k < length; ++k) {
      for (int64_t i = 0; i < inner; ++i) y[k * inner + i] -= sum[i];
    }
  }
}

template <typename T>
void softmax(const T* x, T* y, const SoftmaxView& v, SoftmaxKind kind, int threads) {
  const int64_t block = v.length * v.inner;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(block, 1));
  parallel_for(v.outer, grain, threads, [&](int64_t begin, int64_t end) {
    std::vector<T> scratch(static_cast<size_t>(2 * v.inner));
    for (int64_t o = begin; o < end; ++o) {
      softmax_block(x + o * block, y + o * block, v.length, v.inner, kind, scratch.data(),
                    scratch.data() + v.inner);
    }
  });
}

class SoftmaxKernel final : public Kernel {
 public:
  explicit SoftmaxKernel(const KernelInfo& info)
      : name_(info.node().op_type),
        kind_(name_ == "Softmax"      ? SoftmaxKind::kSoftmax
              : name_ == "LogSoftmax" ? SoftmaxKind::kLogSoftmax
                                      : SoftmaxKind::kHardmax),
        coerce_2d_(info.opset() < 13),
        axis_(info.attributes().get_int("axis", info.opset() < 13 ? 1 : -1)) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    // A scalar has one axis position in the 2-D coercion (axis 0 or 1 of [1, 1]).
    bool valid = coerce_2d_ ? (axis >= 0 && axis <= std::max<int64_t>(rank, 1))
                            : (axis >= 0 && axis < std::max<int64_t>(rank, 1));
    ONYX_CHECK(valid, ErrorCode::kInvalidArgument, name_, ": axis ", axis_,
               " is out of range for input of shape ", shape_to_string(x.shape()));
    SoftmaxView v;
    for (int64_t d = 0; d < rank; ++d) {
      if (d < axis) {
        v.outer *= x.dim(d);
      } else if (coerce_2d_ || d == axis) {
        v.length *= x.dim(d);
      } else {
        v.inner *= x.dim(d);
      }
    }
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    if (x.element_count() == 0) return;
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), name_, [&]<typename T>() {
      if constexpr (kIsHalf<T>) {
        // 16-bit floats: widen, compute in float, narrow.
        const int64_t n = x.element_count();
        std::vector<float> in(n), out(n);
        const T* src = x.data<T>();
        for (int64_t i = 0; i < n; ++i) in[i] = static_cast<float>(src[i]);
        softmax(in.data(), out.data(), v, kind_, ctx.threads());
        T* dst = y.mutable_data<T>();
        for (int64_t i = 0; i < n; ++i) dst[i] = T(out[i]);
      } else {
        softmax(x.data<T>(), y.mutable_data<T>(), v, kind_, ctx.threads());
      }
    });
  }

 private:
  std::string name_;
  SoftmaxKind kind_;
  bool coerce_2d_;
  int64_t axis_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Softmax", 1, kOpsetOpenEnded, SoftmaxKernel);
ONYX_REGISTER_KERNEL("CPU", "", "LogSoftmax", 1, kOpsetOpenEnded, SoftmaxKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Hardmax", 1, kOpsetOpenEnded, SoftmaxKernel);

}  // namespace onyx
