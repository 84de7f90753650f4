// CPU kernels of SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss. Both see the input as
// [N, C, D] (D = product of the trailing dims) and pick one class per (n, d) position; the
// softmax one first takes a stable log-softmax over C ((x - max) - log(sum exp(x - max))),
// vectorized over the contiguous d positions. 16-bit floats are widened to float.
#include <cmath>
#include <string>
#include <vector>

#include "onnx_ops/loss.h"
#include "providers/cpu/math/eigen_unary.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

struct LossView {
  int64_t n = 0, c = 0, d = 0;
  bool softmax = false;
  bool has_ignore = false;
  int64_t ignore_index = 0;
};

// Weighted loss and weight of one (n, d) position whose class row max and log-sum are known.
template <typename T, typename Index>
inline void pick(const T* xn, int64_t D, int64_t d, int64_t i, const Index* target, const T* weight,
                 const LossView& v, T max, T log_sum, T* loss, T* w) {
  const int64_t t = static_cast<int64_t>(target[i]);
  if (v.has_ignore && t == v.ignore_index) {
    loss[i] = T(0);
    w[i] = T(0);
    return;
  }
  const T picked = xn[t * D + d];
  const T nll = v.softmax ? log_sum - (picked - max) : -picked;
  const T wt = weight != nullptr ? weight[t] : T(1);
  loss[i] = wt * nll;
  w[i] = wt;
}

// [N, C] input: each class row is contiguous, so the max and exp-sum are whole-row reductions.
template <typename T, typename Index>
void loss_terms_rows(const T* x, const Index* target, const T* weight, const LossView& v,
                     T* log_prob, T* loss, T* w, int threads) {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  const int64_t C = v.c;
  parallel_for(v.n, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(C, 1)), threads,
               [&](int64_t begin, int64_t end) {
                 for (int64_t n = begin; n < end; ++n) {
                   Eigen::Map<const Array> row(x + n * C, C);
                   T max = T(0), log_sum = T(0);
                   if (v.softmax && C > 0) {
                     max = row.maxCoeff();
                     log_sum = std::log((row - max).exp().sum());
                     if (log_prob != nullptr) {
                       Eigen::Map<Array>(log_prob + n * C, C) = (row - max) - log_sum;
                     }
                   }
                   pick(x + n * C, 1, 0, n, target, weight, v, max, log_sum, loss, w);
                 }
               });
}

// Per-position weighted losses `loss` and weights `w` (N*D each); `log_prob` (N*C*D) when
// non-null. Targets were checked to be in range or ignored. Work is split over (n, block of
// d positions), so one large image (N = 1) still uses every thread.
template <typename T, typename Index>
void loss_terms(const T* x, const Index* target, const T* weight, const LossView& v, T* log_prob,
                T* loss, T* w, int threads) {
  const int64_t C = v.c, D = v.d;
  if (D == 1) return loss_terms_rows(x, target, weight, v, log_prob, loss, w, threads);
  if (D == 0) return;
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  const int64_t d_block = std::min<int64_t>(D, 1024);
  const int64_t d_blocks = (D + d_block - 1) / d_block;
  const int64_t grain =
      std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(C * d_block, 1));
  parallel_for(v.n * d_blocks, grain, threads, [&](int64_t begin, int64_t end) {
    // Row max and log of the row's exp-sum, per d position of the block.
    std::vector<T> scratch(static_cast<size_t>(2 * d_block), T(0));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / d_blocks;
      const int64_t d0 = (task % d_blocks) * d_block;
      const int64_t len = std::min(d_block, D - d0);
      const T* xn = x + n * C * D;
      Eigen::Map<Array> max(scratch.data(), len);
      Eigen::Map<Array> log_sum(scratch.data() + d_block, len);
      if (v.softmax && C > 0) {
        auto row = [&](int64_t c) { return Eigen::Map<const Array>(xn + c * D + d0, len); };
        max = row(0);
        for (int64_t c = 1; c < C; ++c) max = max.max(row(c));
        log_sum.setZero();
        for (int64_t c = 0; c < C; ++c) log_sum += (row(c) - max).exp();
        log_sum = log_sum.log();
        if (log_prob != nullptr) {
          T* out = log_prob + n * C * D + d0;
          for (int64_t c = 0; c < C; ++c) Eigen::Map<Array>(out + c * D, len) = (row(c) - max) - log_sum;
        }
      }
      for (int64_t d = 0; d < len; ++d) {
        pick(xn, D, d0 + d, n * D + d0 + d, target, weight, v, max[d], log_sum[d], loss, w);
      }
    }
  });
}

template <typename Half>
std::vector<float> widen(const Half* data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  if constexpr (std::is_same_v<Half, Float16>) {
    half_to_float(data, out.data(), n);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(data[i]);
  }
  return out;
}

template <typename Half>
void narrow(const float* data, Half* out, int64_t n) {
  if constexpr (std::is_same_v<Half, Float16>) {
    float_to_half(data, out, n);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = Half(data[i]);
  }
}

