// CPU kernels and shape rules of com.onyx.training::AdamUpdate and SgdUpdate
// (onyx_training_ops.h). Each element is computed with torch.optim 1.13's operations in torch's
// order (a division where torch divides), so results match the standard-op composition. The
// options are template parameters, so each loop is branch-free and vectorizes.
#include <algorithm>
#include <cmath>

#include <Eigen/Core>

#include "onnx_ops/op_schema.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/cpu/training_ops/onyx_training_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::training {
namespace {

using FusedUpdateTypes = TypeList<float, double, Float16, BFloat16>;

double update_scalar(const KernelContext& ctx, size_t i, const char* op, const char* name) {
  const Tensor& value = ctx.input(i);
  ONYX_CHECK(value.element_count() == 1, ErrorCode::kInvalidArgument, op, ": ", name, " must be a scalar, got shape ",
             shape_to_string(value.shape()));
  return value.element_as_double(0);
}

// The present inputs among `inputs` must have X's type and shape (they are updated element by element).
void check_update_inputs(const KernelContext& ctx, std::initializer_list<size_t> inputs, const char* op) {
  const Tensor& x = ctx.input(0);
  for (size_t i : inputs) {
    if (!ctx.has_input(i)) continue;
    const Tensor& v = ctx.input(i);
    ONYX_CHECK(v.dtype() == x.dtype() && v.shape() == x.shape(), ErrorCode::kInvalidArgument, op, ": input ", i,
               " is ", dtype_name(v.dtype()), shape_to_string(v.shape()), ", expected ", dtype_name(x.dtype()),
               shape_to_string(x.shape()), " like the parameter");
  }
}

bool update_flag(const KernelInfo& info, const char* name) { return info.attributes().get_int(name, 0) != 0; }

// Calls fn.template operator()<A, B, C>() with the three flags as constants.
template <typename Fn>
void with_flags(bool a, bool b, bool c, const Fn& fn) {
  auto third = [&]<bool A, bool B>() {
    c ? fn.template operator()<A, B, true>() : fn.template operator()<A, B, false>();
  };
  auto second = [&]<bool A>() {
    b ? third.template operator()<A, true>() : third.template operator()<A, false>();
  };
  a ? second.template operator()<true>() : second.template operator()<false>();
}

class AdamUpdateKernel final : public Kernel {
 public:
  explicit AdamUpdateKernel(const KernelInfo& info)
      : decoupled_(update_flag(info, "decoupled")), amsgrad_(update_flag(info, "amsgrad")),
        maximize_(update_flag(info, "maximize")) {}

  void compute(KernelContext& ctx) override {
    ONYX_CHECK(!amsgrad_ || (ctx.has_input(4) && ctx.has_output(3)), ErrorCode::kInvalidArgument,
               "AdamUpdate: amsgrad needs the Vmax input and output");
    check_update_inputs(ctx, {1, 2, 3, 4}, kAdamUpdateOp);
    const double lr = update_scalar(ctx, 5, kAdamUpdateOp, "lr");
    const double beta1 = update_scalar(ctx, 6, kAdamUpdateOp, "beta1");
    const double beta2 = update_scalar(ctx, 7, kAdamUpdateOp, "beta2");
    const double eps = update_scalar(ctx, 8, kAdamUpdateOp, "eps");
    const double weight_decay = update_scalar(ctx, 9, kAdamUpdateOp, "weight_decay");
    const double step = update_scalar(ctx, 10, kAdamUpdateOp, "step");
    const Tensor& x = ctx.input(0);
    Tensor& x_out = ctx.output(0, x.dtype(), x.shape());
    Tensor& m_out = ctx.output(1, x.dtype(), x.shape());
    Tensor& v_out = ctx.output(2, x.dtype(), x.shape());
    Tensor* vmax_out = amsgrad_ ? &ctx.output(3, x.dtype(), x.shape()) : nullptr;
    dispatch_dtype_or_throw<FusedUpdateTypes>(x.dtype(), kAdamUpdateOp, [&]<typename T>() {
      using C = ComputeType<T>;
      const C step_size = static_cast<C>(lr / (1.0 - std::pow(beta1, step)));
      const C correction2_sqrt = static_cast<C>(std::sqrt(1.0 - std::pow(beta2, step)));
      const C b1 = static_cast<C>(beta1), keep1 = static_cast<C>(1.0 - beta1);
      const C b2 = static_cast<C>(beta2), keep2 = static_cast<C>(1.0 - beta2);
      const C epsilon = static_cast<C>(eps), decay = static_cast<C>(weight_decay);
      const C shrink = static_cast<C>(1.0 - lr * weight_decay);  // AdamW's decoupled decay
      const C sign = maximize_ ? C(-1) : C(1);                    // exact: flips the gradient
      const T* p = x.data<T>();
      const T* g = ctx.input(1).data<T>();
      const T* m = ctx.input(2).data<T>();
      const T* v = ctx.input(3).data<T>();
      const T* vmax = amsgrad_ ? ctx.input(4).data<T>() : nullptr;
      T* p_new = x_out.mutable_data<T>();
      T* m_new = m_out.mutable_data<T>();
      T* v_new = v_out.mutable_data<T>();
      T* vmax_new = amsgrad_ ? vmax_out->mutable_data<T>() : nullptr;
      // Like torch, weight decay of 0 is skipped (0 * inf would be NaN).
      with_flags(!decoupled_ && weight_decay != 0.0, decoupled_ && weight_decay != 0.0, amsgrad_,
                 [&]<bool kL2, bool kDecoupled, bool kAmsgrad>() {
        // Blocks of three loops: the moments, the square roots (std::sqrt may set errno, which
        // keeps a loop scalar; Eigen's vectorizes), the parameters.
        constexpr int64_t kBlock = 512;
        parallel_for(x.element_count(), kElementwiseGrain, ctx.threads(), [&](int64_t begin, int64_t end) {
          alignas(64) C root[kBlock];
          for (int64_t start = begin; start < end; start += kBlock) {
            const int64_t n = std::min(kBlock, end - start);
            for (int64_t j = 0; j < n; ++j) {
              const int64_t i = start + j;
              C grad = sign * C(load(g[i]));
              if constexpr (kL2) grad += decay * C(load(p[i]));
              const C mi = C(load(m[i])) * b1 + grad * keep1;
              const C vi = C(load(v[i])) * b2 + grad * grad * keep2;
              C second = vi;
              if constexpr (kAmsgrad) {
                const C previous = load(vmax[i]);
                second = previous < vi ? vi : previous;
                vmax_new[i] = convert_to<T>(second);
              }
              m_new[i] = convert_to<T>(mi);
              v_new[i] = convert_to<T>(vi);
              root[j] = second;
            }
            Eigen::Map<Eigen::Array<C, Eigen::Dynamic, 1>> roots(root, n);
            roots = roots.sqrt();
            for (int64_t j = 0; j < n; ++j) {
              const int64_t i = start + j;
              C param = load(p[i]);
              if constexpr (kDecoupled) param *= shrink;
              // The moment as stored (float16 state rounds it, as the composition's output does).
              const C mi = load(m_new[i]);
              const C denominator = root[j] / correction2_sqrt + epsilon;
              p_new[i] = convert_to<T>(param - mi / denominator * step_size);
            }
          }
        });
      });
    });
  }

