// Conv: float runs on oneDNN's convolution with layouts of its choosing (format_tag::any),
// reordering only at the op's border; the primitive is built once per input shape (at kernel
// creation when the shape is static) and constant weights are reordered once. Other float
// types use the direct reference kernel.
#include <map>
#include <mutex>

#include "onnx_ops/nn_geometry.h"
#include "providers/cpu/linalg/dnnl_util.h"
#include "providers/cpu/nn/conv_reference.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

using dnnl::memory;

memory::dims plain_strides(const memory::dims& dims) {
  memory::dims strides(dims.size(), 1);
  for (size_t i = dims.size() - 1; i-- > 0;) strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}

memory::desc plain_desc(const memory::dims& dims) {
  return memory::desc(dims, memory::data_type::f32, plain_strides(dims));
}

// Shapes of a Conv node checked against each other; throws naming the shapes.
struct ConvShapes {
  int64_t batch, channels, maps, group;
  WindowGeometry geometry;
};

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
  return {x[0], x[1], w[0], group, forward_window_geometry(attrs, spatial, kernel, "Conv")};
}

// One oneDNN convolution for one input shape, with the scratch memory its border reorders need.
class DnnlConv {
 public:
  DnnlConv(const ConvShapes& s, bool has_bias, const float* constant_w) {
    const WindowGeometry& g = s.geometry;
    memory::dims x_dims{s.batch, s.channels}, y_dims{s.batch, s.maps}, w_dims;
    if (s.group > 1) w_dims = {s.group, s.maps / s.group, s.channels / s.group};
    else w_dims = {s.maps, s.channels};
    memory::dims strides, dilations, pad_l, pad_r;
    for (size_t d = 0; d < g.rank(); ++d) {
      x_dims.push_back(g.input[d]);
      y_dims.push_back(g.output[d]);
      w_dims.push_back(g.kernel[d]);
      strides.push_back(g.strides[d]);
      dilations.push_back(g.dilations[d] - 1);  // oneDNN counts the gap, ONNX the step
      pad_l.push_back(g.pad_begin(d));
      pad_r.push_back(g.pad_end(d));
    }
    x_plain_ = plain_desc(x_dims);
    y_plain_ = plain_desc(y_dims);
    w_plain_ = plain_desc(w_dims);
    auto any = [](const memory::dims& dims) {
      return memory::desc(dims, memory::data_type::f32, memory::format_tag::any);
    };
    memory::desc b_desc = has_bias ? plain_desc({s.maps}) : memory::desc();
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                         dnnl::algorithm::convolution_direct, any(x_dims),
                                         any(w_dims), b_desc, any(y_dims), strides, dilations,
                                         pad_l, pad_r);
    dnnl::engine& engine = dnnl_cpu_engine();
    pd_ = dnnl::convolution_forward::primitive_desc(desc, engine);
    primitive_ = dnnl::convolution_forward(pd_);
    if (pd_.src_desc() != x_plain_) x_inner_ = memory(pd_.src_desc(), engine);
    if (pd_.dst_desc() != y_plain_) y_inner_ = memory(pd_.dst_desc(), engine);
    if (pd_.weights_desc() != w_plain_) w_inner_ = memory(pd_.weights_desc(), engine);
    if (constant_w) {
      load_weights(constant_w);
      weights_packed_ = true;
    }
  }

  void run(const float* x, const float* w, const float* bias, float* y) {
    std::lock_guard<std::mutex> lock(mutex_);  // the scratch memories are shared
    dnnl::engine& engine = dnnl_cpu_engine();
    dnnl::stream& stream = dnnl_cpu_stream();
    memory x_user(x_plain_, engine, const_cast<float*>(x));
    memory y_user(y_plain_, engine, y);
    memory x_mem = x_user;
    if (x_inner_) {
      dnnl::reorder(x_user, x_inner_).execute(stream, x_user, x_inner_);
      x_mem = x_inner_;
    }
    memory w_mem;
    if (weights_packed_) {
      w_mem = w_inner_ ? w_inner_ : w_const_;
    } else if (w_inner_) {
      memory w_user(w_plain_, engine, const_cast<float*>(w));
      dnnl::reorder(w_user, w_inner_).execute(stream, w_user, w_inner_);
      w_mem = w_inner_;
    } else {
      w_mem = memory(w_plain_, engine, const_cast<float*>(w));
    }
    memory y_mem = y_inner_ ? y_inner_ : y_user;
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_WEIGHTS, w_mem},
                                         {DNNL_ARG_DST, y_mem}};
    if (bias) args[DNNL_ARG_BIAS] = memory(pd_.bias_desc(), engine, const_cast<float*>(bias));
    primitive_.execute(stream, args);
    if (y_inner_) dnnl::reorder(y_inner_, y_user).execute(stream, y_inner_, y_user);
    stream.wait();
  }

 private:
  void load_weights(const float* w) {
    dnnl::engine& engine = dnnl_cpu_engine();
    memory w_user(w_plain_, engine, const_cast<float*>(w));
    if (w_inner_) {
      dnnl::reorder(w_user, w_inner_).execute(dnnl_cpu_stream(), w_user, w_inner_);
      dnnl_cpu_stream().wait();
    } else {
      w_const_ = w_user;  // the kernel keeps the constant tensor alive
    }
  }

  std::mutex mutex_;
  dnnl::convolution_forward::primitive_desc pd_;
  dnnl::convolution_forward primitive_;
  memory::desc x_plain_, y_plain_, w_plain_;
  memory x_inner_, y_inner_, w_inner_, w_const_;
  bool weights_packed_ = false;
};

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
      if (x.element_count() == 0 || w.element_count() == 0) {
        return conv_reference<float>(x.data<float>(), w.data<float>(),
                                     bias ? bias->data<float>() : nullptr, y.mutable_data<float>(),
                                     s.batch, s.channels, s.maps, s.group, s.geometry, ctx.threads());
      }
      conv_for(x.shape(), s).run(x.data<float>(), w.data<float>(),
                                 bias ? bias->data<float>() : nullptr, y.mutable_data<float>());
      return;
    }
    dispatch_dtype_or_throw<ConvRefTypes>(x.dtype(), "Conv", [&]<typename T>() {
      conv_reference<T>(x.data<T>(), w.data<T>(), bias ? bias->data<T>() : nullptr,
                        y.mutable_data<T>(), s.batch, s.channels, s.maps, s.group, s.geometry,
                        ctx.threads());
    });
  }

 private:
  DnnlConv& conv_for(const Shape& x_shape, const ConvShapes& s) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = convs_.find(x_shape);
    if (it == convs_.end()) {
      if (convs_.size() >= 16) convs_.clear();  // bound the cache for ever-changing shapes
      it = convs_.emplace(x_shape, std::make_unique<DnnlConv>(
                                       s, has_bias_, weights_.defined() ? weights_.data<float>() : nullptr))
               .first;
    }
    return *it->second;
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