class LossKernel final : public Kernel {
 public:
  explicit LossKernel(const KernelInfo& info)
      : op_(info.node().op_type), softmax_(op_ == "SoftmaxCrossEntropyLoss"),
        reduction_(loss_reduction(info.attributes())),
        has_ignore_(info.attributes().has("ignore_index")),
        ignore_index_(info.attributes().get_int("ignore_index", 0)) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& target = ctx.input(1);
    const Tensor* weight = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    check_loss_shapes(op_, x.shape(), target.shape(), weight ? &weight->shape() : nullptr);
    ONYX_CHECK(target.dtype() == DataType::kInt32 || target.dtype() == DataType::kInt64,
               ErrorCode::kInvalidArgument, op_, ": target must be int32 or int64, got ",
               dtype_name(target.dtype()));
    ONYX_CHECK(weight == nullptr || weight->dtype() == x.dtype(), ErrorCode::kInvalidArgument,
               op_, ": weight is ", dtype_name(weight->dtype()), " but input is ",
               dtype_name(x.dtype()));
    LossView v;
    v.n = x.dim(0);
    v.c = x.dim(1);
    v.d = shape_element_count(Shape(x.shape().begin() + 2, x.shape().end()));
    v.softmax = softmax_;
    v.has_ignore = has_ignore_;
    v.ignore_index = ignore_index_;
    std::vector<int64_t> targets = target.to_int64_vector();
    check_targets(targets, v);

    Tensor& loss_out = ctx.output(0, x.dtype(), loss_output_shape(target.shape(), reduction_));
    Tensor* log_prob_out =
        softmax_ && ctx.has_output(1) ? &ctx.output(1, x.dtype(), x.shape()) : nullptr;
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), op_, [&]<typename T>() {
      if constexpr (kIsHalf<T>) {
        std::vector<float> xf = widen(x.data<T>(), x.element_count());
        std::vector<float> wf = weight ? widen(weight->data<T>(), v.c) : std::vector<float>();
        std::vector<float> lp(log_prob_out ? static_cast<size_t>(x.element_count()) : 0);
        std::vector<float> loss = run<float>(xf.data(), target, weight ? wf.data() : nullptr, v,
                                             log_prob_out ? lp.data() : nullptr, ctx.threads());
        narrow(loss.data(), loss_out.mutable_data<T>(), loss_out.element_count());
        if (log_prob_out) narrow(lp.data(), log_prob_out->mutable_data<T>(), x.element_count());
      } else {
        std::vector<T> loss =
            run<T>(x.data<T>(), target, weight ? weight->data<T>() : nullptr, v,
                   log_prob_out ? log_prob_out->mutable_data<T>() : nullptr, ctx.threads());
        std::copy(loss.begin(), loss.end(), loss_out.mutable_data<T>());
      }
    });
  }

 private:
  void check_targets(const std::vector<int64_t>& targets, const LossView& v) const {
    for (int64_t t : targets) {
      if (v.has_ignore && t == v.ignore_index) continue;
      ONYX_CHECK(t >= 0 && t < v.c, ErrorCode::kInvalidArgument, op_, ": target class ", t,
                 " is out of range [0, ", v.c, ")",
                 v.has_ignore ? " and is not ignore_index " + std::to_string(v.ignore_index)
                              : std::string());
    }
  }

  // The loss output's values: per position for reduction none, else one reduced value.
  template <typename T>
  std::vector<T> run(const T* x, const Tensor& target, const T* weight, const LossView& v,
                     T* log_prob, int threads) const {
    const int64_t positions = v.n * v.d;
    std::vector<T> loss(static_cast<size_t>(positions)), w(static_cast<size_t>(positions));
    if (target.dtype() == DataType::kInt32) {
      loss_terms(x, target.data<int32_t>(), weight, v, log_prob, loss.data(), w.data(), threads);
    } else {
      loss_terms(x, target.data<int64_t>(), weight, v, log_prob, loss.data(), w.data(), threads);
    }
    if (reduction_ == LossReduction::kNone) return loss;
    // Sums in double: the reduced value of float losses should not depend on N*D rounding.
    double total = 0, total_weight = 0;
    for (int64_t i = 0; i < positions; ++i) {
      total += static_cast<double>(loss[i]);
      total_weight += static_cast<double>(w[i]);
    }
    // As the reference: a mean over no counted position is 0/0.
    double value = reduction_ == LossReduction::kSum ? total : total / total_weight;
    return {static_cast<T>(value)};
  }

  std::string op_;
  bool softmax_;
  LossReduction reduction_;
  bool has_ignore_;
  int64_t ignore_index_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "SoftmaxCrossEntropyLoss", 12, kOpsetOpenEnded, LossKernel);
ONYX_REGISTER_KERNEL("CPU", "", "NegativeLogLikelihoodLoss", 12, kOpsetOpenEnded, LossKernel);

}  // namespace onyx
