#include "providers/cpu/nn/dnnl_conv.h"

#include <omp.h>

#include <cstring>

#include "providers/cpu/activation/fused_activation.h"
#include "runtime/common/parallel.h"

namespace onyx {

using dnnl::memory;

namespace {

memory::dims plain_strides(const memory::dims& dims) {
  memory::dims strides(dims.size(), 1);
  for (size_t i = dims.size() - 1; i-- > 0;) strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}

memory::desc plain_desc(const memory::dims& dims, memory::data_type type = memory::data_type::f32) {
  return memory::desc(dims, type, plain_strides(dims));
}

// [N, C, spatial...] dims laid out as [N, spatial..., C].
memory::desc channels_last_desc(const memory::dims& dims, memory::data_type type) {
  memory::dims strides(dims.size());
  strides[1] = 1;
  int64_t step = dims[1];
  for (size_t i = dims.size() - 1; i >= 2; --i) {
    strides[i] = step;
    step *= dims[i];
  }
  strides[0] = step;
  return memory::desc(dims, type, strides);
}

memory::desc any_desc(const memory::dims& dims, memory::data_type type = memory::data_type::f32) {
  return memory::desc(dims, type, memory::format_tag::any);
}

// The types at the border and inside the primitive of one convolution.
struct ConvTypes {
  memory::data_type x, w, bias, y;  // as callers pass them
  memory::data_type inner_x, inner_w;  // as the primitive computes on them
};

ConvTypes conv_types(const DnnlConvOptions& options) {
  using type = memory::data_type;
  if (options.integer) return {options.integer->x, type::s8, type::s32, options.integer->y, options.integer->x, type::s8};
  const type inner = options.bf16 ? type::bf16 : type::f32;
  return {type::f32, type::f32, type::f32, type::f32, inner, inner};
}

memory int32_scalar(int32_t value) {
  memory m(memory::desc({1}, memory::data_type::s32, memory::format_tag::x), dnnl_cpu_engine());
  *static_cast<int32_t*>(m.get_data_handle()) = value;
  return m;
}

// Output scales and zero points of an integer convolution (runtime zero points: oneDNN 2.6's
// int8 kernels take no others); the zero points' memories are set in `x_zero`, `y_zero`.
void set_integer_attributes(const DnnlConvOptions::Integer& integer, dnnl::primitive_attr& attr, memory& x_zero,
                            memory& y_zero) {
  if (!integer.scales.empty()) attr.set_output_scales(integer.scales.size() > 1 ? 1 << 1 : 0, integer.scales);
  if (integer.x_zero != 0) {
    attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    x_zero = int32_scalar(integer.x_zero);
  }
  if (integer.y_zero != 0) {
    attr.set_zero_points(DNNL_ARG_DST, 0, {DNNL_RUNTIME_S32_VAL});
    y_zero = int32_scalar(integer.y_zero);
  }
}

}  // namespace

DnnlConv::DnnlConv(const ConvShapes& s, bool has_bias, const void* constant_w, const DnnlConvOptions& options) {
  const ConvTypes types = conv_types(options);
  const WindowGeometry& g = s.geometry;
  const int64_t kernel_count = g.kernel_count();
  const int64_t cg = s.channels / s.group, mg = s.maps / s.group;
  memory::dims x_dims{s.batch, s.channels}, y_dims{s.batch, s.maps}, w_dims, w_strides;
  if (s.group > 1) w_dims = {s.group, mg, cg};
  else w_dims = {s.maps, s.channels};
  memory::dims strides, dilations, pad_l, pad_r, kernel_strides;
  for (size_t d = 0; d < g.rank(); ++d) {
    x_dims.push_back(g.input[d]);
    y_dims.push_back(g.output[d]);
    w_dims.push_back(g.kernel[d]);
    strides.push_back(g.strides[d]);
    dilations.push_back(g.dilations[d] - 1);  // oneDNN counts the gap, ONNX the step
    pad_l.push_back(g.pad_begin(d));
    if (s.transposed) {
      // oneDNN derives the output from the pads; output_padding and output_shape become an
      // adjusted right pad (negative ones are rejected by oneDNN and fall back).
      pad_r.push_back((g.input[d] - 1) * g.strides[d] + g.effective_kernel(d) - g.pad_begin(d) - g.output[d]);
    } else {
      pad_r.push_back(g.pad_end(d));
    }
  }
  x_plain_ = options.channels_last ? channels_last_desc(x_dims, types.x) : plain_desc(x_dims, types.x);
  y_plain_ = options.channels_last ? channels_last_desc(y_dims, types.y) : plain_desc(y_dims, types.y);
  if (s.transposed) {
    // ONNX stores [group][C/group][maps/group][k...]; oneDNN's logical order is (g, o, i, k...).
    kernel_strides = plain_strides(memory::dims(w_dims.end() - static_cast<std::ptrdiff_t>(g.rank()), w_dims.end()));
    if (s.group > 1) w_strides = {cg * mg * kernel_count, kernel_count, mg * kernel_count};
    else w_strides = {kernel_count, s.maps * kernel_count};
    w_strides.insert(w_strides.end(), kernel_strides.begin(), kernel_strides.end());
    w_plain_ = memory::desc(w_dims, types.w, w_strides);
  } else {
    w_plain_ = plain_desc(w_dims, types.w);
  }
  bias_desc_ = has_bias ? plain_desc({s.maps}, types.bias) : memory::desc();
  dnnl::engine& engine = dnnl_cpu_engine();
  memory::desc src_desc, weights_desc, dst_desc;
  dnnl::primitive_attr attr = dnnl_attributes();
  // oneDNN applies post-ops in order: the residual is added before the activation, as in
  // Relu(Conv(x) + skip). It is a sum post-op over Y preloaded with the residual: a binary
  // add of a whole tensor has only oneDNN's reference kernel (2.6), a hundred times slower.
  dnnl::post_ops post_ops;
  if (options.residual) post_ops.append_sum(1.f);
  // SiLU and the logistic run as a pass of their own over Y (runs_after_primitive).
  if (!options.integer && runs_after_primitive(options.activation, options.activation_alpha)) {
    activation_after_ = options.activation;
    activation_after_alpha_ = options.activation_alpha;
  } else if (options.activation != dnnl::algorithm::undef) {
    post_ops.append_eltwise(1.f, options.activation, options.activation_alpha, options.activation_beta);
  }
  if (post_ops.len() > 0) attr.set_post_ops(post_ops);
  if (options.integer) set_integer_attributes(*options.integer, attr, x_zero_, y_zero_);
  memory::desc scratchpad_desc;
  if (s.transposed) {
    for (int64_t p : pad_r) {
      if (p < 0) throw dnnl::error(dnnl_unimplemented, "negative right padding");
    }
    dnnl::deconvolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                           dnnl::algorithm::deconvolution_direct, any_desc(x_dims, types.inner_x),
                                           any_desc(w_dims, types.inner_w), bias_desc_, any_desc(y_dims, types.y), strides,
                                           dilations, pad_l, pad_r);
    dnnl::deconvolution_forward::primitive_desc pd(desc, attr, engine);
    if (options.bf16 || options.integer) require_native_kernel(pd);
    primitive_ = dnnl::deconvolution_forward(pd);
    src_desc = pd.src_desc();
    weights_desc = pd.weights_desc();
    dst_desc = pd.dst_desc();
    scratchpad_desc = pd.scratchpad_desc();
  } else {
    // With a residual, Y is the caller's buffer (the sum post-op reads it), in its layout.
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                         dnnl::algorithm::convolution_direct, any_desc(x_dims, types.inner_x),
                                         any_desc(w_dims, types.inner_w), bias_desc_,
                                         options.residual ? y_plain_ : any_desc(y_dims, types.y), strides,
                                         dilations, pad_l, pad_r);
    dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
    if (options.bf16 || options.integer) require_native_kernel(pd);
    primitive_ = dnnl::convolution_forward(pd);
    src_desc = pd.src_desc();
    weights_desc = pd.weights_desc();
    dst_desc = pd.dst_desc();
    scratchpad_desc = pd.scratchpad_desc();
  }
  scratchpad_ = workspace_.reserve(scratchpad_desc);
  if (src_desc != x_plain_) {
    x_inner_ = workspace_.reserve(src_desc);
    x_reorder_ = DnnlReorder(x_plain_, src_desc, workspace_);
  }
  if (dst_desc != y_plain_) {
    y_inner_ = workspace_.reserve(dst_desc);
    y_reorder_ = DnnlReorder(dst_desc, y_plain_, workspace_);
  }
  if (constant_w) {
    memory w_user(w_plain_, engine, const_cast<void*>(constant_w));
    if (weights_desc != w_plain_) {
      w_packed_ = memory(weights_desc, engine);
      reorder_now(w_user, w_packed_);
    } else {
      w_packed_ = w_user;  // the kernel keeps the constant tensor alive
    }
  } else if (weights_desc != w_plain_) {
    w_inner_ = workspace_.reserve(weights_desc);
    w_reorder_ = DnnlReorder(w_plain_, weights_desc, workspace_);
  }
}

