// Normalizations: BatchNormalization (inference and opset-14 training mode), Instance-, Layer-,
// Group- and RMSNormalization. Statistics are two-pass (mean, then squared deviations) in
// float, or double for double inputs; 16-bit floats are widened on load.
#include <cmath>

#include <Eigen/Core>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

using NormTypes = TypeList<float, double, Float16, BFloat16>;

template <typename T>
using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;

// A small parameter tensor (scale, bias, statistics) of any float type, widened.
template <typename A>
std::vector<A> read_params(const Tensor& t) {
  std::vector<A> out(static_cast<size_t>(t.element_count()));
  dispatch_dtype_or_throw<NormTypes>(t.dtype(), "normalization parameter", [&]<typename P>() {
    const P* p = t.data<P>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<A>(load(p[i]));
  });
  return out;
}

template <typename A>
void write_params(Tensor& t, const std::vector<A>& values) {
  dispatch_dtype_or_throw<NormTypes>(t.dtype(), "normalization", [&]<typename T>() {
    T* p = t.mutable_data<T>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = convert_to<T>(values[i]);
  });
}

// Mean and variance (population) of n contiguous values. Float and double go through Eigen's
// vectorized reductions (a plain sum loop is one add chain: a LayerNorm row of 128 floats took
// longer than the GEMM before it); 16-bit floats widen value by value.
template <typename T>
void moments(const T* x, int64_t n, Acc<T>& mean, Acc<T>& var) {
  using A = Acc<T>;
  if constexpr (std::is_same_v<T, A>) {
    if (n == 0) {
      mean = var = A(0);
      return;
    }
    const Eigen::Map<const Eigen::Array<A, Eigen::Dynamic, 1>> values(x, n);
    mean = values.sum() / static_cast<A>(n);
    var = (values - mean).square().sum() / static_cast<A>(n);
  } else {
    A sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<A>(load(x[i]));
    mean = n > 0 ? sum / static_cast<A>(n) : A(0);
    A sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      A d = static_cast<A>(load(x[i])) - mean;
      sq += d * d;
    }
    var = n > 0 ? sq / static_cast<A>(n) : A(0);
  }
}

// y = x * a + b over n contiguous values.
template <typename T>
inline void affine(const T* x, T* y, int64_t n, Acc<T> a, Acc<T> b) {
  for (int64_t i = 0; i < n; ++i) y[i] = convert_to<T>(static_cast<Acc<T>>(load(x[i])) * a + b);
}

void check_channel_param(const Tensor& p, int64_t expected, const char* op, const char* name,
                         const Shape& x) {
  if (p.element_count() != expected) {
    throw_error(ErrorCode::kInvalidArgument, op, ": ", name, " has shape ", shape_to_string(p.shape()),
                " but X ", shape_to_string(x), " needs ", expected, " values");
  }
}

