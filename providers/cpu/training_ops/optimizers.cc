// CPU kernels of the ai.onnx.preview.training optimizers (opset 1): Adagrad, Momentum
// (standard and Nesterov) and Adam. Each updates its n tensors one after another with a
// fused elementwise loop; the scalar learning-rate adjustments are done once in double.
#include <cmath>

#include "onnx_ops/training_ops.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// The loop over the node's n tensors; Derived::apply<T> updates one tensor, given the input
// groups' tensors `in` and the output groups' tensors `out`.
template <typename Derived>
class OptimizerKernel : public Kernel {
 public:
  explicit OptimizerKernel(const KernelInfo& info)
      : node_(info.node()),
        n_(optimizer_tensor_count(info.node(), info.input_count(), info.output_count())),
        layout_(optimizer_layout(info.node().op_type)) {}

  void compute(KernelContext& ctx) override {
    const double r = scalar(ctx, 0, "R");
    const double t = scalar(ctx, 1, "T");
    for (int64_t i = 0; i < n_; ++i) {
      const Tensor& x = ctx.input(2 + i);
      std::vector<const Tensor*> in;
      for (size_t g = 0; g < layout_.input_groups; ++g) {
        const Tensor& v = ctx.input(2 + g * n_ + i);
        ONYX_CHECK(v.shape() == x.shape() && v.dtype() == x.dtype(), ErrorCode::kInvalidArgument,
                   node_.describe(), ": tensor ", i, " of input group ", g, " has ",
                   dtype_name(v.dtype()), " ", shape_to_string(v.shape()), ", expected ",
                   dtype_name(x.dtype()), " ", shape_to_string(x.shape()), " like X");
        in.push_back(&v);
      }
      std::vector<Tensor*> out;
      for (size_t g = 0; g < layout_.output_groups.size(); ++g) {
        out.push_back(&ctx.output(g * n_ + i, x.dtype(), x.shape()));
      }
      dispatch_dtype_or_throw<TypeList<float, double>>(x.dtype(), node_.op_type, [&]<typename T>() {
        static_cast<Derived*>(this)->template apply<T>(r, t, in, out, x.element_count(),
                                                       ctx.threads());
      });
    }
  }

 private:
  double scalar(KernelContext& ctx, size_t i, const char* name) const {
    const Tensor& v = ctx.input(i);
    ONYX_CHECK(v.element_count() == 1, ErrorCode::kInvalidArgument, node_.describe(), ": ", name,
               " must be a scalar, got shape ", shape_to_string(v.shape()));
    return v.element_as_double(0);
  }

  const Node& node_;
  int64_t n_;
  OptimizerLayout layout_;
};

class AdagradKernel final : public OptimizerKernel<AdagradKernel> {
 public:
  explicit AdagradKernel(const KernelInfo& info)
      : OptimizerKernel<AdagradKernel>(info), decay_(info.attributes().get_float("decay_factor", 0.0f)),
        epsilon_(info.attributes().get_float("epsilon", 1e-6f)),
        norm_(info.attributes().get_float("norm_coefficient", 0.0f)) {}

  template <typename T>
  void apply(double r, double t, const std::vector<const Tensor*>& in,
             const std::vector<Tensor*>& out, int64_t n, int threads) {
    const T* x = in[0]->data<T>();
    const T* g = in[1]->data<T>();
    const T* h = in[2]->data<T>();
    T* x_new = out[0]->mutable_data<T>();
    T* h_new = out[1]->mutable_data<T>();
    const T rate = static_cast<T>(r / (1.0 + t * decay_));
    const T norm = static_cast<T>(norm_);
    const T eps = static_cast<T>(epsilon_);
    parallel_for(n, kElementwiseGrain, threads, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T gr = norm * x[i] + g[i];
        const T hn = h[i] + gr * gr;
        h_new[i] = hn;
        x_new[i] = x[i] - rate * gr / (std::sqrt(hn) + eps);
      }
    });
  }

 private:
  float decay_, epsilon_, norm_;
};

class MomentumKernel final : public OptimizerKernel<MomentumKernel> {
 public:
  explicit MomentumKernel(const KernelInfo& info)
      : OptimizerKernel<MomentumKernel>(info), alpha_(info.attributes().require_float("alpha")),
        beta_(info.attributes().require_float("beta")),
        norm_(info.attributes().require_float("norm_coefficient")) {
    const std::string mode = info.attributes().require_string("mode");
    ONYX_CHECK(mode == "standard" || mode == "nesterov", ErrorCode::kInvalidModel,
               info.node().describe(), ": mode '", mode, "' is not one of standard, nesterov");
    nesterov_ = mode == "nesterov";
  }

