// Attribute checks (attribute_checks.h) of the vision ops; Resize's live in
// ResizeAttributes::read, which its rule and kernel share.
#include "onnx_ops/attribute_checks.h"
#include "onnx_ops/vision.h"

namespace onyx {

namespace {

void check_grid_sample(const AttributeCheckContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  if (ctx.opset() >= 20) {
    a.get_enum_string("mode", "linear", {"linear", "nearest", "cubic"});
  } else {
    a.get_enum_string("mode", "bilinear", {"bilinear", "nearest", "bicubic"});
  }
  a.get_enum_string("padding_mode", "zeros", {"zeros", "border", "reflection"});
  a.get_flag("align_corners", false);
}

void check_roi_align(const AttributeCheckContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  a.get_enum_string("mode", "avg", {"avg", "max"});
  a.get_int_at_least("output_height", 1, 1);
  a.get_int_at_least("output_width", 1, 1);
  a.get_int_at_least("sampling_ratio", 0, 0);
  a.get_float_above("spatial_scale", 1.0f, 0.0f);
  if (ctx.opset() >= 16) {
    a.get_enum_string("coordinate_transformation_mode", "half_pixel", {"half_pixel", "output_half_pixel"});
  }
}

void check_max_roi_pool(const AttributeCheckContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  a.get_positive_ints("pooled_shape");
  a.expect_length("pooled_shape", 2, "a height and a width");
  a.get_float_above("spatial_scale", 1.0f, 0.0f);
}

}  // namespace

ONYX_REGISTER_ATTRIBUTE_CHECK("", "Resize", [](const AttributeCheckContext& ctx) {
  ResizeAttributes::read(ctx.attributes(), ctx.opset(), "Resize");
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Upsample", [](const AttributeCheckContext& ctx) {
  ResizeAttributes::read(ctx.attributes(), ctx.opset(), "Upsample");
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "GridSample", check_grid_sample);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "RoiAlign", check_roi_align);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "MaxRoiPool", check_max_roi_pool);

}  // namespace onyx
