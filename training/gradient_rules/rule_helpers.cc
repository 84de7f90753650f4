#include "training/gradient_rules/rule_helpers.h"

#include <cstring>
#include <numeric>

#include "runtime/common/error.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/tensor/half.h"

namespace onyx::training {

void rule_error(GradientRuleContext& ctx, const std::string& what) {
  throw_error(ErrorCode::kNotImplemented, "gradient of ", ctx.node().describe(), ": ", what);
}

bool is_float_type(DataType type) {
  return type == DataType::kFloat || type == DataType::kDouble || type == DataType::kFloat16 ||
         type == DataType::kBFloat16;
}

DataType elem_type_of(GradientRuleContext& ctx, const std::string& value) {
  const TypeInfo& type = ctx.type_of(value);
  if (!type.is_tensor() || type.elem_type == DataType::kUndefined) {
    rule_error(ctx, "the element type of '" + value + "' is not known (declare it in the model)");
  }
  return type.elem_type;
}

std::vector<Dim> dims_of(GradientRuleContext& ctx, const std::string& value) {
  const TypeInfo& type = ctx.type_of(value);
  if (!type.is_tensor() || !type.shape) {
    rule_error(ctx, "the rank of '" + value + "' is not known (declare its shape in the model)");
  }
  return *type.shape;
}

int64_t rank_of(GradientRuleContext& ctx, const std::string& value) {
  return static_cast<int64_t>(dims_of(ctx, value).size());
}

std::vector<int64_t> constant_ints(GradientRuleContext& ctx, size_t input_index) {
  const Tensor* value = ctx.constant_value(ctx.input(input_index));
  if (value == nullptr) {
    rule_error(ctx, "input " + std::to_string(input_index) + " ('" + ctx.input(input_index) +
                        "') must be a constant to differentiate this node");
  }
  return value->to_int64_vector();
}

std::string scalar_constant(GradientRuleContext& ctx, double value, DataType type) {
  switch (type) {
    case DataType::kFloat: return ctx.add_constant(Tensor::scalar<float>(static_cast<float>(value)));
    case DataType::kDouble: return ctx.add_constant(Tensor::scalar<double>(value));
    case DataType::kFloat16:
      return ctx.add_constant(Tensor::scalar<Float16>(Float16(static_cast<float>(value))));
    case DataType::kBFloat16:
      return ctx.add_constant(Tensor::scalar<BFloat16>(BFloat16(static_cast<float>(value))));
    case DataType::kInt64: return ctx.add_constant(Tensor::scalar<int64_t>(static_cast<int64_t>(value)));
    case DataType::kInt32: return ctx.add_constant(Tensor::scalar<int32_t>(static_cast<int32_t>(value)));
    default:
      rule_error(ctx, "no gradient for element type " + std::string(dtype_name(type)));
  }
}

std::string scalar_like(GradientRuleContext& ctx, double value, const std::string& like) {
  return scalar_constant(ctx, value, elem_type_of(ctx, like));
}

std::string int64_constant(GradientRuleContext& ctx, const std::vector<int64_t>& values) {
  return ctx.add_constant(
      Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values));
}

std::string shape_of(GradientRuleContext& ctx, const std::string& value) {
  return ctx.add("Shape", {value});
}

std::string shape_slice(GradientRuleContext& ctx, const std::string& value, int64_t begin, int64_t end) {
  return ctx.add("Slice", {shape_of(ctx, value), int64_constant(ctx, {begin}), int64_constant(ctx, {end})});
}

std::string concat_ints(GradientRuleContext& ctx, const std::vector<std::string>& parts) {
  return ctx.add("Concat", parts, {make_attribute("axis", int64_t{0})});
}

std::string reshape_like(GradientRuleContext& ctx, const std::string& value, const std::string& like) {
  // A 0 in Shape(like) is a zero-size dim, not "copy": say so where Reshape can (opset 14+).
  if (ctx.opset() >= 14) {
    return ctx.add("Reshape", {value, shape_of(ctx, like)}, {make_attribute("allowzero", int64_t{1})});
  }
  return ctx.add("Reshape", {value, shape_of(ctx, like)});
}

std::string expand_like(GradientRuleContext& ctx, const std::string& value, const std::string& like) {
  return ctx.add("Expand", {value, shape_of(ctx, like)});
}

std::string zeros_like(GradientRuleContext& ctx, const std::string& like) {
  DataType type = elem_type_of(ctx, like);
  Tensor zero(type, {1});
  std::memset(zero.mutable_raw_data(), 0, zero.byte_size());
  return ctx.add("ConstantOfShape", {shape_of(ctx, like)}, {make_attribute("value", zero)});
}