  template <typename T>
  void apply(double r, double t, const std::vector<const Tensor*>& in,
             const std::vector<Tensor*>& out, int64_t n, int threads) {
    const T* x = in[0]->data<T>();
    const T* g = in[1]->data<T>();
    const T* v = in[2]->data<T>();
    T* x_new = out[0]->mutable_data<T>();
    T* v_new = out[1]->mutable_data<T>();
    const T rate = static_cast<T>(r);
    const T alpha = static_cast<T>(alpha_);
    // The gradient's coefficient is 1 on the first iteration (T == 0).
    const T beta = t > 0 ? static_cast<T>(beta_) : T(1);
    const T norm = static_cast<T>(norm_);
    const bool nesterov = nesterov_;
    parallel_for(n, kElementwiseGrain, threads, [&](int64_t begin, int64_t end) {
      if (nesterov) {
        for (int64_t i = begin; i < end; ++i) {
          const T gr = norm * x[i] + g[i];
          const T vn = alpha * v[i] + beta * gr;
          v_new[i] = vn;
          x_new[i] = x[i] - rate * (gr + alpha * vn);
        }
      } else {
        for (int64_t i = begin; i < end; ++i) {
          const T gr = norm * x[i] + g[i];
          const T vn = alpha * v[i] + beta * gr;
          v_new[i] = vn;
          x_new[i] = x[i] - rate * vn;
        }
      }
    });
  }

 private:
  float alpha_, beta_, norm_;
  bool nesterov_ = false;
};

class AdamKernel final : public OptimizerKernel<AdamKernel> {
 public:
  explicit AdamKernel(const KernelInfo& info)
      : OptimizerKernel<AdamKernel>(info), alpha_(info.attributes().get_float("alpha", 0.9f)),
        beta_(info.attributes().get_float("beta", 0.999f)),
        epsilon_(info.attributes().get_float("epsilon", 1e-6f)),
        norm_(info.attributes().get_float("norm_coefficient", 0.0f)),
        norm_post_(info.attributes().get_float("norm_coefficient_post", 0.0f)) {}

  template <typename T>
  void apply(double r, double t, const std::vector<const Tensor*>& in,
             const std::vector<Tensor*>& out, int64_t n, int threads) {
    const T* x = in[0]->data<T>();
    const T* g = in[1]->data<T>();
    const T* v = in[2]->data<T>();
    const T* h = in[3]->data<T>();
    T* x_new = out[0]->mutable_data<T>();
    T* v_new = out[1]->mutable_data<T>();
    T* h_new = out[2]->mutable_data<T>();
    const double alpha = alpha_, beta = beta_;
    // Bias correction of both momentums, folded into the learning rate after step 0.
    const double adjusted =
        t > 0 ? r * std::sqrt(1.0 - std::pow(beta, t)) / (1.0 - std::pow(alpha, t)) : r;
    const T rate = static_cast<T>(adjusted);
    const T a = static_cast<T>(alpha), one_a = static_cast<T>(1.0 - alpha);
    const T b = static_cast<T>(beta), one_b = static_cast<T>(1.0 - beta);
    const T eps = static_cast<T>(epsilon_), norm = static_cast<T>(norm_);
    const T post = static_cast<T>(1.0 - static_cast<double>(norm_post_));
    parallel_for(n, kElementwiseGrain, threads, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T gr = norm * x[i] + g[i];
        const T vn = a * v[i] + one_a * gr;
        const T hn = b * h[i] + one_b * gr * gr;
        v_new[i] = vn;
        h_new[i] = hn;
        x_new[i] = post * (x[i] - rate * (vn / (std::sqrt(hn) + eps)));
      }
    });
  }

 private:
  float alpha_, beta_, epsilon_, norm_, norm_post_;
};

ONYX_REGISTER_KERNEL("CPU", "ai.onnx.preview.training", "Adagrad", 1, kOpsetOpenEnded,
                     AdagradKernel);
ONYX_REGISTER_KERNEL("CPU", "ai.onnx.preview.training", "Momentum", 1, kOpsetOpenEnded,
                     MomentumKernel);
ONYX_REGISTER_KERNEL("CPU", "ai.onnx.preview.training", "Adam", 1, kOpsetOpenEnded, AdamKernel);

}  // namespace
}  // namespace onyx
