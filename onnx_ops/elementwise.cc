// Shape rules of the elementwise families: broadcasting math, comparisons and logic, unary math,
// activations, Softmax-like ops, Clip, Where, Cast and CastLike. Output dims keep symbols where
// the broadcast allows it.
#include "onnx_ops/elementwise.h"

#include <vector>

#include "onnx_ops/broadcast.h"
#include "onnx_ops/op_schema.h"

namespace onyx {

DataType cast_target_type(const NodeAttributes& attributes) {
  const Attribute* to = attributes.find("to");
  if (to != nullptr && to->kind == Attribute::Kind::kString) {
    static const std::pair<const char*, DataType> kNames[] = {
        {"FLOAT", DataType::kFloat},     {"UINT8", DataType::kUInt8},
        {"INT8", DataType::kInt8},       {"UINT16", DataType::kUInt16},
        {"INT16", DataType::kInt16},     {"INT32", DataType::kInt32},
        {"INT64", DataType::kInt64},     {"STRING", DataType::kString},
        {"BOOL", DataType::kBool},       {"FLOAT16", DataType::kFloat16},
        {"DOUBLE", DataType::kDouble},   {"UINT32", DataType::kUInt32},
        {"UINT64", DataType::kUInt64},
    };
    for (const auto& [name, type] : kNames) {
      if (to->s == name) return type;
    }
    throw_error(ErrorCode::kInvalidModel, "attribute to names no Cast-1 type: '", to->s, "'");
  }
  const int64_t code = attributes.require_int("to");
  if (code <= 0 || code > kMaxDataTypeCode) {
    throw_error(ErrorCode::kInvalidModel, "attribute to must be a TensorProto data type code (1 to ",
                kMaxDataTypeCode, "), got ", code);
  }
  return static_cast<DataType>(code);
}

namespace {

// Output of a NumPy broadcast of inputs [first, first+count); rank unknown if any input's is.
std::optional<std::vector<Dim>> broadcast_of_inputs(const InferenceContext& ctx, size_t first,
                                                    size_t count) {
  std::vector<std::vector<Dim>> shapes;
  for (size_t i = first; i < first + count && i < ctx.input_count(); ++i) {
    if (!ctx.has_input(i)) continue;
    const TypeInfo& type = ctx.input_type(i);
    if (!type.is_tensor() || !type.shape) return std::nullopt;
    shapes.push_back(*type.shape);
  }
  if (shapes.empty()) return std::nullopt;
  return broadcast_dims(shapes, ctx.node().describe());
}

// Ops whose opset<7 form broadcasts B into A with attributes: the output has A's shape.
bool legacy_broadcast(const InferenceContext& ctx) { return ctx.opset() < 7; }

void set_broadcast_output(InferenceContext& ctx, DataType dtype, size_t count) {
  if (legacy_broadcast(ctx) && count == 2) {
    ctx.set_output_type(0, TypeInfo::tensor(dtype, ctx.input_type(0).shape));
    return;
  }
  ctx.set_output_type(0, TypeInfo::tensor(dtype, broadcast_of_inputs(ctx, 0, count)));
}

void broadcast_same_type(InferenceContext& ctx) {
  set_broadcast_output(ctx, ctx.input_type(0).elem_type, ctx.input_count());
}

void broadcast_to_bool(InferenceContext& ctx) {
  set_broadcast_output(ctx, DataType::kBool, ctx.input_count());
}

void variadic_broadcast(InferenceContext& ctx) {
  ctx.set_output_type(0, TypeInfo::tensor(ctx.input_type(0).elem_type,
                                          broadcast_of_inputs(ctx, 0, ctx.input_count())));
}

void same_as_input_0(InferenceContext& ctx) {
  const TypeInfo& x = ctx.input_type(0);
  ctx.set_output_type(0, TypeInfo::tensor(x.elem_type, x.shape));
}

void bool_like_input_0(InferenceContext& ctx) {
  ctx.set_output_type(0, TypeInfo::tensor(DataType::kBool, ctx.input_type(0).shape));
}

void where_rule(InferenceContext& ctx) {
  ctx.set_output_type(0, TypeInfo::tensor(ctx.input_type(1).elem_type,
                                          broadcast_of_inputs(ctx, 0, 3)));
}

void cast_rule(InferenceContext& ctx) {
  DataType to = cast_target_type(ctx.attributes());
  ctx.set_output_type(0, TypeInfo::tensor(to, ctx.input_type(0).shape));
}

void cast_like_rule(InferenceContext& ctx) {
  ctx.set_output_type(0, TypeInfo::tensor(ctx.input_type(1).elem_type, ctx.input_type(0).shape));
}

}  // namespace

// Broadcasting, output type of input 0.
ONYX_REGISTER_SHAPE_RULE("", "Add", broadcast_same_type);
ONYX_REGISTER_SHAPE_RULE("", "Sub", broadcast_same_type);
ONYX_REGISTER_SHAPE_RULE("", "Mul", broadcast_same_type);
ONYX_REGISTER_SHAPE_RULE("", "Div", broadcast_same_type);
ONYX_REGISTER_SHAPE_RULE("", "Pow", broadcast_same_type);
ONYX_REGISTER_SHAPE_RULE("", "Mod", broadcast_same_type);
ONYX_REGISTER_SHAPE_RULE("", "BitShift", broadcast_same_type);
ONYX_REGISTER_SHAPE_RULE("", "BitwiseAnd", broadcast_same_type);
ONYX_REGISTER_SHAPE_RULE("", "BitwiseOr", broadcast_same_type);
ONYX_REGISTER_SHAPE_RULE("", "BitwiseXor", broadcast_same_type);
ONYX_REGISTER_SHAPE_RULE("", "Sum", variadic_broadcast);
ONYX_REGISTER_SHAPE_RULE("", "Mean", variadic_broadcast);
ONYX_REGISTER_SHAPE_RULE("", "Max", variadic_broadcast);
ONYX_REGISTER_SHAPE_RULE("", "Min", variadic_broadcast);
// Broadcasting, bool output.
ONYX_REGISTER_SHAPE_RULE("", "Equal", broadcast_to_bool);
ONYX_REGISTER_SHAPE_RULE("", "Less", broadcast_to_bool);
ONYX_REGISTER_SHAPE_RULE("", "Greater", broadcast_to_bool);
ONYX_REGISTER_SHAPE_RULE("", "LessOrEqual", broadcast_to_bool);
ONYX_REGISTER_SHAPE_RULE("", "GreaterOrEqual", broadcast_to_bool);
ONYX_REGISTER_SHAPE_RULE("", "And", broadcast_to_bool);
ONYX_REGISTER_SHAPE_RULE("", "Or", broadcast_to_bool);
ONYX_REGISTER_SHAPE_RULE("", "Xor", broadcast_to_bool);
ONYX_REGISTER_SHAPE_RULE("", "Where", where_rule);
// Same type and shape as input 0 (PRelu's slope broadcasts into X; Clip's bounds are scalars).
#define ONYX_SAME_AS_INPUT_0(op) ONYX_REGISTER_SHAPE_RULE("", op, same_as_input_0)
ONYX_SAME_AS_INPUT_0("Neg");
ONYX_SAME_AS_INPUT_0("Abs");
ONYX_SAME_AS_INPUT_0("Reciprocal");
ONYX_SAME_AS_INPUT_0("Floor");
ONYX_SAME_AS_INPUT_0("Ceil");
ONYX_SAME_AS_INPUT_0("Round");
ONYX_SAME_AS_INPUT_0("Sqrt");
ONYX_SAME_AS_INPUT_0("Exp");
ONYX_SAME_AS_INPUT_0("Log");
ONYX_SAME_AS_INPUT_0("Sin");
ONYX_SAME_AS_INPUT_0("Cos");
ONYX_SAME_AS_INPUT_0("Tan");
ONYX_SAME_AS_INPUT_0("Asin");
ONYX_SAME_AS_INPUT_0("Acos");
ONYX_SAME_AS_INPUT_0("Atan");
ONYX_SAME_AS_INPUT_0("Sinh");
ONYX_SAME_AS_INPUT_0("Cosh");
ONYX_SAME_AS_INPUT_0("Asinh");
ONYX_SAME_AS_INPUT_0("Acosh");
ONYX_SAME_AS_INPUT_0("Atanh");
ONYX_SAME_AS_INPUT_0("Sign");
ONYX_SAME_AS_INPUT_0("Erf");
ONYX_SAME_AS_INPUT_0("Not");
ONYX_SAME_AS_INPUT_0("BitwiseNot");
ONYX_SAME_AS_INPUT_0("Clip");
ONYX_SAME_AS_INPUT_0("Relu");
ONYX_SAME_AS_INPUT_0("LeakyRelu");
ONYX_SAME_AS_INPUT_0("PRelu");
ONYX_SAME_AS_INPUT_0("Elu");
ONYX_SAME_AS_INPUT_0("Selu");
ONYX_SAME_AS_INPUT_0("Celu");
ONYX_SAME_AS_INPUT_0("Sigmoid");
ONYX_SAME_AS_INPUT_0("HardSigmoid");
ONYX_SAME_AS_INPUT_0("HardSwish");
ONYX_SAME_AS_INPUT_0("Tanh");
ONYX_SAME_AS_INPUT_0("Softplus");
ONYX_SAME_AS_INPUT_0("Softsign");
ONYX_SAME_AS_INPUT_0("ThresholdedRelu");
ONYX_SAME_AS_INPUT_0("Mish");
ONYX_SAME_AS_INPUT_0("Swish");
ONYX_SAME_AS_INPUT_0("Gelu");
ONYX_SAME_AS_INPUT_0("Softmax");
ONYX_SAME_AS_INPUT_0("LogSoftmax");
ONYX_SAME_AS_INPUT_0("Hardmax");
#undef ONYX_SAME_AS_INPUT_0
// com.onyx Gelu: the Erf form of GELU in one node (runtime/optimizer/gelu_fusion.h).
ONYX_REGISTER_SHAPE_RULE(kOnyxDomain, "Gelu", same_as_input_0);
ONYX_REGISTER_SHAPE_RULE("", "IsNaN", bool_like_input_0);
ONYX_REGISTER_SHAPE_RULE("", "IsInf", bool_like_input_0);
ONYX_REGISTER_SHAPE_RULE("", "Cast", cast_rule);
ONYX_REGISTER_SHAPE_RULE("", "CastLike", cast_like_rule);

}  // namespace onyx
