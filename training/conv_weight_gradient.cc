// com.onyx.training::ConvWeightGrad(X, dY, W) -> dW: the weight gradient of Conv(X, W) with
// the Conv's own attributes (W is read for its shape only). The portable rule
// (training/gradient_rules/conv.cc) writes it as a Conv of the transposed input with the
// transposed output gradient as filters, which makes oneDNN reorder that large "filter" each
// step; TrainingSession's graphs (GradientGraphOptions::onyx_ops) use this op instead: for float
// a cached oneDNN convolution_backward_weights primitive, as PyTorch and onnxruntime use;
// other types, and cases oneDNN rejects, take the plain loop below.
#include <memory>

#include <oneapi/dnnl/dnnl.hpp>

#include "onnx_ops/nn_geometry.h"
#include "onnx_ops/op_schema.h"
#include "providers/cpu/linalg/dnnl_util.h"
#include "providers/cpu/nn/conv_reference.h"
#include "providers/kernel_registry.h"
#include "training/conv_weight_gradient.h"

namespace onyx::training {
namespace {

using dnnl::memory;

struct WeightGradShapes {
  int64_t batch, channels, maps, group;
  WindowGeometry g;
};

WeightGradShapes check_shapes(const Shape& x, const Shape& dy, const Shape& w, int64_t group,
                              const WindowAttributes& attrs) {
  ONYX_CHECK(x.size() >= 3 && w.size() == x.size() && dy.size() == x.size(), ErrorCode::kInvalidArgument,
             "ConvWeightGrad: X ", shape_to_string(x), ", dY ", shape_to_string(dy), " and W ",
             shape_to_string(w), " must have one rank >= 3");
  ONYX_CHECK(group > 0 && x[1] == w[1] * group && w[0] % group == 0 && dy[0] == x[0] && dy[1] == w[0],
             ErrorCode::kInvalidArgument, "ConvWeightGrad: X ", shape_to_string(x), ", dY ", shape_to_string(dy),
             " and W ", shape_to_string(w), " do not fit a Conv with group ", group);
  std::vector<int64_t> spatial(x.begin() + 2, x.end()), kernel(w.begin() + 2, w.end());
  WeightGradShapes s{x[0], x[1], w[0], group, forward_window_geometry(attrs, spatial, kernel, "ConvWeightGrad")};
  ONYX_CHECK(std::equal(s.g.output.begin(), s.g.output.end(), dy.begin() + 2), ErrorCode::kInvalidArgument,
             "ConvWeightGrad: dY ", shape_to_string(dy), " is not the Conv's output shape for X ", shape_to_string(x));
  return s;
}

// dW[m, c, k] = sum over the batch and the outputs of dY[n, m, o] * X[n, group's c, window(o) + k].
template <typename T>
void weight_gradient_reference(const T* x, const T* dy, T* dw, const WeightGradShapes& s, int threads) {
  using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
  const WindowGeometry& g = s.g;
  const int64_t in_size = g.input_count(), out_size = g.output_count(), k_size = g.kernel_count();
  const int64_t cg = s.channels / s.group, mg = s.maps / s.group;
  const std::vector<int64_t> offsets = kernel_offsets(g);
  const size_t rank = g.rank();
  parallel_for(s.maps * cg, 1, threads, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> start(rank);
    for (int64_t mc = begin; mc < end; ++mc) {
      const int64_t m = mc / cg, c = m / mg * cg + mc % cg;
      for (int64_t k = 0; k < k_size; ++k) {
        Acc sum = 0;
        for (int64_t n = 0; n < s.batch; ++n) {
          const T* xp = x + (n * s.channels + c) * in_size;
          const T* dyp = dy + (n * s.maps + m) * out_size;
          for (int64_t o = 0; o < out_size; ++o) {
            window_start(g, o, start.data());
            const int64_t i = window_input_index(g, start.data(), offsets.data() + static_cast<size_t>(k) * rank);
            if (i >= 0) sum += static_cast<Acc>(load(xp[i])) * static_cast<Acc>(load(dyp[o]));
          }
        }
        dw[mc * k_size + k] = convert_to<T>(sum);
      }
    }
  });
}

// One shape's oneDNN backward-weights convolution, with reorders at the plain NCHW border.
class DnnlWeightGradient {
 public:
  explicit DnnlWeightGradient(const WeightGradShapes& s) {
    const WindowGeometry& g = s.g;
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
    auto plain = [](const memory::dims& dims) {
      memory::dims strides(dims.size(), 1);
      for (size_t d = dims.size() - 1; d-- > 0;) strides[d] = strides[d + 1] * dims[d + 1];
      return memory::desc(dims, memory::data_type::f32, strides);
    };
    auto any = [](const memory::dims& dims) { return memory::desc(dims, memory::data_type::f32, memory::format_tag::any); };
    x_plain_ = plain(x_dims);
    y_plain_ = plain(y_dims);
    w_plain_ = plain(w_dims);
    dnnl::engine& engine = dnnl_cpu_engine();
    dnnl::convolution_forward::desc forward(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                            any(x_dims), any(w_dims), any(y_dims), strides, dilations, pad_l, pad_r);
    dnnl::convolution_forward::primitive_desc forward_pd(forward, engine);
    dnnl::convolution_backward_weights::desc backward(dnnl::algorithm::convolution_direct, any(x_dims), any(w_dims),
                                                      any(y_dims), strides, dilations, pad_l, pad_r);
    dnnl::convolution_backward_weights::primitive_desc pd(backward, dnnl_attributes(), engine, forward_pd);
    primitive_ = dnnl::convolution_backward_weights(pd);
    scratchpad_ = workspace_.reserve(pd.scratchpad_desc());
    // Each border whose layout differs gets a work buffer and a reorder (into it, or out of it).
    auto border = [&](const memory::desc& outer, const memory::desc& inner, bool into, int& buffer, DnnlReorder& reorder) {
      if (inner == outer) return;
      buffer = workspace_.reserve(inner);
      reorder = into ? DnnlReorder(outer, inner, workspace_) : DnnlReorder(inner, outer, workspace_);
    };
    border(x_plain_, pd.src_desc(), true, x_inner_, x_reorder_);
    border(y_plain_, pd.diff_dst_desc(), true, y_inner_, y_reorder_);
    border(w_plain_, pd.diff_weights_desc(), false, w_inner_, w_reorder_);
  }

