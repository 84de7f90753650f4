// Gradient rule of Resize. Every Resize mode (nearest, linear, cubic, antialiased) is linear in
// the input and separable per axis: y = A_d x along each resized axis d. A_d is obtained by
// resizing an identity matrix along its first axis with the same attributes, so the rule
// matches the forward kernel exactly; dx multiplies dy by A_d^T axis by axis.
#include "onnx_ops/vision.h"
#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {
namespace {

using Ctx = GradientRuleContext;

Tensor identity_matrix(DataType type, int64_t n) {
  std::vector<double> values(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i * n + i)] = 1.0;
  if (type == DataType::kDouble) return Tensor::from_vector<double>({n, n}, values);
  return Tensor::from_vector<float>({n, n}, std::vector<float>(values.begin(), values.end()));
}

void resize_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    const std::string x = ctx.input(0);
    NodeAttributes attributes(ctx.node());
    ResizeAttributes resize = ResizeAttributes::read(attributes, ctx.opset(), "Resize");
    if (attributes.get_string("coordinate_transformation_mode", "") == "tf_crop_and_resize") {
      rule_error(ctx, "tf_crop_and_resize is not supported");
    }
    const TypeInfo& x_type = ctx.type_of(x);
    if (!x_type.is_tensor() || !x_type.has_static_shape()) rule_error(ctx, "the input's shape must be known");
    const Shape in = x_type.static_shape();
    const DataType type = elem_type_of(ctx, x);
    if (type != DataType::kFloat && type != DataType::kDouble) rule_error(ctx, "float or double input needed");

    const size_t scales_input = ctx.opset() >= 11 ? 2 : 1;
    const Tensor* scales = ctx.node().has_input(scales_input) ? ctx.constant_value(ctx.input(scales_input)) : nullptr;
    const Tensor* sizes = ctx.opset() >= 11 && ctx.node().has_input(3) ? ctx.constant_value(ctx.input(3)) : nullptr;
    if (scales != nullptr && scales->element_count() == 0) scales = nullptr;
    if (scales == nullptr && sizes == nullptr) rule_error(ctx, "scales or sizes must be constants");
    std::vector<double> scale_values;
    std::vector<int64_t> size_values;
    if (scales) for (int64_t i = 0; i < scales->element_count(); ++i) scale_values.push_back(scales->element_as_double(i));
    if (sizes) size_values = sizes->to_int64_vector();
    ResizeGeometry geometry = resolve_resize(in, resize, nullptr, scales ? &scale_values : nullptr,
                                             sizes ? &size_values : nullptr, "Resize");
    if (sizes && resize.policy != AspectRatioPolicy::kStretch) {
      rule_error(ctx, "keep_aspect_ratio_policy other than stretch is not supported");
    }
    // The matrices' Resize: the forward attributes without axes/policy, over [n, n].
    std::vector<Attribute> matrix_attributes;
    for (const Attribute& a : ctx.node().attributes) {
      if (a.name != "axes" && a.name != "keep_aspect_ratio_policy") matrix_attributes.push_back(a);
    }
    const int64_t rank = static_cast<int64_t>(in.size());
    std::string g = ctx.output_gradient(0);
    for (int64_t d = 0; d < rank; ++d) {
      const size_t a = static_cast<size_t>(d);
      if (geometry.output[a] == in[a] && geometry.scales[a] == 1.0) continue;
      std::string eye = ctx.add_constant(identity_matrix(type, in[a]));
      std::vector<std::string> inputs = {eye};
      if (ctx.opset() >= 11) inputs.push_back("");
      if (sizes) {
        inputs.push_back("");
        inputs.push_back(int64_constant(ctx, {geometry.output[a], in[a]}));
      } else {
        inputs.push_back(ctx.add_constant(Tensor::from_vector<float>(
            {2}, {static_cast<float>(geometry.scales[a]), 1.0f})));
      }
      std::string matrix = ctx.add("Resize", inputs, matrix_attributes);  // [out_d, in_d]
      std::vector<int64_t> perm;
      for (int64_t k = 0; k < rank; ++k) perm.push_back(k);
      std::swap(perm[a], perm.back());
      std::string moved = d == rank - 1 ? g : transpose(ctx, g, perm);
      std::string product = ctx.add("MatMul", {moved, matrix});
      g = d == rank - 1 ? product : transpose(ctx, product, perm);
    }
    return g;
  });
}

ONYX_REGISTER_GRADIENT_RULE("", "Resize", resize_rule);

}  // namespace
}  // namespace onyx::training
