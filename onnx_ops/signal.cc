#include "onnx_ops/signal.h"

#include "onnx_ops/op_schema.h"

namespace onyx {

int64_t dft_axis(int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  ONYX_CHECK(r >= 2, ErrorCode::kInvalidArgument,
             "DFT: input must have rank >= 2 ([..., signal, 1 or 2]), got rank ", r);
  const int64_t a = axis < 0 ? axis + r : axis;
  ONYX_CHECK(a >= 0 && a <= r - 2, ErrorCode::kInvalidArgument, "DFT: axis ", axis,
             " is out of range for an input of rank ", r, " (the last dim is the complex pair)");
  return a;
}

int64_t dft_default_length(int64_t axis_length, bool inverse, bool onesided) {
  return inverse && onesided ? 2 * (axis_length - 1) : axis_length;
}

Shape dft_output_shape(const Shape& input, int64_t axis, int64_t n, bool inverse, bool onesided) {
  Shape out = input;
  out[axis] = (onesided && !inverse) ? n / 2 + 1 : n;
  out.back() = (inverse && onesided) ? 1 : 2;
  return out;
}

int64_t signal_scalar_int(const Tensor& t, std::string_view op, std::string_view what) {
  ONYX_CHECK(t.element_count() == 1, ErrorCode::kInvalidArgument, op, ": ", what,
             " must be a scalar, got shape ", shape_to_string(t.shape()));
  return t.to_int64_vector()[0];
}

namespace {

// A known scalar integer input, or -1.
int64_t constant_int(const InferenceContext& ctx, size_t i) {
  const Tensor* t = ctx.input_constant(i);
  if (t == nullptr || t->element_count() != 1) return -1;
  return t->to_int64_vector()[0];
}

void dft_rule(InferenceContext& ctx) {
  const TypeInfo& in = ctx.input_type(0);
  if (!in.is_tensor()) return;
  TypeInfo out = TypeInfo::tensor(in.elem_type);
  if (in.shape && in.shape->size() >= 2) {
    const bool inverse = ctx.attributes().get_int("inverse", 0) != 0;
    const bool onesided = ctx.attributes().get_int("onesided", 0) != 0;
    int64_t axis = 1;
    bool axis_known = true;
    if (ctx.opset() >= 20) {
      axis = -2;
      if (ctx.has_input(2)) {
        const Tensor* t = ctx.input_constant(2);
        axis_known = t != nullptr && t->element_count() == 1;
        if (axis_known) axis = t->to_int64_vector()[0];
      }
    } else {
      axis = ctx.attributes().get_int("axis", 1);
    }
    std::vector<Dim> dims = *in.shape;
    if (axis_known) {
      const int64_t a = dft_axis(axis, dims.size());
      int64_t n = -1;
      if (ctx.has_input(1)) {
        n = constant_int(ctx, 1);
      } else if (dims[a].is_known()) {
        n = dft_default_length(dims[a].value, inverse, onesided);
      }
      dims[a] = n < 0 ? Dim{} : Dim::known((onesided && !inverse) ? n / 2 + 1 : n);
    } else {
      for (size_t d = 0; d + 1 < dims.size(); ++d) dims[d] = Dim{};
    }
    dims.back() = Dim::known(inverse && onesided ? 1 : 2);
    out.shape = dims;
  }
  ctx.set_output_type(0, out);
}

void stft_rule(InferenceContext& ctx) {
  const TypeInfo& in = ctx.input_type(0);
  if (!in.is_tensor()) return;
  TypeInfo out = TypeInfo::tensor(in.elem_type);
  if (in.shape && in.shape->size() == 3) {
    const std::vector<Dim>& s = *in.shape;
    const bool onesided = ctx.attributes().get_int("onesided", 1) != 0;
    int64_t frame_length = ctx.has_input(3) ? constant_int(ctx, 3) : -1;
    if (frame_length < 0 && ctx.has_input(2)) {
      const TypeInfo& w = ctx.input_type(2);
      if (w.shape && w.shape->size() == 1 && (*w.shape)[0].is_known()) frame_length = (*w.shape)[0].value;
    }
    const int64_t step = constant_int(ctx, 1);
    Dim frames;
    if (frame_length > 0 && step > 0 && s[1].is_known() && s[1].value >= frame_length) {
      frames = Dim::known((s[1].value - frame_length) / step + 1);
    }
    Dim bins = frame_length > 0 ? Dim::known(onesided ? frame_length / 2 + 1 : frame_length) : Dim{};
    out.shape = std::vector<Dim>{s[0], frames, bins, Dim::known(2)};
  }
  ctx.set_output_type(0, out);
}

void window_rule(InferenceContext& ctx) {
  const auto dtype = static_cast<DataType>(ctx.attributes().get_int("output_datatype", 1));
  const int64_t size = constant_int(ctx, 0);
  ctx.set_output_type(0, TypeInfo::tensor(dtype, std::vector<Dim>{size >= 0 ? Dim::known(size) : Dim{}}));
}

void mel_rule(InferenceContext& ctx) {
  const auto dtype = static_cast<DataType>(ctx.attributes().get_int("output_datatype", 1));
  const int64_t bins = constant_int(ctx, 0);
  const int64_t n = constant_int(ctx, 1);
  ctx.set_output_type(0, TypeInfo::tensor(dtype, std::vector<Dim>{
                                                     n >= 0 ? Dim::known(n / 2 + 1) : Dim{},
                                                     bins >= 0 ? Dim::known(bins) : Dim{}}));
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "DFT", dft_rule);
ONYX_REGISTER_SHAPE_RULE("", "STFT", stft_rule);
ONYX_REGISTER_SHAPE_RULE("", "HannWindow", window_rule);
ONYX_REGISTER_SHAPE_RULE("", "HammingWindow", window_rule);
ONYX_REGISTER_SHAPE_RULE("", "BlackmanWindow", window_rule);
ONYX_REGISTER_SHAPE_RULE("", "MelWeightMatrix", mel_rule);

}  // namespace onyx
