// Conv: float runs on oneDNN's convolution with layouts of its choosing (format_tag::any),
// reordering only at the op's border; the primitive is built once per input shape (at kernel
// creation when the shape is static) and constant weights are reordered once. Other float
// types use the direct reference kernel.
#include <map>
#include <mutex>

#include "onnx_ops/nn_geometry.h"
#include "providers/cpu/nn/dnnl_conv.h"
#include "providers/cpu/nn/conv_reference.h"
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

using ConvRefTypes = TypeList<double, Float16, BFloat16>;

class ConvKernel final : public Kernel {
 public:
  explicit ConvKernel(const KernelInfo& info)
      : attrs_(WindowAttributes::read(info.attributes())),
        group_(info.attributes().get_int("group", 1)) {
    if (const Tensor* w = info.constant_input(1); w && w->dtype() == DataType::kFloat) weights_ = *w;
    has_bias_ = info.has_input(2);
    // With static shapes the primitive is built now, so the first run pays nothing.
    const TypeInfo& x = info.input_type(0);
    if (weights_.defined() && x.is_tensor() && x.elem_type == DataType::kFloat &&
        x.has_static_shape()) {
      Shape bias_shape{weights_.dim(0)};
      ConvShapes s = check_conv(x.static_shape(), weights_.shape(), has_bias_ ? &bias_shape : nullptr,
                                group_, attrs_);
      conv_for(x.static_shape(), s);
    }
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (x.dtype() != w.dtype() || (bias && bias->dtype() != x.dtype())) {
      throw_error(ErrorCode::kInvalidArgument, "Conv: X is ", dtype_name(x.dtype()), ", W is ",
                  dtype_name(w.dtype()), bias ? ", B is " : "", bias ? dtype_name(bias->dtype()) : "");
    }
    ConvShapes s = check_conv(x.shape(), w.shape(), bias ? &bias->shape() : nullptr, group_, attrs_);
    Shape y_shape{s.batch, s.maps};
    y_shape.insert(y_shape.end(), s.geometry.output.begin(), s.geometry.output.end());
    Tensor& y = ctx.output(0, x.dtype(), y_shape);
    if (y.element_count() == 0) return;
    if (x.dtype() == DataType::kFloat) {
      DnnlConv* conv = x.element_count() && w.element_count() ? conv_for(x.shape(), s) : nullptr;
      if (conv) {
        conv->run(x.data<float>(), w.data<float>(), bias ? bias->data<float>() : nullptr, y.mutable_data<float>());
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
  // Null when oneDNN cannot express the case; the reference kernel runs it then.
  DnnlConv* conv_for(const Shape& x_shape, const ConvShapes& s) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = convs_.find(x_shape);
    if (it == convs_.end()) {
      if (convs_.size() >= 16) convs_.clear();  // bound the cache for ever-changing shapes
      std::unique_ptr<DnnlConv> conv;
      try {
        conv = std::make_unique<DnnlConv>(s, has_bias_, weights_.defined() ? weights_.data<float>() : nullptr);
      } catch (const dnnl::error&) {
      }
      it = convs_.emplace(x_shape, std::move(conv)).first;
    }
    return it->second.get();
  }

  WindowAttributes attrs_;
  int64_t group_;
  bool has_bias_ = false;
  Tensor weights_;  // constant float weights, packed by each DnnlConv
  std::mutex mutex_;
  std::map<Shape, std::unique_ptr<DnnlConv>> convs_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Conv", 1, kOpsetOpenEnded, ConvKernel);

}  // namespace onyx
