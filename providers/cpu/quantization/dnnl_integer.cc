#include "providers/cpu/quantization/dnnl_integer.h"

#include "onnx_ops/linalg.h"
#include "onnx_ops/nn_geometry.h"
#include "providers/cpu/quantization/quant_values.h"

namespace onyx {

using dnnl::memory;

namespace {

// The node's inputs by role: QLinear* (x, x_scale, x_zero, w, w_scale, w_zero, y_scale, y_zero,
// bias) and *Integer (x, w, x_zero, w_zero).
struct Inputs {
  size_t x_zero, w, w_zero;
  int x_scale = -1, w_scale = -1, y_scale = -1, y_zero = -1, bias = -1;
};

Inputs inputs_of(bool qlinear) {
  if (qlinear) return {2, 3, 5, 1, 4, 6, 7, 8};
  return {2, 1, 3};
}

std::optional<memory::data_type> int8_type(DataType type) {
  if (type == DataType::kUInt8) return memory::data_type::u8;
  if (type == DataType::kInt8) return memory::data_type::s8;
  return std::nullopt;
}

// A constant input's values as floats, or nullopt when the input is given but not constant.
// An absent input reads as `absent`.
std::optional<std::vector<float>> constant_values(const KernelInfo& info, int i, std::vector<float> absent) {
  if (i < 0 || !info.has_input(static_cast<size_t>(i))) return absent;
  const Tensor* t = info.constant_input(static_cast<size_t>(i));
  if (!t) return std::nullopt;
  return read_as_float(*t, info.node().op_type);
}

}  // namespace

std::unique_ptr<DnnlIntegerConv> DnnlIntegerConv::create(const KernelInfo& info, bool matmul, bool qlinear,
                                                         const WindowAttributes* window, int64_t group,
                                                         bool channels_last) {
  const Inputs in = inputs_of(qlinear);
  const Tensor* w = info.constant_input(in.w);
  const TypeInfo& x_type = info.input_type(0);
  if (!w || w->dtype() != DataType::kInt8 || !x_type.is_tensor() || !int8_type(x_type.elem_type)) return nullptr;
  if (matmul ? w->rank() != 2 : w->rank() < 3 || group < 1) return nullptr;
  const int64_t maps = matmul ? w->dim(1) : w->dim(0);
  // A zero point of another type than its data is an error the reference reports.
  const Tensor* given_x_zero = info.has_input(in.x_zero) ? info.constant_input(in.x_zero) : nullptr;
  if (given_x_zero && given_x_zero->dtype() != x_type.elem_type) return nullptr;
  auto x_zero = constant_values(info, static_cast<int>(in.x_zero), {0.f});
  auto w_zero = constant_values(info, static_cast<int>(in.w_zero), {0.f});
  if (!x_zero || x_zero->size() != 1 || !w_zero) return nullptr;
  for (float z : *w_zero) {
    if (z != 0.f) return nullptr;  // oneDNN's int8 kernels take no weight zero points
  }
  auto result = std::unique_ptr<DnnlIntegerConv>(new DnnlIntegerConv());
  DnnlConvOptions::Integer integer;
  integer.x = *int8_type(x_type.elem_type);
  integer.x_zero = static_cast<int32_t>((*x_zero)[0]);
  result->x_type_ = x_type.elem_type;
  if (qlinear) {
    // Scales in float, as the reference multiplies them (requant_multiplier's float case).
    for (int i : {in.x_scale, in.w_scale, in.y_scale}) {
      const Tensor* scale = info.constant_input(static_cast<size_t>(i));
      if (!scale || scale->dtype() != DataType::kFloat) return nullptr;
    }
    const std::vector<float> sx = *constant_values(info, in.x_scale, {});
    const std::vector<float> sw = *constant_values(info, in.w_scale, {});
    const std::vector<float> sy = *constant_values(info, in.y_scale, {});
    if (sx.size() != 1 || sy.size() != 1 || (sw.size() != 1 && static_cast<int64_t>(sw.size()) != maps)) return nullptr;
    for (float s : sw) integer.scales.push_back((sx[0] * s) / sy[0]);
    const Tensor* y_zero = info.has_input(static_cast<size_t>(in.y_zero)) ? info.constant_input(static_cast<size_t>(in.y_zero))
                                                                          : nullptr;
    if (info.has_input(static_cast<size_t>(in.y_zero)) && (!y_zero || y_zero->element_count() != 1)) return nullptr;
    result->y_type_ = y_zero ? y_zero->dtype() : x_type.elem_type;
    if (!int8_type(result->y_type_)) return nullptr;
    integer.y = *int8_type(result->y_type_);
    integer.y_zero = y_zero ? static_cast<int32_t>(read_as_float(*y_zero, "QLinear")[0]) : 0;
    if (info.has_input(static_cast<size_t>(in.bias))) {
      const Tensor* bias = info.constant_input(static_cast<size_t>(in.bias));
      if (!bias || bias->dtype() != DataType::kInt32 || bias->element_count() != maps) return nullptr;
      result->bias_ = *bias;
    }
  } else {
    result->y_type_ = DataType::kInt32;
    integer.y = memory::data_type::s32;
  }
  if (matmul) {
    // B [K, N] -> W [N, K, 1, 1]: output map j of the 1x1 convolution is B's column j.
    const int64_t k = w->dim(0), n = w->dim(1);
    result->weights_ = Tensor(DataType::kInt8, {n, k, 1, 1});
    const int8_t* b = w->data<int8_t>();
    int8_t* t = result->weights_.mutable_data<int8_t>();
    for (int64_t i = 0; i < k; ++i) {
      for (int64_t j = 0; j < n; ++j) t[j * k + i] = b[i * n + j];
    }
    result->options_.channels_last = true;
  } else {
    result->weights_ = *w;
    result->options_.channels_last = channels_last;
    result->channels_last_ = channels_last;
  }
  result->matmul_ = matmul;
  result->window_ = window;
  result->group_ = group;
  result->options_.integer = integer;
  return result;
}

std::shared_ptr<const DnnlConv> DnnlIntegerConv::conv_for(const Shape& x_shape, const ConvShapes& s) {
  return convs_.get(x_shape, [&]() -> std::shared_ptr<DnnlConv> {
    try {
      return std::make_shared<DnnlConv>(s, bias_.defined(), weights_.raw_data(), options_);
    } catch (const dnnl::error&) {
      return nullptr;
    }
  });
}

bool DnnlIntegerConv::run(KernelContext& ctx, const Tensor& x) {
  if (x.dtype() != x_type_) return false;
  if (matmul_) return run_matmul(ctx, x);
  const Shape& xs = x.shape();
  const Shape& ws = weights_.shape();
  if (xs.size() != ws.size() || xs.size() < 3) return false;
  const int64_t channels = channels_last_ ? xs.back() : xs[1];
  if (channels != ws[1] * group_ || ws[0] % group_ != 0) return false;
  if (!window_->kernel_shape.empty() && window_->kernel_shape != std::vector<int64_t>(ws.begin() + 2, ws.end())) {
    return false;
  }
  std::vector<int64_t> spatial = channels_last_ ? std::vector<int64_t>(xs.begin() + 1, xs.end() - 1)
                                                : std::vector<int64_t>(xs.begin() + 2, xs.end());
  std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  const ConvShapes s{xs[0], channels, ws[0], group_, forward_window_geometry(*window_, spatial, kernel, "QLinearConv"), false};
  if (x.element_count() == 0) return false;
  auto conv = conv_for(xs, s);
  if (!conv) return false;
  Shape y_shape{s.batch};
  if (!channels_last_) y_shape.push_back(s.maps);
  y_shape.insert(y_shape.end(), s.geometry.output.begin(), s.geometry.output.end());
  if (channels_last_) y_shape.push_back(s.maps);
  Tensor& y = ctx.output(0, y_type_, y_shape);
  Tensor scratch = ctx.scratch(conv->scratch_bytes());
  conv->run(x.raw_data(), nullptr, bias_.defined() ? bias_.raw_data() : nullptr, y.mutable_raw_data(),
            scratch.mutable_raw_data());
  return true;
}

bool DnnlIntegerConv::run_matmul(KernelContext& ctx, const Tensor& a) {
  const int64_t k = weights_.dim(1), n = weights_.dim(0);
  if (a.rank() < 2 || a.shape().back() != k || a.element_count() == 0) return false;
  const int64_t rows = a.element_count() / k;
  // One image of rows x 1 pixels with K channels, channels-last: exactly A's layout.
  WindowGeometry g;
  g.input = {rows, 1};
  g.output = {rows, 1};
  g.kernel = {1, 1};
  g.strides = {1, 1};
  g.dilations = {1, 1};
  g.pads = {0, 0, 0, 0};
  const ConvShapes s{1, k, n, 1, g, false};
  auto conv = conv_for({rows, k}, s);
  if (!conv) return false;
  Shape y_shape = a.shape();
  y_shape.back() = n;
  Tensor& y = ctx.output(0, y_type_, y_shape);
  Tensor scratch = ctx.scratch(conv->scratch_bytes());
  conv->run(a.raw_data(), nullptr, bias_.defined() ? bias_.raw_data() : nullptr, y.mutable_raw_data(),
            scratch.mutable_raw_data());
  return true;
}

}  // namespace onyx
