// ConvTranspose: float through oneDNN's deconvolution (built once per input shape, constant
// weights reordered once), other float types and cases oneDNN rejects through the scatter
// reference kernel.
#include <map>

#include "onnx_ops/nn_geometry.h"
#include "providers/cpu/nn/dnnl_conv.h"
#include "providers/cpu/nn/conv_reference.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

using ConvTransposeTypes = TypeList<float, double, Float16, BFloat16>;

class ConvTransposeKernel final : public Kernel {
 public:
  explicit ConvTransposeKernel(const KernelInfo& info)
      : attrs_(WindowAttributes::read(info.attributes())),
        group_(info.attributes().get_int("group", 1)),
        output_padding_(info.attributes().get_ints("output_padding")),
        output_shape_(info.attributes().get_ints("output_shape")) {
    if (const Tensor* w = info.constant_input(1); w && w->dtype() == DataType::kFloat) weights_ = *w;
    has_bias_ = info.has_input(2);
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    const Shape& xs = x.shape();
    const Shape& ws = w.shape();
    if (xs.size() < 3 || ws.size() != xs.size()) {
      throw_error(ErrorCode::kInvalidArgument, "ConvTranspose: X ", shape_to_string(xs), " and W ",
                  shape_to_string(ws), " must have the same rank >= 3");
    }
    if (group_ <= 0 || ws[0] != xs[1] || xs[1] % group_ != 0) {
      throw_error(ErrorCode::kInvalidArgument, "ConvTranspose: X ", shape_to_string(xs), " has ", xs[1],
                  " channels but W ", shape_to_string(ws), " has ", ws[0], " (group ", group_, ")");
    }
    if (x.dtype() != w.dtype()) {
      throw_error(ErrorCode::kInvalidArgument, "ConvTranspose: X is ", dtype_name(x.dtype()), " but W is ",
                  dtype_name(w.dtype()));
    }
    const int64_t maps = ws[1] * group_;
    if (bias && (bias->element_count() != maps || bias->dtype() != x.dtype())) {
      throw_error(ErrorCode::kInvalidArgument, "ConvTranspose: B ", shape_to_string(bias->shape()),
                  " must hold the ", maps, " output channels");
    }
    std::vector<int64_t> spatial(xs.begin() + 2, xs.end()), kernel(ws.begin() + 2, ws.end());
    if (!attrs_.kernel_shape.empty() && attrs_.kernel_shape != kernel) {
      throw_error(ErrorCode::kInvalidArgument, "ConvTranspose: kernel_shape ",
                  shape_to_string(attrs_.kernel_shape), " differs from W ", shape_to_string(ws));
    }
    WindowGeometry g = transpose_window_geometry(attrs_, spatial, kernel, output_padding_, output_shape_,
                                                 "ConvTranspose");
    // The reference kernel walks the transposed op with input/output swapped in meaning:
    // `g.input` is X's spatial size and `g.output` Y's.
    Shape ys{xs[0], maps};
    ys.insert(ys.end(), g.output.begin(), g.output.end());
    Tensor& y = ctx.output(0, x.dtype(), ys);
    if (y.element_count() == 0) return;
    if (x.dtype() == DataType::kFloat && x.element_count() > 0 && w.element_count() > 0) {
      ConvShapes s{xs[0], xs[1], maps, group_, g, true};
      if (auto conv = conv_for(xs, s)) {
        Tensor scratch = ctx.scratch(conv->scratch_bytes());
        conv->run(x.data<float>(), w.data<float>(), bias ? bias->data<float>() : nullptr, y.mutable_data<float>(),
                  scratch.mutable_raw_data());
        return;
      }
    }
    dispatch_dtype_or_throw<ConvTransposeTypes>(x.dtype(), "ConvTranspose", [&]<typename T>() {
      conv_transpose_reference<T>(x.data<T>(), w.data<T>(), bias ? bias->data<T>() : nullptr,
                                  y.mutable_data<T>(), xs[0], xs[1], maps, group_, g, ctx.threads());
    });
  }

 private:
  std::shared_ptr<const DnnlConv> conv_for(const Shape& x_shape, const ConvShapes& s) {
    return convs_.get(x_shape, [&]() -> std::shared_ptr<DnnlConv> {
      try {
        return std::make_shared<DnnlConv>(s, has_bias_, weights_.defined() ? weights_.data<float>() : nullptr);
      } catch (const dnnl::error&) {
        return nullptr;  // e.g. output_shape larger than the last window reaches: the reference handles it
      }
    });
  }

  WindowAttributes attrs_;
  int64_t group_;
  std::vector<int64_t> output_padding_, output_shape_;
  Tensor weights_;
  bool has_bias_ = false;
  PrimitiveCache<Shape, DnnlConv> convs_{16};
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "ConvTranspose", 1, kOpsetOpenEnded, ConvTransposeKernel);

}  // namespace onyx
