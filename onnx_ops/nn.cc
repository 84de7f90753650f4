// Shape rules of the neural-network ops: convolutions, pooling, normalizations, Dropout, LRN.
// Window arithmetic comes from nn_geometry so kernels and rules agree.
#include <algorithm>
#include <functional>
#include <limits>

#include "onnx_ops/broadcast.h"
#include "onnx_ops/nn_geometry.h"
#include "onnx_ops/op_schema.h"

namespace onyx {

namespace {



Dim dim_or_unknown(const TypeInfo& type, size_t i) {
  if (!type.shape || i >= type.shape->size()) return Dim{};
  return (*type.shape)[i];
}

// [N, channels, spatial...] with the spatial dims from `geometry` when the input's are known.
TypeInfo windowed_output(const TypeInfo& x, Dim channels, const std::vector<int64_t>* spatial,
                         DataType dtype) {
  if (!x.shape) return TypeInfo::tensor(dtype);
  std::vector<Dim> dims{dim_or_unknown(x, 0), channels};
  for (size_t i = 2; i < x.shape->size(); ++i) {
    dims.push_back(spatial ? Dim::known((*spatial)[i - 2]) : Dim{});
  }
  return TypeInfo::tensor(dtype, std::move(dims));
}

std::vector<int64_t> weight_kernel(const TypeInfo& w, bool& known) {
  std::vector<int64_t> kernel;
  known = known_spatial_dims(w, kernel);
  return kernel;
}

TypeInfo conv_output(const TypeInfo& x, const TypeInfo* w, const NodeAttributes& attributes) {
  WindowAttributes attrs = WindowAttributes::read(attributes);
  Dim channels = w ? dim_or_unknown(*w, 0) : Dim{};
  std::vector<int64_t> spatial;
  std::vector<int64_t> kernel = attrs.kernel_shape;
  bool kernel_known = !kernel.empty();
  if (!kernel_known && w) kernel = weight_kernel(*w, kernel_known);
  const std::vector<int64_t>* out = nullptr;
  WindowGeometry g;
  if (kernel_known && known_spatial_dims(x, spatial)) {
    g = forward_window_geometry(attrs, spatial, kernel, "Conv");
    out = &g.output;
  }
  return windowed_output(x, channels, out, x.elem_type);
}

void conv_rule(InferenceContext& ctx) {
  if (const TypeInfo* x = ctx.tensor_input_type(0)) {
    ctx.set_output_type(0, conv_output(*x, ctx.tensor_input_type(1), ctx.attributes()));
  }
}

// The com.onyx channels-last ops (NhwcConv, NhwcMaxPool, ...; see
// runtime/optimizer/channels_last.h): X and Y are [N, spatial..., C]. `rule` gives the output
// of the channels-first op for a channels-first X.
void channels_last_rule(InferenceContext& ctx, const std::function<TypeInfo(const TypeInfo&)>& rule) {
  const TypeInfo* x = ctx.tensor_input_type(0);
  if (!x || !x->shape || x->shape->size() < 3) {
    if (x) ctx.set_output_type(0, TypeInfo::tensor(x->elem_type));
    return;
  }
  const std::vector<Dim>& dims = *x->shape;
  std::vector<Dim> first{dims.front(), dims.back()};
  first.insert(first.end(), dims.begin() + 1, dims.end() - 1);
  TypeInfo y = rule(TypeInfo::tensor(x->elem_type, std::move(first)));
  if (!y.shape || y.shape->size() != dims.size()) return ctx.set_output_type(0, TypeInfo::tensor(x->elem_type));
  std::vector<Dim> last{(*y.shape).front()};
  last.insert(last.end(), y.shape->begin() + 2, y.shape->end());
  last.push_back((*y.shape)[1]);
  ctx.set_output_type(0, TypeInfo::tensor(x->elem_type, std::move(last)));
}

// NhwcConv's optional input 3 is a residual added to Y (channels-last like Y), so Y has the
// broadcast of the convolution's output and the residual.
void nhwc_conv_rule(InferenceContext& ctx) {
  channels_last_rule(ctx, [&](const TypeInfo& x) { return conv_output(x, ctx.tensor_input_type(1), ctx.attributes()); });
  const TypeInfo* residual = ctx.tensor_input_type(3);
  if (!residual || ctx.output_types().empty()) return;
  const TypeInfo y = ctx.output_types()[0];
  if (!residual->shape || !y.shape || residual->shape->size() != y.shape->size()) {
    return ctx.set_output_type(0, TypeInfo::tensor(y.elem_type));
  }
  const std::vector<Dim> shapes[] = {*y.shape, *residual->shape};
  ctx.set_output_type(0, TypeInfo::tensor(y.elem_type, broadcast_dims(shapes, "NhwcConv (the residual Add)")));
}

void conv_transpose_rule(InferenceContext& ctx) {
  const TypeInfo* x = ctx.tensor_input_type(0);
  const TypeInfo* w = ctx.tensor_input_type(1);
  if (!x) return;
  WindowAttributes attrs = WindowAttributes::read(ctx.attributes());
  int64_t group = ctx.attributes().get_int("group", 1);
  Dim channels;
  if (w) {
    Dim per_group = dim_or_unknown(*w, 1);
    // A huge group overflowed this product (fuzz regression model_mutate/convtranspose-huge-group).
      // (group >= 1 is checked up front; a declared W shape can still be huge.)
    if (per_group.is_known() && per_group.value > 0 &&
        group > std::numeric_limits<int64_t>::max() / per_group.value) {
      throw_error(ErrorCode::kInvalidModel, ctx.node().describe(), ": group ", group,
                  " is out of range for a weight of ", per_group.value, " output channels per group");
    }
    if (per_group.is_known()) channels = Dim::known(per_group.value * group);
  }
  std::vector<int64_t> spatial;
  std::vector<int64_t> kernel = attrs.kernel_shape;
  bool kernel_known = !kernel.empty();
  if (!kernel_known && w) kernel = weight_kernel(*w, kernel_known);
  const std::vector<int64_t>* out = nullptr;
  WindowGeometry g;
  if (kernel_known && known_spatial_dims(*x, spatial)) {
    g = transpose_window_geometry(attrs, spatial, kernel,
                                  ctx.attributes().get_ints("output_padding"),
                                  ctx.attributes().get_ints("output_shape"), "ConvTranspose");
    out = &g.output;
  }
  ctx.set_output_type(0, windowed_output(*x, channels, out, x->elem_type));
}

TypeInfo pool_output(const TypeInfo& x, const NodeAttributes& attributes, const char* op) {
  WindowAttributes attrs = WindowAttributes::read(attributes);
  std::vector<int64_t> spatial;
  const std::vector<int64_t>* out = nullptr;
  WindowGeometry g;
  if (known_spatial_dims(x, spatial) && !attrs.kernel_shape.empty()) {
    g = forward_window_geometry(attrs, spatial, attrs.kernel_shape, op);
    out = &g.output;
  }
  return windowed_output(x, dim_or_unknown(x, 1), out, x.elem_type);
}

void pool_rule(InferenceContext& ctx, const char* op) {
  const TypeInfo* x = ctx.tensor_input_type(0);
  if (!x) return;
  TypeInfo y = pool_output(*x, ctx.attributes(), op);
  ctx.set_output_type(0, y);
  if (ctx.output_count() > 1) {
    y.elem_type = DataType::kInt64;
    ctx.set_output_type(1, y);
  }
}

TypeInfo global_pool_output(const TypeInfo& x) {
  if (!x.shape) return TypeInfo::tensor(x.elem_type);
  std::vector<Dim> dims = *x.shape;
  for (size_t i = 2; i < dims.size(); ++i) dims[i] = Dim::known(1);
  return TypeInfo::tensor(x.elem_type, std::move(dims));
}

void global_pool_rule(InferenceContext& ctx) {
  if (const TypeInfo* x = ctx.tensor_input_type(0)) ctx.set_output_type(0, global_pool_output(*x));
}

void batch_norm_rule(InferenceContext& ctx) {
  copy_input_0_type(ctx);
  const TypeInfo* x = ctx.tensor_input_type(0);
  const TypeInfo* mean = ctx.tensor_input_type(3);
  if (!x) return;
  // Extra outputs (running or saved statistics) are per channel.
  DataType stat_type = mean ? mean->elem_type : x->elem_type;
  std::vector<Dim> per_channel{dim_or_unknown(*x, 1)};
  for (size_t i = 1; i < ctx.output_count(); ++i) {
    ctx.set_output_type(i, TypeInfo::tensor(stat_type, per_channel));
  }
}

void layer_norm_rule(InferenceContext& ctx) {
  copy_input_0_type(ctx);
  const TypeInfo* x = ctx.tensor_input_type(0);
  if (!x || ctx.output_count() < 2) return;
  int64_t stash = ctx.attributes().get_int("stash_type", 1);
  DataType stat_type = stash == 1 ? DataType::kFloat : dtype_from_code(static_cast<int32_t>(stash));
  if (!x->shape) {
    for (size_t i = 1; i < ctx.output_count(); ++i) ctx.set_output_type(i, TypeInfo::tensor(stat_type));
    return;
  }
  const int64_t rank = static_cast<int64_t>(x->shape->size());
  const int64_t axis = ctx.attributes().axis_in_rank("axis", -1, rank);  // checked up front
  std::vector<Dim> dims = *x->shape;
  for (int64_t i = axis; i < rank; ++i) dims[i] = Dim::known(1);
  for (size_t i = 1; i < ctx.output_count(); ++i) ctx.set_output_type(i, TypeInfo::tensor(stat_type, dims));
}

void dropout_rule(InferenceContext& ctx) {
  copy_input_0_type(ctx);
  const TypeInfo* x = ctx.tensor_input_type(0);
  if (!x || ctx.output_count() < 2) return;
  TypeInfo mask = *x;
  if (ctx.opset() >= 10) mask.elem_type = DataType::kBool;
  ctx.set_output_type(1, mask);
}

}  // namespace

// DeformConv: [N, out channels, offset's spatial dims].
void deform_conv_rule(InferenceContext& ctx) {
  const TypeInfo& x = ctx.input_type(0);
  const TypeInfo& w = ctx.input_type(1);
  const TypeInfo& offset = ctx.input_type(2);
  if (!x.is_tensor()) return;
  if (!x.shape || !w.shape || !offset.shape || offset.shape->size() < 2) {
    ctx.set_output_type(0, TypeInfo::tensor(x.elem_type));
    return;
  }
  std::vector<Dim> dims{(*x.shape)[0], (*w.shape)[0]};
  dims.insert(dims.end(), offset.shape->begin() + 2, offset.shape->end());
  ctx.set_output_type(0, TypeInfo::tensor(x.elem_type, dims));
}

ONYX_REGISTER_SHAPE_RULE("", "Conv", conv_rule);
ONYX_REGISTER_SHAPE_RULE(kOnyxDomain, "NhwcConv", nhwc_conv_rule);
// QLinearConv channels-last: W is input 3, and Y has y_zero_point's element type (X's when
// absent).
ONYX_REGISTER_SHAPE_RULE(kOnyxDomain, "NhwcQLinearConv", [](InferenceContext& ctx) {
  channels_last_rule(ctx, [&](const TypeInfo& x) { return conv_output(x, ctx.tensor_input_type(3), ctx.attributes()); });
  const TypeInfo* y_zero = ctx.tensor_input_type(7);
  if (y_zero && !ctx.output_types().empty() && ctx.output_types()[0].is_tensor()) {
    TypeInfo y = ctx.output_types()[0];
    y.elem_type = y_zero->elem_type;
    ctx.set_output_type(0, std::move(y));
  }
});
ONYX_REGISTER_SHAPE_RULE(kOnyxDomain, "NhwcMaxPool", [](InferenceContext& ctx) {
  channels_last_rule(ctx, [&](const TypeInfo& x) { return pool_output(x, ctx.attributes(), "MaxPool"); });
});
ONYX_REGISTER_SHAPE_RULE(kOnyxDomain, "NhwcAveragePool", [](InferenceContext& ctx) {
  channels_last_rule(ctx, [&](const TypeInfo& x) { return pool_output(x, ctx.attributes(), "AveragePool"); });
});
ONYX_REGISTER_SHAPE_RULE(kOnyxDomain, "NhwcGlobalMaxPool",
                         [](InferenceContext& ctx) { channels_last_rule(ctx, global_pool_output); });
ONYX_REGISTER_SHAPE_RULE(kOnyxDomain, "NhwcGlobalAveragePool",
                         [](InferenceContext& ctx) { channels_last_rule(ctx, global_pool_output); });
ONYX_REGISTER_SHAPE_RULE("", "DeformConv", deform_conv_rule);
ONYX_REGISTER_SHAPE_RULE("", "ConvTranspose", conv_transpose_rule);
ONYX_REGISTER_SHAPE_RULE("", "MaxPool", [](InferenceContext& ctx) { pool_rule(ctx, "MaxPool"); });
ONYX_REGISTER_SHAPE_RULE("", "AveragePool",
                         [](InferenceContext& ctx) { pool_rule(ctx, "AveragePool"); });
ONYX_REGISTER_SHAPE_RULE("", "LpPool", [](InferenceContext& ctx) { pool_rule(ctx, "LpPool"); });
ONYX_REGISTER_SHAPE_RULE("", "GlobalAveragePool", global_pool_rule);
ONYX_REGISTER_SHAPE_RULE("", "GlobalMaxPool", global_pool_rule);
ONYX_REGISTER_SHAPE_RULE("", "GlobalLpPool", global_pool_rule);
ONYX_REGISTER_SHAPE_RULE("", "BatchNormalization", batch_norm_rule);
ONYX_REGISTER_SHAPE_RULE("", "InstanceNormalization", copy_input_0_type);
ONYX_REGISTER_SHAPE_RULE("", "LayerNormalization", layer_norm_rule);
ONYX_REGISTER_SHAPE_RULE("", "GroupNormalization", copy_input_0_type);
ONYX_REGISTER_SHAPE_RULE("", "RMSNormalization", copy_input_0_type);
ONYX_REGISTER_SHAPE_RULE("", "LRN", copy_input_0_type);
ONYX_REGISTER_SHAPE_RULE("", "Dropout", dropout_rule);

ONYX_REGISTER_ATTRIBUTE_CHECK("", "Conv", [](const AttributeCheckContext& ctx) { check_window_attributes(ctx, {1, false}); });
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ConvTranspose",
                              [](const AttributeCheckContext& ctx) { check_window_attributes(ctx, {1, true}); });
