// Conv: float runs on oneDNN's convolution with layouts of its choosing (format_tag::any),
// reordering only at the op's border; the primitive is built once per input shape (at kernel
// creation when the shape is static) and constant weights are reordered once. Other float
// types use the direct reference kernel.
//
// com.onyx NhwcConv (written by the channels-last pass, runtime/optimizer/channels_last.h) is
// the same convolution with X and Y channels-last ([N, spatial..., C]; W stays [M, C/group,
// k...]), which is the layout oneDNN's fast f32 kernels use, so chains of them skip the reorders
// at every border; an optional residual (input 3, channels-last like Y) is added, and then an
// optional `activation` ("Relu", "LeakyRelu" with `alpha`, "Clip" with
// `clip_min`/`clip_max`, "HardSwish", "Swish" = x·sigmoid(x)) runs inside the primitive.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <type_traits>

#include "onnx_ops/nn_geometry.h"
#include "onnx_ops/op_schema.h"
#include "providers/cpu/activation/fused_activation.h"
#include "providers/cpu/linalg/dnnl_util.h"
#include "providers/cpu/nn/dnnl_conv.h"
#include "providers/cpu/nn/few_channel_conv.h"
#include "onnx_ops/axes.h"
#include "onnx_ops/broadcast.h"
#include "providers/cpu/nn/conv_reference.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

// Shapes of a Conv node checked against each other; throws naming the shapes.
ConvShapes check_conv(const Shape& x, const Shape& w, const Shape* bias, int64_t group,
                      const WindowAttributes& attrs) {
  if (x.size() < 3 || w.size() != x.size()) {
    throw_error(ErrorCode::kInvalidArgument, "Conv: X ", shape_to_string(x), " and W ",
                shape_to_string(w), " must have the same rank >= 3");
  }
  if (group <= 0 || x[1] != w[1] * group || w[0] % group != 0) {
    throw_error(ErrorCode::kInvalidArgument, "Conv: X ", shape_to_string(x), " has ", x[1],
                " channels but W ", shape_to_string(w), " with group ", group, " expects ",
                w[1] * group, " (and W's dim 0 divisible by group)");
  }
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  if (!attrs.kernel_shape.empty() && attrs.kernel_shape != kernel) {
    throw_error(ErrorCode::kInvalidArgument, "Conv: kernel_shape ",
                shape_to_string(attrs.kernel_shape), " differs from W's spatial dims ",
                shape_to_string(w));
  }
  if (bias && (bias->size() != 1 || (*bias)[0] != w[0])) {
    throw_error(ErrorCode::kInvalidArgument, "Conv: B ", shape_to_string(*bias),
                " must be 1-D with W's ", w[0], " output channels");
  }
  std::vector<int64_t> spatial(x.begin() + 2, x.end());
  return {x[0], x[1], w[0], group, forward_window_geometry(attrs, spatial, kernel, "Conv"), false};
}

// [N, spatial..., C] <-> [N, C, spatial...].
Shape channels_first_shape(const Shape& channels_last) {
  Shape shape{channels_last.front(), channels_last.back()};
  shape.insert(shape.end(), channels_last.begin() + 1, channels_last.end() - 1);
  return shape;
}

Shape channels_last_shape(const Shape& channels_first) {
  Shape shape{channels_first.front()};
  shape.insert(shape.end(), channels_first.begin() + 2, channels_first.end());
  shape.push_back(channels_first[1]);
  return shape;
}

// Copies [N, A, B] to [N, B, A] (A or B being the flattened spatial dims).
template <typename T>
void swap_inner(const T* from, T* to, int64_t batch, int64_t a, int64_t b) {
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t i = 0; i < a; ++i) {
      for (int64_t j = 0; j < b; ++j) to[(n * b + j) * a + i] = from[(n * a + i) * b + j];
    }
  }
}

using ConvRefTypes = TypeList<double, Float16, BFloat16>;
using NhwcConvRefTypes = TypeList<float, double, Float16, BFloat16>;

template <typename T>
void add_into(const T* from, T* to, int64_t count) {
  using C = std::conditional_t<std::is_same_v<T, double>, double, float>;  // 16-bit floats add in float
  for (int64_t i = 0; i < count; ++i) to[i] = static_cast<T>(static_cast<C>(to[i]) + static_cast<C>(from[i]));
}

// Copies `from` into `to`, whose shape `from` broadcasts to (same rank).
void expand_into(const Tensor& from, Tensor& to, int threads) {
  std::vector<int64_t> strides = contiguous_strides(from.shape());
  for (size_t d = 0; d < from.rank(); ++d) {
    if (from.dim(d) == 1) strides[d] = 0;
  }
  strided_copy(from.dtype(), from.raw_data(), to.mutable_raw_data(), to.shape(), strides,
               contiguous_strides(to.shape()), threads);
}

