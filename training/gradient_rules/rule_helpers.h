// Building blocks shared by the gradient rules: typed constants, opset-aware forms of the ops
// whose signature changed (ReduceSum axes became an input in 13, the other reductions in 18,
// Squeeze/Unsqueeze in 13), and un-broadcasting a gradient back to an input's shape.
#pragma once

#include <string>
#include <vector>

#include "onnx_ops/node_attributes.h"
#include "training/gradient_rule.h"

namespace onyx::training {

// Element type of a forward value; throws naming the node when it was not inferred.
DataType elem_type_of(GradientRuleContext& ctx, const std::string& value);
// Rank of a forward value; throws naming the node when it was not inferred.
int64_t rank_of(GradientRuleContext& ctx, const std::string& value);
// Dims of a forward value (entries may be unknown); throws when the rank is unknown.
std::vector<Dim> dims_of(GradientRuleContext& ctx, const std::string& value);
// Integer-valued constant input (axes, pads, repeats); throws naming the node when the input
// is not a constant.
std::vector<int64_t> constant_ints(GradientRuleContext& ctx, size_t input_index);
bool is_float_type(DataType type);

std::string scalar_constant(GradientRuleContext& ctx, double value, DataType type);
// A scalar of `like`'s element type.
std::string scalar_like(GradientRuleContext& ctx, double value, const std::string& like);
std::string int64_constant(GradientRuleContext& ctx, const std::vector<int64_t>& values);

std::string shape_of(GradientRuleContext& ctx, const std::string& value);
// Shape(value)[begin:end] (int64, 1-D) and a 1-D int64 Concat of such parts.
std::string shape_slice(GradientRuleContext& ctx, const std::string& value, int64_t begin, int64_t end);
std::string concat_ints(GradientRuleContext& ctx, const std::vector<std::string>& parts);
std::string reshape_like(GradientRuleContext& ctx, const std::string& value, const std::string& like);
std::string expand_like(GradientRuleContext& ctx, const std::string& value, const std::string& like);
std::string zeros_like(GradientRuleContext& ctx, const std::string& like);
std::string transpose(GradientRuleContext& ctx, const std::string& value, std::vector<int64_t> perm);
std::string cast_to(GradientRuleContext& ctx, const std::string& value, DataType type);
// Size(a) / Size(b) in `type`: the element count a reduction from a to b averaged over.
std::string size_ratio(GradientRuleContext& ctx, const std::string& a, const std::string& b, DataType type);

// Reductions with constant axes in the node form the model's opset expects ("ReduceSum",
// "ReduceMean", ...). Empty `axes` reduces nothing (returns `value`).
std::string reduce(GradientRuleContext& ctx, const std::string& op, const std::string& value,
                   const std::vector<int64_t>& axes, bool keepdims);
std::string reduce_sum(GradientRuleContext& ctx, const std::string& value,
                       const std::vector<int64_t>& axes, bool keepdims);
std::string unsqueeze(GradientRuleContext& ctx, const std::string& value, const std::vector<int64_t>& axes);

// Sums `gradient` (whose dims are `gradient_dims`) down to the shape of forward value
// `target` under NumPy broadcasting: leading axes and axes where target has 1 are summed.
// Uses static shapes when they decide it, otherwise computes the axes at run time (opset 13+).
std::string sum_to_shape_of(GradientRuleContext& ctx, const std::string& gradient,
                            const std::vector<Dim>& gradient_dims, const std::string& target);
// The common case: the gradient has the shape of the node's output `output_index`.
std::string unbroadcast(GradientRuleContext& ctx, const std::string& gradient, size_t output_index,
                        const std::string& target);

// Sets input i's gradient when it is wanted, computing it lazily.
template <typename Make>
void set_if_wanted(GradientRuleContext& ctx, size_t input_index, Make make) {
  if (input_index < ctx.input_count() && ctx.node().has_input(input_index) &&
      ctx.wants_input_gradient(input_index)) {
    ctx.set_input_gradient(input_index, make());
  }
}

// Short names for the values most rules read, so that a rule reads like its formula:
// dy = the gradient of output 0, x = input 0, y = output 0, c(ctx, 2.0) = a scalar of the output's
// element type.
inline std::string dy(GradientRuleContext& ctx) { return ctx.output_gradient(0); }
inline std::string x(GradientRuleContext& ctx) { return ctx.input(0); }
inline std::string y(GradientRuleContext& ctx) { return ctx.output(0); }
inline std::string c(GradientRuleContext& ctx, double value) { return scalar_like(ctx, value, ctx.output(0)); }
inline std::string mul(GradientRuleContext& ctx, const std::string& a, const std::string& b) {
  return ctx.add("Mul", {a, b});
}
// The rule of y = f(x): dx = dy * derivative().
template <typename Derivative>
void unary(GradientRuleContext& ctx, Derivative derivative) {
  set_if_wanted(ctx, 0, [&] { return mul(ctx, dy(ctx), derivative()); });
}

// A rule error that names the node: "gradient of node 'x' (Op, domain ai.onnx): <what>".
[[noreturn]] void rule_error(GradientRuleContext& ctx, const std::string& what);

}  // namespace onyx::training
