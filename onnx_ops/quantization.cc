// Shape rules of the quantization ops and the scale/zero-point layout helper.
#include "onnx_ops/quantization.h"

#include "onnx_ops/axes.h"
#include "onnx_ops/linalg.h"
#include "onnx_ops/nn_geometry.h"
#include "onnx_ops/op_schema.h"

namespace onyx {

QuantParamLayout quant_param_layout(const Shape& data, const Shape& param, int64_t axis,
                                    int64_t block_size, std::string_view op) {
  QuantParamLayout layout;
  layout.inner = shape_element_count(data);
  // A single value (scalar or one-element tensor) applies to every element, as the reference
  // treats it.
  if (shape_element_count(param) == 1 && (param.size() <= 1 || block_size == 0)) return layout;
  const int64_t rank = static_cast<int64_t>(data.size());
  if (rank == 0) {
    throw_error(ErrorCode::kInvalidArgument, op, ": scale/zero point ", shape_to_string(param),
                " must be a scalar for a scalar input");
  }
  const int64_t a = normalize_axis(axis, rank, op);
  layout.outer = 1;
  for (int64_t d = 0; d < a; ++d) layout.outer *= data[d];
  layout.axis_dim = data[a];
  layout.inner = 1;
  for (int64_t d = a + 1; d < rank; ++d) layout.inner *= data[d];
  if (block_size == 0) {
    if (param.size() != 1 || param[0] != data[a]) {
      throw_error(ErrorCode::kInvalidArgument, op, ": per-axis scale/zero point ",
                  shape_to_string(param), " must be 1-D with the ", data[a],
                  " elements of axis ", axis, " of input ", shape_to_string(data));
    }
    layout.axis_stride = 1;
    return layout;
  }
  if (block_size < 0) {
    throw_error(ErrorCode::kInvalidArgument, op, ": block_size must be positive, got ", block_size);
  }
  const int64_t blocks = (data[a] + block_size - 1) / block_size;
  bool fits = static_cast<int64_t>(param.size()) == rank;
  for (int64_t d = 0; fits && d < rank; ++d) fits = param[d] == (d == a ? blocks : data[d]);
  if (!fits) {
    throw_error(ErrorCode::kInvalidArgument, op, ": blocked scale/zero point ",
                shape_to_string(param), " must match input ", shape_to_string(data),
                " except for ceil(", data[a], "/", block_size, ") = ", blocks, " along axis ", axis);
  }
  layout.block = block_size;
  layout.inner_stride = 1;
  layout.axis_stride = layout.inner;
  layout.outer_stride = blocks * layout.inner;
  return layout;
}

bool is_quantized_type(DataType type) {
  switch (type) {
    case DataType::kUInt8: case DataType::kInt8: case DataType::kUInt16: case DataType::kInt16:
    case DataType::kUInt4: case DataType::kInt4: case DataType::kUInt2: case DataType::kInt2:
    case DataType::kFloat8E4M3FN: case DataType::kFloat8E4M3FNUZ: case DataType::kFloat8E5M2:
    case DataType::kFloat8E5M2FNUZ: case DataType::kFloat4E2M1:
      return true;
    default:
      return false;
  }
}

namespace {

TypeInfo same_shape(const TypeInfo& x, DataType type) {
  return TypeInfo::tensor(type, x.is_tensor() ? x.shape : std::nullopt);
}

void quantize_rule(InferenceContext& ctx) {
  DataType out = DataType::kUInt8;
  if (ctx.has_input(2) && ctx.input_type(2).is_tensor() &&
      ctx.input_type(2).elem_type != DataType::kUndefined) {
    out = ctx.input_type(2).elem_type;
  } else if (const int64_t code = ctx.attributes().get_int("output_dtype", 0); code != 0) {
    out = dtype_from_code(static_cast<int32_t>(code));
  }
  ctx.set_output_type(0, same_shape(ctx.input_type(0), out));
}

void dequantize_rule(InferenceContext& ctx) {
  DataType out = ctx.input_type(1).elem_type;
  if (const int64_t code = ctx.attributes().get_int("output_dtype", 0); code != 0) {
    out = dtype_from_code(static_cast<int32_t>(code));
  }
  if (out == DataType::kUndefined) out = DataType::kFloat;
  ctx.set_output_type(0, same_shape(ctx.input_type(0), out));
}

void dynamic_quantize_rule(InferenceContext& ctx) {
  ctx.set_output_type(0, same_shape(ctx.input_type(0), DataType::kUInt8));
  if (ctx.output_count() > 1) ctx.set_output_type(1, TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{}));
  if (ctx.output_count() > 2) ctx.set_output_type(2, TypeInfo::tensor(DataType::kUInt8, std::vector<Dim>{}));
}

void integer_matmul_rule(InferenceContext& ctx, size_t b_input, DataType out, std::string_view op) {
  const TypeInfo& a = ctx.input_type(0);
  const TypeInfo& b = ctx.input_type(b_input);
  std::vector<Dim> dims;
  if (a.is_tensor() && b.is_tensor() && matmul_dims(a, b, dims, op)) {
    ctx.set_output_type(0, TypeInfo::tensor(out, dims));
  } else {
    ctx.set_output_type(0, TypeInfo::tensor(out));
  }
}

void integer_conv_rule(InferenceContext& ctx, size_t w_input, DataType out, std::string_view op) {
  const TypeInfo& x = ctx.input_type(0);
  const TypeInfo& w = ctx.input_type(w_input);
  if (!x.is_tensor() || !x.shape || !w.is_tensor() || !w.shape || x.shape->size() < 3) {
    ctx.set_output_type(0, TypeInfo::tensor(out));
    return;
  }
  std::vector<Dim> dims = {(*x.shape)[0], (*w.shape)[0]};
  WindowAttributes attrs = WindowAttributes::read(ctx.attributes());
  std::vector<int64_t> spatial, kernel;
  bool known = known_spatial_dims(x, spatial);
  if (!attrs.kernel_shape.empty()) {
    kernel = attrs.kernel_shape;
  } else {
    known = known && known_spatial_dims(w, kernel);
  }
  if (known) {
    WindowGeometry g = forward_window_geometry(attrs, spatial, kernel, op);
    for (int64_t v : g.output) dims.push_back(Dim::known(v));
  } else {
    for (size_t d = 2; d < x.shape->size(); ++d) dims.push_back(Dim{});
  }
  ctx.set_output_type(0, TypeInfo::tensor(out, dims));
}

DataType type_of_input(InferenceContext& ctx, size_t i, DataType fallback) {
  if (ctx.has_input(i) && ctx.input_type(i).is_tensor() &&
      ctx.input_type(i).elem_type != DataType::kUndefined) {
    return ctx.input_type(i).elem_type;
  }
  return fallback;
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "QuantizeLinear", quantize_rule);
ONYX_REGISTER_SHAPE_RULE("", "DequantizeLinear", dequantize_rule);
ONYX_REGISTER_SHAPE_RULE("", "DynamicQuantizeLinear", dynamic_quantize_rule);
ONYX_REGISTER_SHAPE_RULE("", "MatMulInteger", [](InferenceContext& ctx) {
  integer_matmul_rule(ctx, 1, DataType::kInt32, "MatMulInteger");
});
ONYX_REGISTER_SHAPE_RULE("", "QLinearMatMul", [](InferenceContext& ctx) {
  integer_matmul_rule(ctx, 3, type_of_input(ctx, 7, type_of_input(ctx, 0, DataType::kUInt8)),
                      "QLinearMatMul");
});
ONYX_REGISTER_SHAPE_RULE("", "ConvInteger", [](InferenceContext& ctx) {
  integer_conv_rule(ctx, 1, DataType::kInt32, "ConvInteger");
});
ONYX_REGISTER_SHAPE_RULE("", "QLinearConv", [](InferenceContext& ctx) {
  integer_conv_rule(ctx, 3, type_of_input(ctx, 7, type_of_input(ctx, 0, DataType::kUInt8)),
                    "QLinearConv");
});

ONYX_REGISTER_ATTRIBUTE_CHECK("", "ConvInteger",
                              [](const AttributeCheckContext& ctx) { check_window_attributes(ctx, {1, false}); });
ONYX_REGISTER_ATTRIBUTE_CHECK("", "QLinearConv",
                              [](const AttributeCheckContext& ctx) { check_window_attributes(ctx, {3, false}); });

}  // namespace onyx