class ConvKernel final : public Kernel {
 public:
  explicit ConvKernel(const KernelInfo& info)
      : attrs_(WindowAttributes::read(info.attributes())),
        group_(info.attributes().get_int("group", 1)),
        channels_last_(info.node().domain == kOnyxDomain) {
    if (channels_last_) {
      activation_ = FusedActivation::read(info.attributes(), "NhwcConv");
      has_residual_ = info.has_input(3);
      dnnl_options_.channels_last = true;
      dnnl_options_.activation = activation_.dnnl_algorithm();
      dnnl_options_.activation_alpha = activation_.alpha;
      dnnl_options_.activation_beta = activation_.beta;
      dnnl_options_.residual = has_residual_;
    }
    dnnl_options_.bf16 = info.precision() == Precision::kBf16;
    if (const Tensor* w = info.constant_input(1); w && w->dtype() == DataType::kFloat) weights_ = *w;
    has_bias_ = info.has_input(2);
    if (channels_last_ && weights_.defined() && weights_.rank() == 4 && group_ == 1 &&
        weights_.dim(1) <= FewChannelConv::kMaxChannels && !dnnl_options_.bf16) {
      few_channels_ = std::make_unique<FewChannelConv>(weights_.data<float>(), weights_.dim(0), weights_.dim(1),
                                                       weights_.dim(2), weights_.dim(3));
    }
    // With static shapes the primitive is built now, so the first run pays nothing.
    const TypeInfo& x = info.input_type(0);
    if (weights_.defined() && x.is_tensor() && x.elem_type == DataType::kFloat &&
        x.has_static_shape() && x.static_shape().size() >= 3) {
      Shape x_shape = channels_last_ ? channels_first_shape(x.static_shape()) : x.static_shape();
      Shape bias_shape{weights_.dim(0)};
      ConvShapes s = check_conv(x_shape, weights_.shape(), has_bias_ ? &bias_shape : nullptr, group_, attrs_);
      conv_for(x_shape, s);
    }
  }

  std::string implementation() const override {
    const char* path = path_.load(std::memory_order_relaxed);
    return path ? path : "";
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (x.dtype() != w.dtype() || (bias && bias->dtype() != x.dtype())) {
      throw_error(ErrorCode::kInvalidArgument, "Conv: X is ", dtype_name(x.dtype()), ", W is ",
                  dtype_name(w.dtype()), bias ? ", B is " : "", bias ? dtype_name(bias->dtype()) : "");
    }
    if (channels_last_) return compute_channels_last(ctx, x, w, bias);
    ConvShapes s = check_conv(x.shape(), w.shape(), bias ? &bias->shape() : nullptr, group_, attrs_);
    Shape y_shape{s.batch, s.maps};
    y_shape.insert(y_shape.end(), s.geometry.output.begin(), s.geometry.output.end());
    Tensor& y = ctx.output(0, x.dtype(), y_shape);
    if (y.element_count() == 0) return;
    if (x.dtype() == DataType::kFloat) {
      auto conv = x.element_count() && w.element_count() ? conv_for(x.shape(), s) : nullptr;
      if (conv) {
        Tensor scratch = ctx.scratch(conv->scratch_bytes());
        conv->run(x.data<float>(), w.data<float>(), bias ? bias->data<float>() : nullptr, y.mutable_data<float>(),
                  scratch.mutable_raw_data());
      } else {
        conv_reference<float>(x.data<float>(), w.data<float>(), bias ? bias->data<float>() : nullptr,
                              y.mutable_data<float>(), s.batch, s.channels, s.maps, s.group, s.geometry,
                              ctx.threads());
      }
      return;
    }
    dispatch_dtype_or_throw<ConvRefTypes>(x.dtype(), "Conv", [&]<typename T>() {
      conv_reference<T>(x.data<T>(), w.data<T>(), bias ? bias->data<T>() : nullptr,
                        y.mutable_data<T>(), s.batch, s.channels, s.maps, s.group, s.geometry,
                        ctx.threads());
    });
  }

