// ConvTranspose through the scatter reference kernel for every float type. (A oneDNN
// deconvolution path for float is a later optimisation; correctness first.)
#include "onnx_ops/nn_geometry.h"
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
        output_shape_(info.attributes().get_ints("output_shape")) {}

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
    dispatch_dtype_or_throw<ConvTransposeTypes>(x.dtype(), "ConvTranspose", [&]<typename T>() {
      conv_transpose_reference<T>(x.data<T>(), w.data<T>(), bias ? bias->data<T>() : nullptr,
                                  y.mutable_data<T>(), xs[0], xs[1], maps, group_, g, ctx.threads());
    });
  }

 private:
  WindowAttributes attrs_;
  int64_t group_;
  std::vector<int64_t> output_padding_, output_shape_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "ConvTranspose", 1, kOpsetOpenEnded, ConvTransposeKernel);

}  // namespace onyx