void DnnlConv::run(const void* x, const void* w, const void* bias, void* y, void* scratch,
                   const void* residual) const {
  dnnl::engine& engine = dnnl_cpu_engine();
  dnnl::stream& stream = dnnl_cpu_stream();
  memory x_mem(x_plain_, engine, const_cast<void*>(x));
  if (x_inner_ >= 0) {
    memory inner = workspace_.at(x_inner_, scratch);
    x_reorder_.execute(stream, x_mem, inner, workspace_, scratch);
    x_mem = inner;
  }
  memory w_mem = w_packed_;
  if (!w_mem) {
    w_mem = memory(w_plain_, engine, const_cast<void*>(w));
    if (w_inner_ >= 0) {
      memory inner = workspace_.at(w_inner_, scratch);
      w_reorder_.execute(stream, w_mem, inner, workspace_, scratch);
      w_mem = inner;
    }
  }
  memory y_user(y_plain_, engine, y);
  memory y_mem = y_inner_ >= 0 ? workspace_.at(y_inner_, scratch) : y_user;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_DST, y_mem}};
  if (bias) args[DNNL_ARG_BIAS] = memory(bias_desc_, engine, const_cast<void*>(bias));
  if (x_zero_) args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC] = x_zero_;
  if (y_zero_) args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST] = y_zero_;
  if (scratchpad_ >= 0) args[DNNL_ARG_SCRATCHPAD] = workspace_.at(scratchpad_, scratch);
  if (residual) std::memcpy(y, residual, y_plain_.get_size());
  primitive_.execute(stream, args);
  if (y_inner_ >= 0) y_reorder_.execute(stream, y_mem, y_user, workspace_, scratch);
  stream.wait();
  if (activation_after_ != dnnl::algorithm::undef) {
    float* values = static_cast<float*>(y);
    const int64_t count = static_cast<int64_t>(y_plain_.get_size() / sizeof(float));
    constexpr int64_t kGrain = int64_t{1} << 15;  // ~10 us of SiLU: less is not worth a parallel region
    parallel_for(count, kGrain, omp_get_max_threads(), [&](int64_t begin, int64_t end) {
      apply_eltwise(activation_after_, activation_after_alpha_, 0.f, values + begin, end - begin);
    });
  }
}

}  // namespace onyx