 private:
  void compute_channels_last(KernelContext& ctx, const Tensor& x, const Tensor& w, const Tensor* bias) {
    if (x.rank() < 3) {
      throw_error(ErrorCode::kInvalidArgument, "NhwcConv: X ", shape_to_string(x.shape()), " must have rank >= 3");
    }
    Shape x_shape = channels_first_shape(x.shape());
    ConvShapes s = check_conv(x_shape, w.shape(), bias ? &bias->shape() : nullptr, group_, attrs_);
    Shape y_nchw{s.batch, s.maps};
    y_nchw.insert(y_nchw.end(), s.geometry.output.begin(), s.geometry.output.end());
    const Shape y_shape = channels_last_shape(y_nchw);
    const Tensor* residual = has_residual_ ? &ctx.input(3) : nullptr;
    if (residual && residual->dtype() != x.dtype()) {
      throw_error(ErrorCode::kInvalidArgument, "NhwcConv: the residual is ", dtype_name(residual->dtype()), " but X is ",
                  dtype_name(x.dtype()));
    }
    if (residual && residual->shape() != y_shape) return compute_broadcast_residual(ctx, x, w, bias, *residual, s, y_shape);
    Tensor& y = ctx.output(0, x.dtype(), y_shape);
    if (y.element_count() == 0) return;
    if (x.dtype() == DataType::kFloat && run_as_matrix_product(ctx, x, bias, residual, s, y)) {
      path_.store(kMatrixProductPath, std::memory_order_relaxed);
      return;
    }
    if (x.dtype() == DataType::kFloat && few_channels_ && FewChannelConv::fits(s)) {
      Tensor scratch = ctx.scratch(few_channels_->scratch_bytes(s));
      few_channels_->run(s, x.data<float>(), bias ? bias->data<float>() : nullptr,
                         residual ? residual->data<float>() : nullptr, y.mutable_data<float>(), activation_,
                         scratch.mutable_raw_data(), ctx.threads());
      path_.store(kFewChannelPath, std::memory_order_relaxed);
      return;
    }
    if (x.dtype() == DataType::kFloat) {
      if (auto conv = x.element_count() && w.element_count() ? conv_for(x_shape, s) : nullptr) {
        Tensor scratch = ctx.scratch(conv->scratch_bytes());
        conv->run(x.data<float>(), w.data<float>(), bias ? bias->data<float>() : nullptr, y.mutable_data<float>(),
                  scratch.mutable_raw_data(), residual ? residual->data<float>() : nullptr);
        path_.store(kOneDnnPath, std::memory_order_relaxed);
        return;
      }
    }
    path_.store(kReferencePath, std::memory_order_relaxed);
    dispatch_dtype_or_throw<NhwcConvRefTypes>(x.dtype(), "NhwcConv", [&]<typename T>() {
      reference_channels_last<T>(ctx, x, w, bias, s, y);
      if (residual) add_into(residual->data<T>(), y.mutable_data<T>(), y.element_count());
      activation_.apply(y.mutable_data<T>(), y.element_count());
    });
  }

  // A 1x1 convolution of images of one pixel (a squeeze-and-excitation block's two layers, a
  // head after global pooling) is a matrix product Y[N, M] = X[N, C] W[M, C]^T: a row times a
  // matrix on batch 1, which DnnlGemm runs as a plain vector product, where the convolution
  // primitive spent 15-20 us of set-up on a few thousand multiplications. Bias, residual and
  // activation as the convolution applies them; false when the case is another.
  bool run_as_matrix_product(KernelContext& ctx, const Tensor& x, const Tensor* bias, const Tensor* residual,
                             const ConvShapes& s, Tensor& y) {
    if (dnnl_options_.bf16 || !weights_.defined() || s.group != 1 || s.geometry.output_count() != 1 ||
        s.geometry.input_count() != 1 || s.channels != weights_.dim(1)) {
      return false;
    }
    for (int64_t k : s.geometry.kernel) {
      if (k != 1) return false;
    }
    const dnnl::algorithm activation = activation_.dnnl_algorithm();
    if (!activation_.name.empty() && activation == dnnl::algorithm::undef) return false;
    DnnlGemm::Spec spec;
    spec.m = s.batch;
    spec.k = s.channels;
    spec.n = s.maps;
    spec.trans_b = true;  // W is [M, C]
    spec.bias = bias != nullptr;
    spec.accumulate = residual != nullptr;  // Y starts as the residual: the sum comes before the activation
    spec.activation = activation;
    spec.activation_alpha = activation_.alpha;
    spec.activation_beta = activation_.beta;
    std::shared_ptr<const DnnlGemm> gemm;
    try {
      gemm = gemms_.get(spec, weights_.data<float>());
    } catch (const dnnl::error&) {
      return false;  // the convolution primitive then
    }
    if (residual) std::copy_n(residual->data<float>(), y.element_count(), y.mutable_data<float>());
    Tensor scratch = ctx.scratch(gemm->scratch_bytes());
    gemm->run(x.data<float>(), nullptr, y.mutable_data<float>(), scratch.mutable_raw_data(),
              bias ? bias->data<float>() : nullptr);
    return true;
  }