class BatchNormKernel final : public Kernel {
 public:
  explicit BatchNormKernel(const KernelInfo& info) : opset_(info.opset()) {
    epsilon_ = info.attributes().get_float("epsilon", 1e-5f);
    momentum_ = info.attributes().get_float("momentum", 0.9f);
    training_ = opset_ >= 14 && info.attributes().get_int("training_mode", 0) != 0;
    spatial_ = opset_ >= 9 || info.attributes().get_int("spatial", 1) != 0;
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.rank() < 2) {
      throw_error(ErrorCode::kInvalidArgument, "BatchNormalization: X ", shape_to_string(x.shape()),
                  " needs rank >= 2 (N, C, ...)");
    }
    const int64_t n = x.dim(0), c = x.dim(1);
    const int64_t plane = c == 0 ? 0 : x.element_count() / std::max<int64_t>(1, n * c);
    // spatial=0 (opset < 9): one statistic per (channel, position) instead of per channel.
    const int64_t groups = spatial_ ? c : c * plane;
    const int64_t run = spatial_ ? plane : 1;
    const char* names[] = {"scale", "B", "input_mean", "input_var"};
    for (int i = 1; i <= 4; ++i) check_channel_param(ctx.input(i), groups, "BatchNormalization", names[i - 1], x.shape());
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    dispatch_dtype_or_throw<NormTypes>(x.dtype(), "BatchNormalization", [&]<typename T>() {
      using A = Acc<T>;
      std::vector<A> scale = read_params<A>(ctx.input(1)), bias = read_params<A>(ctx.input(2));
      std::vector<A> mean = read_params<A>(ctx.input(3)), var = read_params<A>(ctx.input(4));
      const T* px = x.data<T>();
      T* py = y.mutable_data<T>();
      if (training_) {
        std::vector<A> batch_mean(static_cast<size_t>(c), 0), batch_var(static_cast<size_t>(c), 0);
        for (int64_t ch = 0; ch < c; ++ch) {
          A sum = 0, sq = 0;
          for (int64_t b = 0; b < n; ++b) {
            const T* p = px + (b * c + ch) * plane;
            for (int64_t i = 0; i < plane; ++i) sum += static_cast<A>(load(p[i]));
          }
          const A count = static_cast<A>(std::max<int64_t>(1, n * plane));
          const A m = sum / count;
          for (int64_t b = 0; b < n; ++b) {
            const T* p = px + (b * c + ch) * plane;
            for (int64_t i = 0; i < plane; ++i) {
              A d = static_cast<A>(load(p[i])) - m;
              sq += d * d;
            }
          }
          batch_mean[static_cast<size_t>(ch)] = m;
          batch_var[static_cast<size_t>(ch)] = sq / count;
        }
        // An empty batch holds no statistics: the running ones pass through unchanged rather
        // than turning NaN (0/0) for every later step, as PyTorch users expect.
        if (n * plane == 0) batch_mean = mean, batch_var = var;
        if (ctx.has_output(1) || ctx.has_output(2)) {
          std::vector<A> running_mean(mean.size()), running_var(var.size());
          for (size_t i = 0; i < mean.size(); ++i) {
            running_mean[i] = mean[i] * momentum_ + batch_mean[i] * (1 - momentum_);
            running_var[i] = var[i] * momentum_ + batch_var[i] * (1 - momentum_);
          }
          if (ctx.has_output(1)) write_params(ctx.output(1, ctx.input(3).dtype(), {c}), running_mean);
          if (ctx.has_output(2)) write_params(ctx.output(2, ctx.input(4).dtype(), {c}), running_var);
        }
        mean = std::move(batch_mean);
        var = std::move(batch_var);
      } else {
        // Legacy optional outputs (statistics) outside training: pass the inputs through.
        for (size_t o = 1; o < 5 && o < ctx.output_count(); ++o) {
          if (!ctx.has_output(o)) continue;
          const Tensor& src = ctx.input(o % 2 == 1 ? 3 : 4);
          write_params(ctx.output(o, src.dtype(), src.shape()), o % 2 == 1 ? mean : var);
        }
      }
      std::vector<A> a(static_cast<size_t>(groups)), b(static_cast<size_t>(groups));
      for (int64_t g = 0; g < groups; ++g) {
        size_t i = static_cast<size_t>(g);
        a[i] = scale[i] / std::sqrt(var[i] + static_cast<A>(epsilon_));
        b[i] = bias[i] - mean[i] * a[i];
      }
      const int64_t rows = n * groups;
      parallel_for(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, run)), ctx.threads(),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t r = begin; r < end; ++r) {
                       const size_t g = static_cast<size_t>(r % groups);
                       affine(px + r * run, py + r * run, run, a[g], b[g]);
                     }
                   });
    });
  }

 private:
  int64_t opset_;
  float epsilon_, momentum_;
  bool training_ = false, spatial_ = true;
};

class InstanceNormKernel final : public Kernel {
 public:
  explicit InstanceNormKernel(const KernelInfo& info)
      : epsilon_(info.attributes().get_float("epsilon", 1e-5f)) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.rank() < 2) {
      throw_error(ErrorCode::kInvalidArgument, "InstanceNormalization: X ", shape_to_string(x.shape()),
                  " needs rank >= 2");
    }
    const int64_t n = x.dim(0), c = x.dim(1);
    const int64_t plane = n * c == 0 ? 0 : x.element_count() / (n * c);
    check_channel_param(ctx.input(1), c, "InstanceNormalization", "scale", x.shape());
    check_channel_param(ctx.input(2), c, "InstanceNormalization", "B", x.shape());
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    dispatch_dtype_or_throw<NormTypes>(x.dtype(), "InstanceNormalization", [&]<typename T>() {
      using A = Acc<T>;
      std::vector<A> scale = read_params<A>(ctx.input(1)), bias = read_params<A>(ctx.input(2));
      const T* px = x.data<T>();
      T* py = y.mutable_data<T>();
      parallel_for(n * c, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, plane)), ctx.threads(),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t r = begin; r < end; ++r) {
                       A mean, var;
                       moments(px + r * plane, plane, mean, var);
                       const size_t ch = static_cast<size_t>(r % c);
                       A a = scale[ch] / std::sqrt(var + static_cast<A>(epsilon_));
                       affine(px + r * plane, py + r * plane, plane, a, bias[ch] - mean * a);
                     }
                   });
    });
  }

 private:
  float epsilon_;
};

