// Resize geometry shared by the shape rules and kernels; shape rules of the vision ops
// (Resize, Upsample, GridSample, RoiAlign, NonMaxSuppression, MaxUnpool, AffineGrid, Col2Im,
// ImageDecoder).
#include "onnx_ops/vision.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "onnx_ops/axes.h"
#include "onnx_ops/op_schema.h"
#include "runtime/common/error.h"

namespace onyx {

// Also the attribute check of Resize and Upsample (attribute_checks.h): every enum and flag is
// validated here, once, before a rule or kernel reads the result.
ResizeAttributes ResizeAttributes::read(const NodeAttributes& a, int64_t opset,
                                        const std::string& op) {
  ResizeAttributes r;
  const bool resize11 = op == "Resize" && opset >= 11;
  // Upsample-7 also accepted "bilinear" (and older exporters "trilinear"); all are N-d linear.
  std::vector<std::string> modes = {"nearest", "linear", "bilinear", "trilinear"};
  if (resize11) modes.push_back("cubic");
  const std::string mode = a.get_enum_string("mode", "nearest", modes);
  r.mode = mode == "nearest" ? ResizeMode::kNearest : mode == "cubic" ? ResizeMode::kCubic : ResizeMode::kLinear;
  if (!resize11) {
    r.transform = CoordinateTransform::kAsymmetric;
    r.nearest_mode = NearestMode::kSimple;
    return r;
  }
  std::vector<std::string> transforms = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                         "tf_crop_and_resize"};
  if (opset >= 19) transforms.push_back("half_pixel_symmetric");
  if (opset < 13) transforms.push_back("tf_half_pixel_for_nn");
  const std::string ct = a.get_enum_string("coordinate_transformation_mode", "half_pixel", transforms);
  r.transform = ct == "half_pixel"             ? CoordinateTransform::kHalfPixel
                : ct == "half_pixel_symmetric" ? CoordinateTransform::kHalfPixelSymmetric
                : ct == "pytorch_half_pixel"   ? CoordinateTransform::kPytorchHalfPixel
                : ct == "align_corners"        ? CoordinateTransform::kAlignCorners
                : ct == "asymmetric"           ? CoordinateTransform::kAsymmetric
                : ct == "tf_crop_and_resize"   ? CoordinateTransform::kTfCropAndResize
                                               : CoordinateTransform::kTfHalfPixelForNn;
  const std::string nm = a.get_enum_string("nearest_mode", "round_prefer_floor",
                                           {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"});
  r.nearest_mode = nm == "round_prefer_floor"  ? NearestMode::kRoundPreferFloor
                   : nm == "round_prefer_ceil" ? NearestMode::kRoundPreferCeil
                   : nm == "floor"             ? NearestMode::kFloor
                                               : NearestMode::kCeil;
  r.cubic_coeff_a = a.get_float("cubic_coeff_a", -0.75f);
  r.exclude_outside = a.get_flag("exclude_outside", false);
  r.extrapolation_value = a.get_float("extrapolation_value", 0.0f);
  if (opset >= 18) {
    r.antialias = a.get_flag("antialias", false);
    r.axes = a.get_ints("axes");
    const std::string policy =
        a.get_enum_string("keep_aspect_ratio_policy", "stretch", {"stretch", "not_larger", "not_smaller"});
    r.policy = policy == "stretch"      ? AspectRatioPolicy::kStretch
               : policy == "not_larger" ? AspectRatioPolicy::kNotLarger
                                        : AspectRatioPolicy::kNotSmaller;
  }
  if (r.antialias && r.mode == ResizeMode::kNearest) {
    throw_error(ErrorCode::kInvalidModel, "attribute antialias is not defined for mode nearest");
  }
  return r;
}

ResizeGeometry resolve_resize(const Shape& input, const ResizeAttributes& attrs,
                              const std::vector<double>* roi, const std::vector<double>* scales,
                              const std::vector<int64_t>* sizes, const std::string& op) {
  const int64_t rank = static_cast<int64_t>(input.size());
  std::vector<int64_t> axes;
  if (attrs.axes.empty()) {
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  } else {
    axes = normalize_axis_list(attrs.axes, rank, op);
  }
  const size_t n = axes.size();
  ONYX_CHECK((scales != nullptr) != (sizes != nullptr), ErrorCode::kInvalidArgument, op,
             ": exactly one of 'scales' and 'sizes' must be given");
  ResizeGeometry g;
  g.output = input;
  g.scales.assign(rank, 1.0);
  g.roi_start.assign(rank, 0.0);
  g.roi_end.assign(rank, 1.0);
  if (roi && !roi->empty()) {
    ONYX_CHECK(roi->size() == 2 * n, ErrorCode::kInvalidArgument, op, ": 'roi' has ",
               roi->size(), " values, expected ", 2 * n, " (2 per resized axis)");
    for (size_t i = 0; i < n; ++i) {
      g.roi_start[axes[i]] = (*roi)[i];
      g.roi_end[axes[i]] = (*roi)[n + i];
    }
  }
  if (scales) {
    ONYX_CHECK(scales->size() == n, ErrorCode::kInvalidArgument, op, ": 'scales' has ",
               scales->size(), " values for ", n, " axes of input ", shape_to_string(input));
    for (size_t i = 0; i < n; ++i) {
      double s = (*scales)[i];
      ONYX_CHECK(s > 0 && std::isfinite(s), ErrorCode::kInvalidArgument, op, ": scale ", s, " of axis ", axes[i],
                 " must be positive and finite");
      g.scales[axes[i]] = s;
      // floor(in * scale); tf_crop_and_resize scales the ROI's length.
      double len = static_cast<double>(input[axes[i]]);
      if (attrs.transform == CoordinateTransform::kTfCropAndResize) {
        len *= g.roi_end[axes[i]] - g.roi_start[axes[i]];
      }
      std::ostringstream what;
      what << op << ": axis " << axes[i] << " of length " << len << " times scale " << s;
      g.output[axes[i]] = checked_floor_to_dim(len * s, what.str());
    }
    return g;
  }
  ONYX_CHECK(sizes->size() == n, ErrorCode::kInvalidArgument, op, ": 'sizes' has ",
             sizes->size(), " values for ", n, " axes of input ", shape_to_string(input));
  for (size_t i = 0; i < n; ++i) {
    ONYX_CHECK((*sizes)[i] >= 0, ErrorCode::kInvalidArgument, op, ": negative size ",
               (*sizes)[i], " for axis ", axes[i]);
    ONYX_CHECK(input[axes[i]] > 0, ErrorCode::kInvalidArgument, op,
               ": cannot resize empty axis ", axes[i], " of input ", shape_to_string(input),
               " to a size");
    g.output[axes[i]] = (*sizes)[i];
    g.scales[axes[i]] = static_cast<double>((*sizes)[i]) / static_cast<double>(input[axes[i]]);
  }
  if (attrs.policy != AspectRatioPolicy::kStretch) {
    double scale = g.scales[axes[0]];
    for (int64_t a : axes) {
      scale = attrs.policy == AspectRatioPolicy::kNotLarger ? std::min(scale, g.scales[a])
                                                             : std::max(scale, g.scales[a]);
    }
    for (int64_t a : axes) {
      g.scales[a] = scale;
      g.output[a] = checked_floor_to_dim(scale * static_cast<double>(input[a]) + 0.5,
                                         op + ": the output size of axis " + std::to_string(a));
    }
  }
  return g;
}

double resize_source_coordinate(CoordinateTransform transform, double x, double scale,
                                int64_t in_len, int64_t out_len, double roi_start,
                                double roi_end) {
  // ONNX uses the unrounded output length in * scale where the formula needs a length.
  const double in = static_cast<double>(in_len);
  const double out = scale * in;
  switch (transform) {
    case CoordinateTransform::kAlignCorners:
      return out == 1 ? 0.0 : x * (in - 1) / (out - 1);
    case CoordinateTransform::kAsymmetric:
      return x / scale;
    case CoordinateTransform::kTfCropAndResize: {
      double span = roi_end - roi_start;
      double v = out == 1 ? span * (in - 1) / 2 : x * span * (in - 1) / (out - 1);
      return v + roi_start * (in - 1);
    }
    case CoordinateTransform::kPytorchHalfPixel:
      return out == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case CoordinateTransform::kHalfPixel:
      return (x + 0.5) / scale - 0.5;
    case CoordinateTransform::kHalfPixelSymmetric: {
      double adjustment = static_cast<double>(out_len) / out;
      double offset = in / 2 * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case CoordinateTransform::kTfHalfPixelForNn:
      return (x + 0.5) / scale;
  }
  return x;
}

namespace {


std::vector<double> doubles_of(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.element_count()));
  for (int64_t i = 0; i < t.element_count(); ++i) v[i] = t.element_as_double(i);
  return v;
}

// Resize and Upsample: the input's dtype and rank; dims when scales/sizes are constants.
void resize_rule(InferenceContext& ctx, const std::string& op) {
  const TypeInfo* x = ctx.tensor_input_type(0);
  if (!x) return;
  if (!x->shape) {
    ctx.set_output_type(0, TypeInfo::tensor(x->elem_type));
    return;
  }
  std::vector<Dim> unknown(x->shape->size());
  TypeInfo fallback = TypeInfo::tensor(x->elem_type, unknown);
  if (!x->has_static_shape()) {
    ctx.set_output_type(0, fallback);
    return;
  }
  const int64_t opset = ctx.opset();
  ResizeAttributes attrs = ResizeAttributes::read(ctx.attributes(), opset, op);
  std::vector<double> roi, scales;
  std::vector<int64_t> sizes;
  bool have_scales = false, have_sizes = false;
  if (op == "Upsample" && opset < 9) {
    for (float s : ctx.attributes().get_floats("scales")) scales.push_back(s);
    have_scales = true;
  } else {
    const size_t scales_index = (op == "Upsample" || opset < 11) ? 1 : 2;
    if (ctx.has_input(scales_index)) {
      const Tensor* t = ctx.input_constant(scales_index);
      if (!t) {
        ctx.set_output_type(0, fallback);
        return;
      }
      if (t->element_count() > 0) {
        scales = doubles_of(*t);
        have_scales = true;
      }
    }
    if (op == "Resize" && opset >= 11) {
      if (ctx.has_input(3)) {
        const Tensor* t = ctx.input_constant(3);
        if (!t) {
          ctx.set_output_type(0, fallback);
          return;
        }
        if (t->element_count() > 0) {
          sizes = t->to_int64_vector();
          have_sizes = true;
        }
      }
      if (ctx.has_input(1)) {
        const Tensor* t = ctx.input_constant(1);
        if (!t) {
          if (attrs.transform == CoordinateTransform::kTfCropAndResize && have_scales) {
            ctx.set_output_type(0, fallback);
            return;
          }
        } else {
          roi = doubles_of(*t);
        }
      }
    }
  }
  ResizeGeometry g = resolve_resize(x->static_shape(), attrs, &roi, have_scales ? &scales : nullptr,
                                    have_sizes ? &sizes : nullptr, op);
  ctx.set_output_type(0, TypeInfo::tensor_of_shape(x->elem_type, g.output));
}

Dim dim_of(const TypeInfo& t, size_t i) {
  if (!t.shape || i >= t.shape->size()) return Dim{};
  return (*t.shape)[i];
}

// GridSample: [N, C, grid spatial dims...] from X [N, C, ...] and grid [N, D1.., r].
void grid_sample_rule(InferenceContext& ctx) {
  const TypeInfo* x = ctx.tensor_input_type(0);
  const TypeInfo* grid = ctx.tensor_input_type(1);
  if (!x) return;
  if (!grid || !grid->shape) {
    ctx.set_output_type(0, TypeInfo::tensor(x->elem_type));
    return;
  }
  std::vector<Dim> dims{dim_of(*x, 0), dim_of(*x, 1)};
  for (size_t i = 1; i + 1 < grid->shape->size(); ++i) dims.push_back((*grid->shape)[i]);
  ctx.set_output_type(0, TypeInfo::tensor(x->elem_type, std::move(dims)));
}

// RoiAlign: [num_rois, C, output_height, output_width].
void roi_align_rule(InferenceContext& ctx) {
  const TypeInfo* x = ctx.tensor_input_type(0);
  const TypeInfo* rois = ctx.tensor_input_type(1);
  if (!x) return;
  std::vector<Dim> dims{rois ? dim_of(*rois, 0) : Dim{}, dim_of(*x, 1),
                        Dim::known(ctx.attributes().get_int("output_height", 1)),
                        Dim::known(ctx.attributes().get_int("output_width", 1))};
  ctx.set_output_type(0, TypeInfo::tensor(x->elem_type, std::move(dims)));
}

void nms_rule(InferenceContext& ctx) {
  ctx.set_output_type(0, TypeInfo::tensor(DataType::kInt64, std::vector<Dim>{Dim{}, Dim::known(3)}));
}

// MaxUnpool: output_shape input when constant, else (in - 1) * stride - pads + kernel.
void max_unpool_rule(InferenceContext& ctx) {
  const TypeInfo* x = ctx.tensor_input_type(0);
  if (!x) return;
  if (ctx.has_input(2)) {
    if (const Tensor* s = ctx.input_constant(2)) {
      ctx.set_output_type(0, TypeInfo::tensor_of_shape(x->elem_type, s->to_int64_vector()));
    } else {
      ctx.set_output_type(0, TypeInfo::tensor(x->elem_type));
    }
    return;
  }
  if (!x->shape) {
    ctx.set_output_type(0, TypeInfo::tensor(x->elem_type));
    return;
  }
  const auto& a = ctx.attributes();
  std::vector<int64_t> kernel = a.require_ints("kernel_shape");
  const size_t spatial = kernel.size();
  std::vector<int64_t> strides = a.get_ints("strides", std::vector<int64_t>(spatial, 1));
  std::vector<int64_t> pads = a.get_ints("pads", std::vector<int64_t>(2 * spatial, 0));
  ONYX_CHECK(x->shape->size() == spatial + 2 && strides.size() == spatial &&
                 pads.size() == 2 * spatial,
             ErrorCode::kInvalidArgument, "MaxUnpool: kernel_shape/strides/pads do not match ",
             "input rank ", x->shape->size());
  std::vector<Dim> dims{dim_of(*x, 0), dim_of(*x, 1)};
  for (size_t i = 0; i < spatial; ++i) {
    Dim d = dim_of(*x, i + 2);
    dims.push_back(d.is_known() ? Dim::known((d.value - 1) * strides[i] - pads[i] -
                                             pads[i + spatial] + kernel[i])
                                : Dim{});
  }
  ctx.set_output_type(0, TypeInfo::tensor(x->elem_type, std::move(dims)));
}

// AffineGrid: [N, (D,) H, W, nd] from a constant size.
void affine_grid_rule(InferenceContext& ctx) {
  const TypeInfo* theta = ctx.tensor_input_type(0);
  if (!theta) return;
  const Tensor* size = ctx.input_constant(1);
  if (!size) {
    ctx.set_output_type(0, TypeInfo::tensor(theta->elem_type));
    return;
  }
  std::vector<int64_t> s = size->to_int64_vector();
  ONYX_CHECK(s.size() == 4 || s.size() == 5, ErrorCode::kInvalidArgument,
             "AffineGrid: size must have 4 or 5 values, got ", s.size());
  Shape out{s[0]};
  out.insert(out.end(), s.begin() + 2, s.end());
  out.push_back(static_cast<int64_t>(s.size()) - 2);
  ctx.set_output_type(0, TypeInfo::tensor_of_shape(theta->elem_type, out));
}

// Col2Im: [N, C, image_shape...] with C = input dim 1 / prod(block_shape).
void col2im_rule(InferenceContext& ctx) {
  const TypeInfo* x = ctx.tensor_input_type(0);
  if (!x) return;
  const Tensor* image = ctx.input_constant(1);
  const Tensor* block = ctx.input_constant(2);
  if (!image || !block) {
    ctx.set_output_type(0, TypeInfo::tensor(x->elem_type));
    return;
  }
  int64_t block_size = 1;
  for (int64_t b : block->to_int64_vector()) block_size *= b;
  Dim c = dim_of(*x, 1);
  std::vector<Dim> dims{dim_of(*x, 0), c.is_known() && block_size > 0
                                           ? Dim::known(c.value / block_size)
                                           : Dim{}};
  for (int64_t v : image->to_int64_vector()) dims.push_back(Dim::known(v));
  ctx.set_output_type(0, TypeInfo::tensor(x->elem_type, std::move(dims)));
}

// ImageDecoder: uint8 [height, width, channels]; only the channel count is known before decoding.
void image_decoder_rule(InferenceContext& ctx) {
  const bool gray = ctx.attributes().get_string("pixel_format", "RGB") == "Grayscale";
  ctx.set_output_type(0, TypeInfo::tensor(DataType::kUInt8, std::vector<Dim>{Dim{}, Dim{}, Dim::known(gray ? 1 : 3)}));
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "Resize", [](InferenceContext& ctx) { resize_rule(ctx, "Resize"); });
ONYX_REGISTER_SHAPE_RULE("", "Upsample",
                         [](InferenceContext& ctx) { resize_rule(ctx, "Upsample"); });
ONYX_REGISTER_SHAPE_RULE("", "GridSample", grid_sample_rule);
ONYX_REGISTER_SHAPE_RULE("", "RoiAlign", roi_align_rule);
ONYX_REGISTER_SHAPE_RULE("", "NonMaxSuppression", nms_rule);
ONYX_REGISTER_SHAPE_RULE("", "MaxUnpool", max_unpool_rule);
ONYX_REGISTER_SHAPE_RULE("", "AffineGrid", affine_grid_rule);
ONYX_REGISTER_SHAPE_RULE("", "Col2Im", col2im_rule);
ONYX_REGISTER_SHAPE_RULE("", "ImageDecoder", image_decoder_rule);

}  // namespace onyx