std::string transpose(GradientRuleContext& ctx, const std::string& value, std::vector<int64_t> perm) {
  return ctx.add("Transpose", {value}, {make_attribute("perm", std::move(perm))});
}

std::string cast_to(GradientRuleContext& ctx, const std::string& value, DataType type) {
  return ctx.add("Cast", {value}, {make_attribute("to", static_cast<int64_t>(type))});
}

std::string size_ratio(GradientRuleContext& ctx, const std::string& a, const std::string& b,
                       DataType type) {
  std::string size_a = cast_to(ctx, ctx.add("Size", {a}), type);
  std::string size_b = cast_to(ctx, ctx.add("Size", {b}), type);
  return ctx.add("Div", {size_a, size_b});
}

std::string reduce(GradientRuleContext& ctx, const std::string& op, const std::string& value,
                   const std::vector<int64_t>& axes, bool keepdims) {
  if (axes.empty()) return value;
  Attribute keep = make_attribute("keepdims", int64_t{keepdims ? 1 : 0});
  int64_t axes_as_input_since = op == "ReduceSum" ? 13 : 18;
  if (ctx.opset() >= axes_as_input_since) {
    return ctx.add(op, {value, int64_constant(ctx, axes)}, {keep});
  }
  return ctx.add(op, {value}, {keep, make_attribute("axes", axes)});
}

std::string reduce_sum(GradientRuleContext& ctx, const std::string& value,
                       const std::vector<int64_t>& axes, bool keepdims) {
  return reduce(ctx, "ReduceSum", value, axes, keepdims);
}

std::string unsqueeze(GradientRuleContext& ctx, const std::string& value, const std::vector<int64_t>& axes) {
  if (axes.empty()) return value;
  if (ctx.opset() >= 13) return ctx.add("Unsqueeze", {value, int64_constant(ctx, axes)});
  return ctx.add("Unsqueeze", {value}, {make_attribute("axes", axes)});
}

std::string sum_to_shape_of(GradientRuleContext& ctx, const std::string& gradient,
                            const std::vector<Dim>& gradient_dims, const std::string& target) {
  std::vector<Dim> target_dims = dims_of(ctx, target);
  const size_t grad_rank = gradient_dims.size(), target_rank = target_dims.size();
  if (target_rank > grad_rank) rule_error(ctx, "gradient has a lower rank than '" + target + "'");
  const size_t lead = grad_rank - target_rank;
  std::vector<int64_t> axes;
  for (size_t i = 0; i < lead; ++i) axes.push_back(static_cast<int64_t>(i));
  bool decided = true;
  for (size_t i = 0; i < target_rank; ++i) {
    const Dim& t = target_dims[i];
    const Dim& g = gradient_dims[lead + i];
    bool same = (t.is_known() && g.is_known() && t.value == g.value) ||
                (!t.symbol.empty() && t.symbol == g.symbol);
    if (same || (t.is_known() && t.value != 1)) continue;  // a non-1 target dim is never broadcast
    if (t.is_known() && t.value == 1) {
      axes.push_back(static_cast<int64_t>(lead + i));
      continue;
    }
    decided = false;  // target dim unknown: it may be 1 (broadcast) or equal
  }
  if (decided) {
    if (axes.empty()) return gradient;
    std::string summed = reduce_sum(ctx, gradient, axes, /*keepdims=*/true);
    return lead == 0 ? summed : reshape_like(ctx, summed, target);
  }
  if (ctx.opset() < 13) {
    rule_error(ctx, "un-broadcasting to '" + target +
                        "' needs its shape statically before opset 13 (declare it in the model)");
  }
  // Axes where the gradient's dim differs from the (left-padded) target dim, found at run time.
  std::string target_shape = shape_of(ctx, target);
  if (lead > 0) {
    target_shape = ctx.add("Concat", {int64_constant(ctx, std::vector<int64_t>(lead, 1)), target_shape},
                           {make_attribute("axis", int64_t{0})});
  }
  std::string differs = ctx.add("Not", {ctx.add("Equal", {shape_of(ctx, gradient), target_shape})});
  std::string axes_value = ctx.add("Reshape", {ctx.add("NonZero", {differs}), int64_constant(ctx, {-1})});
  std::string summed = ctx.add("ReduceSum", {gradient, axes_value},
                               {make_attribute("keepdims", int64_t{1}),
                                make_attribute("noop_with_empty_axes", int64_t{1})});
  return reshape_like(ctx, summed, target);
}

std::string unbroadcast(GradientRuleContext& ctx, const std::string& gradient, size_t output_index,
                        const std::string& target) {
  return sum_to_shape_of(ctx, gradient, dims_of(ctx, ctx.output(output_index)), target);
}

}  // namespace onyx::training