// Scale/bias of LayerNorm and RMSNorm broadcast to the normalized shape X[axis:]; expanded to
// `inner` values once per run (they are small next to X).
template <typename A>
std::vector<A> expand_to_inner(const Tensor& p, const Shape& x, int64_t axis, const char* op,
                               const char* name) {
  Shape inner_shape(x.begin() + axis, x.end());
  const int64_t inner = shape_element_count(inner_shape);
  std::vector<A> values = read_params<A>(p);
  if (p.element_count() == inner) return values;
  if (p.rank() > inner_shape.size()) {
    throw_error(ErrorCode::kInvalidArgument, op, ": ", name, " ", shape_to_string(p.shape()),
                " does not broadcast to X", shape_to_string(x), "[", axis, ":]");
  }
  const size_t offset = inner_shape.size() - p.rank();
  for (size_t d = 0; d < p.rank(); ++d) {
    if (p.dim(d) != 1 && p.dim(d) != inner_shape[offset + d]) {
      throw_error(ErrorCode::kInvalidArgument, op, ": ", name, " ", shape_to_string(p.shape()),
                  " does not broadcast to X", shape_to_string(x), "[", axis, ":]");
    }
  }
  std::vector<A> out(static_cast<size_t>(inner));
  std::vector<int64_t> index(inner_shape.size(), 0);
  for (int64_t i = 0; i < inner; ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < p.rank(); ++d) src = src * p.dim(d) + (p.dim(d) == 1 ? 0 : index[offset + d]);
    out[static_cast<size_t>(i)] = values[static_cast<size_t>(src)];
    for (size_t d = inner_shape.size(); d-- > 0;) {
      if (++index[d] < inner_shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

// Scale or bias of a row normalization over X[axis:] (`inner` values per row) as Acc<T>
// values: the tensor's own data when it holds exactly them, else a copy in `storage`.
template <typename T>
const Acc<T>* row_params(const Tensor& p, int64_t inner, const Shape& x, int64_t axis, const char* op,
                         const char* name, std::vector<Acc<T>>& storage) {
  if (p.dtype() == dtype_of<Acc<T>>() && p.element_count() == inner && p.device().is_host_memory()) {
    return p.data<Acc<T>>();
  }
  storage = expand_to_inner<Acc<T>>(p, x, axis, op, name);
  return storage.data();
}

int64_t normalized_axis(int64_t axis, size_t rank, const char* op) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) {
    throw_error(ErrorCode::kInvalidArgument, op, ": axis ", axis, " is out of range for input rank ", r);
  }
  return axis < 0 ? axis + r : axis;
}

// LayerNormalization (rms=false) and RMSNormalization (rms=true): normalize each row of
// X[axis:] and apply scale (and bias).
class RowNormKernel final : public Kernel {
 public:
  RowNormKernel(const KernelInfo& info, bool rms) : rms_(rms) {
    axis_ = info.attributes().get_int("axis", -1);
    epsilon_ = info.attributes().get_float("epsilon", 1e-5f);
  }

  void compute(KernelContext& ctx) override {
    const char* op = rms_ ? "RMSNormalization" : "LayerNormalization";
    const Tensor& x = ctx.input(0);
    const int64_t axis = normalized_axis(axis_, x.rank(), op);
    const int64_t inner = shape_element_count(Shape(x.shape().begin() + axis, x.shape().end()));
    const int64_t rows = inner == 0 ? 0 : x.element_count() / inner;
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    Shape stat_shape = x.shape();
    for (size_t d = static_cast<size_t>(axis); d < stat_shape.size(); ++d) stat_shape[d] = 1;
    Tensor* mean_out = !rms_ && ctx.has_output(1) ? &ctx.output(1, DataType::kFloat, stat_shape) : nullptr;
    Tensor* inv_out = !rms_ && ctx.has_output(2) ? &ctx.output(2, DataType::kFloat, stat_shape) : nullptr;
    dispatch_dtype_or_throw<NormTypes>(x.dtype(), op, [&]<typename T>() {
      using A = Acc<T>;
      // Scale and bias as A values per inner element: read in place when they already are
      // (the common case, a float model's [inner] weights), expanded otherwise.
      std::vector<A> scale_values, bias_values;
      const A* scale = row_params<T>(ctx.input(1), inner, x.shape(), axis, op, "Scale", scale_values);
      const A* bias = ctx.has_input(2) ? row_params<T>(ctx.input(2), inner, x.shape(), axis, op, "B", bias_values)
                                       : nullptr;
      const T* px = x.data<T>();
      T* py = y.mutable_data<T>();
      float* pm = mean_out ? mean_out->mutable_data<float>() : nullptr;
      float* pi = inv_out ? inv_out->mutable_data<float>() : nullptr;
      const A eps = static_cast<A>(epsilon_);
      parallel_for(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, inner)), ctx.threads(),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t r = begin; r < end; ++r) {
                       const T* row = px + r * inner;
                       T* out = py + r * inner;
                       A mean = 0, var = 0;
                       if (rms_) {
                         for (int64_t i = 0; i < inner; ++i) {
                           A v = static_cast<A>(load(row[i]));
                           var += v * v;
                         }
                         var /= static_cast<A>(inner);
                       } else {
                         moments(row, inner, mean, var);
                       }
                       const A inv = A(1) / std::sqrt(var + eps);
                       if (pm) pm[r] = static_cast<float>(mean);
                       if (pi) pi[r] = static_cast<float>(inv);
                       if (bias == nullptr) {
                         for (int64_t i = 0; i < inner; ++i) {
                           out[i] = convert_to<T>((static_cast<A>(load(row[i])) - mean) * inv * scale[i]);
                         }
                       } else {
                         for (int64_t i = 0; i < inner; ++i) {
                           out[i] = convert_to<T>((static_cast<A>(load(row[i])) - mean) * inv * scale[i] + bias[i]);
                         }
                       }
                     }
                   });
    });
  }

 private:
  bool rms_;
  int64_t axis_;
  float epsilon_;
};