  // Y = act(Conv(X) + residual) where the residual broadcasts against the convolution's
  // output (a skip connection of another batch size, say): rare, so the reference kernel.
  void compute_broadcast_residual(KernelContext& ctx, const Tensor& x, const Tensor& w, const Tensor* bias,
                                  const Tensor& residual, const ConvShapes& s, const Shape& conv_shape) {
    if (residual.rank() != conv_shape.size()) {
      throw_error(ErrorCode::kInvalidArgument, "NhwcConv: the residual ", shape_to_string(residual.shape()),
                  " must have Y's rank (Y is ", shape_to_string(conv_shape), ")");
    }
    const Shape y_shape = broadcast_shapes(conv_shape, residual.shape(), "NhwcConv (the residual Add)");
    Tensor& y = ctx.output(0, x.dtype(), y_shape);
    if (y.element_count() == 0) return;
    Tensor conv_y(x.dtype(), conv_shape), residual_y(x.dtype(), y_shape);
    expand_into(residual, residual_y, ctx.threads());
    dispatch_dtype_or_throw<NhwcConvRefTypes>(x.dtype(), "NhwcConv", [&]<typename T>() {
      reference_channels_last<T>(ctx, x, w, bias, s, conv_y);
      expand_into(conv_y, y, ctx.threads());
      add_into(residual_y.data<T>(), y.mutable_data<T>(), y.element_count());
      activation_.apply(y.mutable_data<T>(), y.element_count());
    });
  }

  // The reference kernel is channels-first: transpose around it. Y channels-last, no activation.
  template <typename T>
  void reference_channels_last(KernelContext& ctx, const Tensor& x, const Tensor& w, const Tensor* bias,
                               const ConvShapes& s, Tensor& y) {
    const int64_t x_spatial = s.geometry.input_count(), y_spatial = y.element_count() / (s.batch * s.maps);
    std::vector<T> x_first(static_cast<size_t>(x.element_count())), y_first(static_cast<size_t>(y.element_count()));
    swap_inner(x.data<T>(), x_first.data(), s.batch, x_spatial, s.channels);
    conv_reference<T>(x_first.data(), w.data<T>(), bias ? bias->data<T>() : nullptr, y_first.data(), s.batch,
                      s.channels, s.maps, s.group, s.geometry, ctx.threads());
    swap_inner(y_first.data(), y.mutable_data<T>(), s.batch, s.maps, y_spatial);
  }

  // Null when oneDNN cannot express the case; the reference kernel runs it then. A bf16 session
  // whose case oneDNN has no bf16 kernel for runs it in float.
  std::shared_ptr<const DnnlConv> conv_for(const Shape& x_shape, const ConvShapes& s) {
    return convs_.get(x_shape, [&]() -> std::shared_ptr<DnnlConv> {
      const float* w = weights_.defined() ? weights_.data<float>() : nullptr;
      if (dnnl_options_.bf16) {
        try {
          return std::make_shared<DnnlConv>(s, has_bias_, w, dnnl_options_);
        } catch (const dnnl::error&) {
        }
      }
      DnnlConvOptions float_options = dnnl_options_;
      float_options.bf16 = false;
      try {
        return std::make_shared<DnnlConv>(s, has_bias_, w, float_options);
      } catch (const dnnl::error&) {
        return nullptr;
      }
    });
  }

  // The path the last channels-last run took, for implementation() (profiles, tests).
  static constexpr const char* kOneDnnPath = "oneDNN convolution";
  static constexpr const char* kMatrixProductPath = "matrix product";
  static constexpr const char* kFewChannelPath = "few-channel direct";
  static constexpr const char* kReferencePath = "reference loops";

  WindowAttributes attrs_;
  int64_t group_;
  bool channels_last_;  // NhwcConv
  FusedActivation activation_;
  DnnlConvOptions dnnl_options_;
  bool has_bias_ = false;
  bool has_residual_ = false;  // NhwcConv's input 3: added to Y before the activation
  Tensor weights_;  // constant float weights, packed by each DnnlConv
  PrimitiveCache<Shape, DnnlConv> convs_{16};  // bounded for ever-changing shapes
  DnnlGemmCache gemms_;                          // run_as_matrix_product's, per batch size
  std::unique_ptr<FewChannelConv> few_channels_;  // constant float weights of FewChannelConv::kMaxChannels or fewer
  std::atomic<const char*> path_{nullptr};
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Conv", 1, kOpsetOpenEnded, ConvKernel);
ONYX_REGISTER_KERNEL("CPU", kOnyxDomain, "NhwcConv", 1, kOpsetOpenEnded, ConvKernel);

}  // namespace onyx