ONYX_REGISTER_ATTRIBUTE_CHECK("", "DeformConv", [](const AttributeCheckContext& ctx) {
  check_window_attributes(ctx, {1, false});
  ctx.attributes().get_int_at_least("offset_group", 1, 1);
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "MaxPool", [](const AttributeCheckContext& ctx) {
  check_window_attributes(ctx, {});
  ctx.attributes().get_flag("storage_order", false);
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "AveragePool", [](const AttributeCheckContext& ctx) {
  check_window_attributes(ctx, {});
  ctx.attributes().get_flag("count_include_pad", false);
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "LpPool", [](const AttributeCheckContext& ctx) { check_window_attributes(ctx, {}); });
ONYX_REGISTER_ATTRIBUTE_CHECK("", "MaxUnpool", [](const AttributeCheckContext& ctx) { check_window_attributes(ctx, {}); });
ONYX_REGISTER_ATTRIBUTE_CHECK("", "LRN", [](const AttributeCheckContext& ctx) {
  ctx.attributes().get_int_at_least("size", 1, 1);
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "LayerNormalization", [](const AttributeCheckContext& ctx) {
  if (std::optional<int64_t> rank = ctx.input_rank(0)) ctx.attributes().axis_in_rank("axis", -1, *rank);
});

}  // namespace onyx