// GroupNormalization: statistics per (n, group) over C/groups channels and all positions;
// scale and bias are per group in opset 18 and per channel from opset 21.
class GroupNormKernel final : public Kernel {
 public:
  explicit GroupNormKernel(const KernelInfo& info) : opset_(info.opset()) {
    groups_ = info.attributes().require_int("num_groups");
    epsilon_ = info.attributes().get_float("epsilon", 1e-5f);
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.rank() < 2) {
      throw_error(ErrorCode::kInvalidArgument, "GroupNormalization: X ", shape_to_string(x.shape()),
                  " needs rank >= 2");
    }
    const int64_t n = x.dim(0), c = x.dim(1);
    if (groups_ <= 0 || c % groups_ != 0) {
      throw_error(ErrorCode::kInvalidArgument, "GroupNormalization: ", c, " channels of X ",
                  shape_to_string(x.shape()), " do not split into num_groups=", groups_);
    }
    const int64_t plane = n * c == 0 ? 0 : x.element_count() / (n * c);
    const int64_t per_group = c / groups_;
    const bool per_channel = opset_ >= 21;
    const int64_t params = per_channel ? c : groups_;
    check_channel_param(ctx.input(1), params, "GroupNormalization", "scale", x.shape());
    check_channel_param(ctx.input(2), params, "GroupNormalization", "bias", x.shape());
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    dispatch_dtype_or_throw<NormTypes>(x.dtype(), "GroupNormalization", [&]<typename T>() {
      using A = Acc<T>;
      std::vector<A> scale = read_params<A>(ctx.input(1)), bias = read_params<A>(ctx.input(2));
      const T* px = x.data<T>();
      T* py = y.mutable_data<T>();
      const int64_t span = per_group * plane;
      parallel_for(n * groups_, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, span)),
                   ctx.threads(), [&](int64_t begin, int64_t end) {
                     for (int64_t r = begin; r < end; ++r) {
                       A mean, var;
                       moments(px + r * span, span, mean, var);
                       const A inv = A(1) / std::sqrt(var + static_cast<A>(epsilon_));
                       const int64_t g = r % groups_;
                       for (int64_t k = 0; k < per_group; ++k) {
                         const size_t p = static_cast<size_t>(per_channel ? g * per_group + k : g);
                         const A a = scale[p] * inv;
                         const int64_t off = r * span + k * plane;
                         affine(px + off, py + off, plane, a, bias[p] - mean * a);
                       }
                     }
                   });
    });
  }

 private:
  int64_t opset_, groups_;
  float epsilon_;
};

std::unique_ptr<Kernel> make_layer_norm(const KernelInfo& info) { return std::make_unique<RowNormKernel>(info, false); }
std::unique_ptr<Kernel> make_rms_norm(const KernelInfo& info) { return std::make_unique<RowNormKernel>(info, true); }

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "BatchNormalization", 1, kOpsetOpenEnded, BatchNormKernel);
ONYX_REGISTER_KERNEL("CPU", "", "InstanceNormalization", 1, kOpsetOpenEnded, InstanceNormKernel);
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "LayerNormalization", 17, kOpsetOpenEnded, make_layer_norm);
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "RMSNormalization", 23, kOpsetOpenEnded, make_rms_norm);
ONYX_REGISTER_KERNEL("CPU", "", "GroupNormalization", 18, kOpsetOpenEnded, GroupNormKernel);

}  // namespace onyx