  size_t scratch_bytes() const { return workspace_.bytes(); }

  // `scratch`: scratch_bytes() bytes of this call's own; calls may overlap.
  void run(const float* x, const float* dy, float* dw, void* scratch) const {
    dnnl::engine& engine = dnnl_cpu_engine();
    dnnl::stream& stream = dnnl_cpu_stream();
    memory x_mem(x_plain_, engine, const_cast<float*>(x)), y_mem(y_plain_, engine, const_cast<float*>(dy));
    memory w_mem(w_plain_, engine, dw);
    if (x_inner_ >= 0) {
      memory inner = workspace_.at(x_inner_, scratch);
      x_reorder_.execute(stream, x_mem, inner, workspace_, scratch);
      x_mem = inner;
    }
    if (y_inner_ >= 0) {
      memory inner = workspace_.at(y_inner_, scratch);
      y_reorder_.execute(stream, y_mem, inner, workspace_, scratch);
      y_mem = inner;
    }
    memory w_out = w_inner_ >= 0 ? workspace_.at(w_inner_, scratch) : w_mem;
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, x_mem}, {DNNL_ARG_DIFF_DST, y_mem}, {DNNL_ARG_DIFF_WEIGHTS, w_out}};
    if (scratchpad_ >= 0) args[DNNL_ARG_SCRATCHPAD] = workspace_.at(scratchpad_, scratch);
    primitive_.execute(stream, args);
    if (w_inner_ >= 0) w_reorder_.execute(stream, w_out, w_mem, workspace_, scratch);
    stream.wait();
  }

 private:
  dnnl::primitive primitive_;
  DnnlReorder x_reorder_, y_reorder_, w_reorder_;
  memory::desc x_plain_, y_plain_, w_plain_;
  DnnlWorkspace workspace_;
  int x_inner_ = -1, y_inner_ = -1, w_inner_ = -1, scratchpad_ = -1;
};

class ConvWeightGradKernel final : public Kernel {
 public:
  explicit ConvWeightGradKernel(const KernelInfo& info)
      : attrs_(WindowAttributes::read(info.attributes())), group_(info.attributes().get_int("group", 1)) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& dy = ctx.input(1);
    const Tensor& w = ctx.input(2);
    ONYX_CHECK(x.dtype() == dy.dtype() && x.dtype() == w.dtype(), ErrorCode::kInvalidArgument,
               "ConvWeightGrad: X, dY and W must share one type, got ", dtype_name(x.dtype()), ", ",
               dtype_name(dy.dtype()), " and ", dtype_name(w.dtype()));
    WeightGradShapes s = check_shapes(x.shape(), dy.shape(), w.shape(), group_, attrs_);
    Tensor& dw = ctx.output(0, w.dtype(), w.shape());
    if (dw.element_count() == 0) return;
    if (x.dtype() == DataType::kFloat && x.element_count() > 0) {
      if (auto primitive = primitive_for(x.shape(), dy.shape(), w.shape(), s)) {
        Tensor scratch = ctx.scratch(primitive->scratch_bytes());
        return primitive->run(x.data<float>(), dy.data<float>(), dw.mutable_data<float>(), scratch.mutable_raw_data());
      }
    }
    dispatch_dtype_or_throw<TypeList<float, double, Float16, BFloat16>>(x.dtype(), "ConvWeightGrad", [&]<typename T>() {
      weight_gradient_reference<T>(x.data<T>(), dy.data<T>(), dw.mutable_data<T>(), s, ctx.threads());
    });
  }

 private:
  std::shared_ptr<const DnnlWeightGradient> primitive_for(const Shape& x, const Shape& dy, const Shape& w,
                                                          const WeightGradShapes& s) {
    Shape key = x;
    key.insert(key.end(), dy.begin(), dy.end());
    key.insert(key.end(), w.begin(), w.end());
    return primitives_.get(key, [&]() -> std::shared_ptr<DnnlWeightGradient> {
      try {
        return std::make_shared<DnnlWeightGradient>(s);
      } catch (const dnnl::error&) {
        return nullptr;  // oneDNN cannot express this case: the reference loop serves it
      }
    });
  }

  WindowAttributes attrs_;
  int64_t group_;
  PrimitiveCache<Shape, DnnlWeightGradient> primitives_{16};  // bounded for ever-changing shapes
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", kTrainingDomain, kConvWeightGradOp, 1, kOpsetOpenEnded, ConvWeightGradKernel);

// dW has W's type and shape.
ONYX_REGISTER_SHAPE_RULE(kTrainingDomain, kConvWeightGradOp, [](InferenceContext& ctx) {
  ctx.set_output_type(0, ctx.input_type(2));
});

}  // namespace onyx::training
