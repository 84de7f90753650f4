// Sequence ops (opset 11 on; SequenceMap 17) and optional ops (opset 15 on, widened in 18): shared helpers
// and shape rules. A sequence's type is seq(tensor) with one element type that covers every
// item; an optional's is optional(tensor or seq).
#include "onnx_ops/sequence.h"

#include <algorithm>

#include "onnx_ops/axes.h"
#include "onnx_ops/op_schema.h"
#include "onnx_ops/tensor_ops_rules.h"

namespace onyx {

int64_t normalize_sequence_position(int64_t position, int64_t size, bool allow_end,
                                    std::string_view op) {
  const int64_t high = allow_end ? size : size - 1;
  if (position < -size || position > high) {
    throw_error(ErrorCode::kInvalidArgument, op, ": position ", position,
                " is out of range for a sequence of ", size, " tensors (allowed [", -size, ", ",
                high, "])");
  }
  return position < 0 ? position + size : position;
}

int64_t sequence_position_value(const Tensor& position, std::string_view op) {
  ONYX_CHECK(position.dtype() == DataType::kInt32 || position.dtype() == DataType::kInt64,
             ErrorCode::kInvalidArgument, op, ": position must be int32 or int64, got ",
             dtype_name(position.dtype()));
  ONYX_CHECK(position.element_count() == 1, ErrorCode::kInvalidArgument, op,
             ": position must be a scalar, got shape ", shape_to_string(position.shape()));
  return position.to_int64_vector()[0];
}

std::vector<int64_t> split_to_sequence_sizes(int64_t dim, const Tensor* split) {
  if (split == nullptr) return std::vector<int64_t>(static_cast<size_t>(dim), 1);
  ONYX_CHECK(split->dtype() == DataType::kInt32 || split->dtype() == DataType::kInt64,
             ErrorCode::kInvalidArgument, "SplitToSequence: split must be int32 or int64, got ",
             dtype_name(split->dtype()));
  ONYX_CHECK(split->rank() <= 1, ErrorCode::kInvalidArgument,
             "SplitToSequence: split must be a scalar or 1-D, got shape ",
             shape_to_string(split->shape()));
  std::vector<int64_t> values = split->to_int64_vector();
  if (split->rank() == 0) {
    const int64_t chunk = values[0];
    ONYX_CHECK(chunk > 0, ErrorCode::kInvalidArgument, "SplitToSequence: split ", chunk,
               " must be positive");
    std::vector<int64_t> sizes;
    for (int64_t left = dim; left > 0; left -= chunk) sizes.push_back(std::min(chunk, left));
    return sizes;
  }
  int64_t sum = 0;
  for (int64_t s : values) {
    ONYX_CHECK(s >= 0, ErrorCode::kInvalidArgument, "SplitToSequence: negative split size ", s);
    sum += s;
  }
  ONYX_CHECK(sum == dim, ErrorCode::kInvalidArgument, "SplitToSequence: split sizes sum to ",
             sum, " but the axis has length ", dim);
  return values;
}

TypeInfo merge_tensor_types(const TypeInfo& a, const TypeInfo& b) {
  if (!a.is_tensor()) return b.is_tensor() ? TypeInfo::tensor(b.elem_type) : TypeInfo{};
  if (!b.is_tensor()) return TypeInfo::tensor(a.elem_type);
  TypeInfo merged = TypeInfo::tensor(a.elem_type != DataType::kUndefined ? a.elem_type
                                                                         : b.elem_type);
  if (a.shape && b.shape && a.shape->size() == b.shape->size()) {
    std::vector<Dim> dims = *a.shape;
    for (size_t d = 0; d < dims.size(); ++d) {
      if (!(dims[d] == (*b.shape)[d])) dims[d] = Dim{};
    }
    merged.shape = std::move(dims);
  }
  return merged;
}

namespace {

using tensor_rules::Dims;

TypeInfo sequence_of(TypeInfo element) {
  return TypeInfo::wrapping(TypeInfo::Kind::kSequence, std::move(element));
}

// Input i as a tensor type (constants included).
TypeInfo tensor_type_with_constants(const InferenceContext& ctx, size_t i) {
  if (const Tensor* value = ctx.input_constant(i)) {
    return TypeInfo::tensor_of_shape(value->dtype(), value->shape());
  }
  return ctx.input_type(i);
}

// The element type of sequence input i; unknown when the input is not known as a sequence.
TypeInfo sequence_element(const InferenceContext& ctx, size_t i) {
  const TypeInfo& type = ctx.input_type(i);
  if (type.kind == TypeInfo::Kind::kSequence && type.element) return *type.element;
  return {};
}

void sequence_empty_rule(InferenceContext& ctx) {
  const int64_t code = ctx.attributes().get_int("dtype", static_cast<int64_t>(DataType::kFloat));
  ctx.set_output_type(0, sequence_of(TypeInfo::tensor(dtype_from_code(static_cast<int32_t>(code)))));
}

void sequence_construct_rule(InferenceContext& ctx) {
  if (ctx.input_count() == 0) {
    throw_error(ErrorCode::kInvalidModel, "SequenceConstruct: needs at least one input");
  }
  TypeInfo element = tensor_type_with_constants(ctx, 0);
  for (size_t i = 1; i < ctx.input_count(); ++i) {
    TypeInfo next = tensor_type_with_constants(ctx, i);
    if (element.elem_type != DataType::kUndefined && next.elem_type != DataType::kUndefined &&
        element.elem_type != next.elem_type) {
      throw_error(ErrorCode::kInvalidModel, "SequenceConstruct: input ", i, " is ",
                  dtype_name(next.elem_type), " but input 0 is ", dtype_name(element.elem_type));
    }
    element = merge_tensor_types(element, next);
  }
  if (!element.is_tensor()) element = TypeInfo::tensor(DataType::kUndefined);
  ctx.set_output_type(0, sequence_of(element));
}

void sequence_insert_rule(InferenceContext& ctx) {
  TypeInfo element = sequence_element(ctx, 0);
  TypeInfo tensor = tensor_type_with_constants(ctx, 1);
  if (element.is_tensor() && tensor.is_tensor() && element.elem_type != DataType::kUndefined &&
      tensor.elem_type != DataType::kUndefined && element.elem_type != tensor.elem_type) {
    throw_error(ErrorCode::kInvalidModel, "SequenceInsert: tensor is ",
                dtype_name(tensor.elem_type), " but the sequence holds ",
                dtype_name(element.elem_type));
  }
  // An element type without a shape (SequenceEmpty) stays shapeless: the merge drops it.
  ctx.set_output_type(0, sequence_of(merge_tensor_types(element, tensor)));
}

void sequence_erase_rule(InferenceContext& ctx) {
  TypeInfo element = sequence_element(ctx, 0);
  if (element.kind != TypeInfo::Kind::kUnknown) ctx.set_output_type(0, sequence_of(element));
}

void sequence_at_rule(InferenceContext& ctx) {
  TypeInfo element = sequence_element(ctx, 0);
  if (element.is_tensor()) ctx.set_output_type(0, element);
}

void sequence_length_rule(InferenceContext& ctx) {
  ctx.set_output_type(0, TypeInfo::tensor(DataType::kInt64, Dims{}));
}

void split_to_sequence_rule(InferenceContext& ctx) {
  TypeInfo input = tensor_type_with_constants(ctx, 0);
  TypeInfo element = TypeInfo::tensor(input.elem_type);
  if (input.is_tensor() && input.shape) {
    Dims dims = *input.shape;
    const int64_t axis = normalize_axis(ctx.attributes().get_int("axis", 0),
                                        static_cast<int64_t>(dims.size()), "SplitToSequence");
    if (!ctx.has_input(1)) {
      if (ctx.attributes().get_int("keepdims", 1) != 0) {
        dims[axis] = Dim::known(1);
      } else {
        dims.erase(dims.begin() + axis);
      }
    } else {
      // Chunks of one known size when the split is a constant that divides the axis evenly.
      Dim chunk;
      const Tensor* split = ctx.input_constant(1);
      if (split != nullptr && dims[axis].is_known()) {
        std::vector<int64_t> sizes = split_to_sequence_sizes(dims[axis].value, split);
        if (!sizes.empty() && std::all_of(sizes.begin(), sizes.end(),
                                          [&](int64_t s) { return s == sizes[0]; })) {
          chunk = Dim::known(sizes[0]);
        }
      }
      dims[axis] = chunk;
    }
    element.shape = std::move(dims);
  }
  ctx.set_output_type(0, sequence_of(element));
}

void concat_from_sequence_rule(InferenceContext& ctx) {
  TypeInfo element = sequence_element(ctx, 0);
  const int64_t axis_attr = ctx.attributes().require_int("axis");
  const bool new_axis = ctx.attributes().get_int("new_axis", 0) != 0;
  TypeInfo out = TypeInfo::tensor(element.elem_type);
  if (element.is_tensor() && element.shape) {
    Dims dims = *element.shape;
    const int64_t rank = static_cast<int64_t>(dims.size());
    const int64_t axis =
        normalize_axis(axis_attr, new_axis ? rank + 1 : rank, "ConcatFromSequence");
    if (new_axis) {
      dims.insert(dims.begin() + axis, Dim{});
    } else {
      dims[axis] = Dim{};  // the sum over an unknown number of items
    }
    out.shape = std::move(dims);
  }
  ctx.set_output_type(0, out);
}

// Output k is a sequence of body output k's element type; shapes may differ between items.
void sequence_map_rule(InferenceContext& ctx) {
  const Graph& body = ctx.attributes().require_graph("body");
  for (size_t k = 0; k < ctx.output_count() && k < body.outputs.size(); ++k) {
    ctx.set_output_type(k, sequence_of(TypeInfo::tensor(body.outputs[k].type.elem_type)));
  }
}

void optional_rule(InferenceContext& ctx) {
  if (ctx.has_input(0)) {
    ctx.set_output_type(0, TypeInfo::wrapping(TypeInfo::Kind::kOptional, tensor_type_with_constants(ctx, 0)));
    return;
  }
  const Attribute* type = ctx.attributes().find("type");
  if (type == nullptr || type->kind != Attribute::Kind::kTypeProto) {
    throw_error(ErrorCode::kInvalidModel,
                "Optional: without an input the node needs a 'type' attribute");
  }
  ctx.set_output_type(0, TypeInfo::wrapping(TypeInfo::Kind::kOptional, type->tp));
}

void optional_has_element_rule(InferenceContext& ctx) {
  ctx.set_output_type(0, TypeInfo::tensor(DataType::kBool, Dims{}));
}

void optional_get_element_rule(InferenceContext& ctx) {
  const TypeInfo& input = ctx.input_type(0);
  if (input.kind == TypeInfo::Kind::kOptional) {
    if (input.element) ctx.set_output_type(0, *input.element);
  } else {
    ctx.set_output_type(0, tensor_type_with_constants(ctx, 0));
  }
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "SequenceEmpty", sequence_empty_rule);
ONYX_REGISTER_SHAPE_RULE("", "SequenceConstruct", sequence_construct_rule);
ONYX_REGISTER_SHAPE_RULE("", "SequenceInsert", sequence_insert_rule);
ONYX_REGISTER_SHAPE_RULE("", "SequenceErase", sequence_erase_rule);
ONYX_REGISTER_SHAPE_RULE("", "SequenceAt", sequence_at_rule);
ONYX_REGISTER_SHAPE_RULE("", "SequenceLength", sequence_length_rule);
ONYX_REGISTER_SHAPE_RULE("", "SplitToSequence", split_to_sequence_rule);
ONYX_REGISTER_SHAPE_RULE("", "ConcatFromSequence", concat_from_sequence_rule);
ONYX_REGISTER_SHAPE_RULE("", "SequenceMap", sequence_map_rule);
ONYX_REGISTER_SHAPE_RULE("", "Optional", optional_rule);
ONYX_REGISTER_SHAPE_RULE("", "OptionalHasElement", optional_has_element_rule);
ONYX_REGISTER_SHAPE_RULE("", "OptionalGetElement", optional_get_element_rule);

}  // namespace onyx