 private:
  bool decoupled_, amsgrad_, maximize_;
};

class SgdUpdateKernel final : public Kernel {
 public:
  explicit SgdUpdateKernel(const KernelInfo& info)
      : nesterov_(update_flag(info, "nesterov")), maximize_(update_flag(info, "maximize")) {}

  void compute(KernelContext& ctx) override {
    const bool has_buffer = ctx.has_input(2);
    ONYX_CHECK(has_buffer == ctx.has_output(1), ErrorCode::kInvalidArgument,
               "SgdUpdate: the momentum buffer needs both its input and its output");
    ONYX_CHECK(!nesterov_ || has_buffer, ErrorCode::kInvalidArgument, "SgdUpdate: nesterov needs a momentum buffer");
    check_update_inputs(ctx, {1, 2}, kSgdUpdateOp);
    const double lr = update_scalar(ctx, 3, kSgdUpdateOp, "lr");
    const double momentum = update_scalar(ctx, 4, kSgdUpdateOp, "momentum");
    const double dampening = update_scalar(ctx, 5, kSgdUpdateOp, "dampening");
    const double weight_decay = update_scalar(ctx, 6, kSgdUpdateOp, "weight_decay");
    const double step = update_scalar(ctx, 7, kSgdUpdateOp, "step");
    const Tensor& x = ctx.input(0);
    Tensor& x_out = ctx.output(0, x.dtype(), x.shape());
    Tensor* b_out = has_buffer ? &ctx.output(1, x.dtype(), x.shape()) : nullptr;
    dispatch_dtype_or_throw<FusedUpdateTypes>(x.dtype(), kSgdUpdateOp, [&]<typename T>() {
      using C = ComputeType<T>;
      const C rate = static_cast<C>(lr), mu = static_cast<C>(momentum), decay = static_cast<C>(weight_decay);
      // The buffer starts at zero, so no dampening on step 1 makes it exactly d there (torch's buf = d).
      const C keep = static_cast<C>(step <= 1.0 ? 1.0 : 1.0 - dampening);
      const C sign = maximize_ ? C(-1) : C(1);
      const T* p = x.data<T>();
      const T* g = ctx.input(1).data<T>();
      const T* b = has_buffer ? ctx.input(2).data<T>() : nullptr;
      T* p_new = x_out.mutable_data<T>();
      T* b_new = has_buffer ? b_out->mutable_data<T>() : nullptr;
      with_flags(weight_decay != 0.0, has_buffer, nesterov_, [&]<bool kL2, bool kBuffer, bool kNesterov>() {
        parallel_for(x.element_count(), kElementwiseGrain, ctx.threads(), [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) {
            const C param = load(p[i]);
            C d = sign * C(load(g[i]));
            if constexpr (kL2) d += param * decay;
            if constexpr (kBuffer) {
              const C buffer = C(load(b[i])) * mu + d * keep;
              b_new[i] = convert_to<T>(buffer);
              if constexpr (kNesterov) {
                d = d + buffer * mu;
              } else {
                d = buffer;
              }
            }
            p_new[i] = convert_to<T>(param - d * rate);
          }
        });
      });
    });
  }

 private:
  bool nesterov_, maximize_;
};

// Every output is typed and shaped like the parameter X.
void typed_like_parameter(InferenceContext& ctx) {
  for (size_t i = 0; i < ctx.output_count(); ++i) ctx.set_output_type(i, ctx.input_type(0));
}

}  // namespace

ONYX_REGISTER_KERNEL("CPU", kTrainingDomain, kAdamUpdateOp, 1, kOpsetOpenEnded, AdamUpdateKernel);
ONYX_REGISTER_KERNEL("CPU", kTrainingDomain, kSgdUpdateOp, 1, kOpsetOpenEnded, SgdUpdateKernel);
ONYX_REGISTER_SHAPE_RULE(kTrainingDomain, kAdamUpdateOp, typed_like_parameter);
ONYX_REGISTER_SHAPE_RULE(kTrainingDomain, kSgdUpdateOp, typed_like_parameter);

}  // namespace onyx::training
