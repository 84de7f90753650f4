// Gradient rules of the Reduce* ops: the output gradient is given back the reduced axes
// (Unsqueeze when keepdims=0) and spread over the input by each reduction's derivative.
// ReduceMax/ReduceMin split the gradient evenly between tied extremes.
#include "onnx_ops/reduction.h"
#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {
namespace {

using Ctx = GradientRuleContext;

struct ReducedAxes {
  std::vector<int64_t> axes;  // normalized, sorted; empty: nothing reduced
  std::string axes_input;     // axes known only at run time (then `axes` is unused)
  bool noop = false;          // noop_with_empty_axes
  std::string dy;             // output gradient with the reduced axes kept (size 1)
  std::string y;              // output with the reduced axes kept
};

// ReduceSum of v over the reduction's axes, keeping them.
std::string sum_over_reduced(Ctx& ctx, const ReducedAxes& r, const std::string& v) {
  if (r.axes_input.empty()) return reduce_sum(ctx, v, r.axes, true);
  return ctx.add("ReduceSum", {v, r.axes_input},
                 {make_attribute("keepdims", int64_t{1}), make_attribute("noop_with_empty_axes", int64_t{r.noop ? 1 : 0})});
}

ReducedAxes read_reduction(Ctx& ctx) {
  NodeAttributes attributes(ctx.node());
  const int64_t rank = rank_of(ctx, ctx.input(0));
  std::vector<int64_t> axes;
  bool noop = false;
  ReducedAxes r;
  if (reduce_axes_from_input(ctx.node().op_type, ctx.opset())) {
    noop = attributes.get_int("noop_with_empty_axes", 0) != 0;
    if (ctx.node().has_input(1)) {
      const Tensor* constant = ctx.constant_value(ctx.input(1));
      if (constant) {
        axes = constant->to_int64_vector();
      } else {
        r.axes_input = ctx.input(1);
      }
    }
  } else {
    axes = attributes.get_ints("axes");
  }
  r.noop = noop;
  if (r.axes_input.empty()) r.axes = resolve_reduce_axes(axes, noop, rank, ctx.node().op_type);
  r.dy = ctx.output_gradient(0);
  r.y = ctx.output(0);
  if (attributes.get_int("keepdims", 1) == 0) {
    if (r.axes_input.empty()) {
      r.dy = unsqueeze(ctx, r.dy, r.axes);
      r.y = unsqueeze(ctx, r.y, r.axes);
    } else {  // the kept-dims shape, from the same reduction with keepdims=1
      std::string kept = shape_of(ctx, sum_over_reduced(ctx, r, ctx.input(0)));
      r.dy = ctx.add("Reshape", {r.dy, kept});
      r.y = ctx.add("Reshape", {r.y, kept});
    }
  }
  return r;
}


// Registers a rule computing dx from the kept-dims reduction.
template <typename Make>
GradientRule reduce_rule(Make make) {
  return [make](Ctx& ctx) {
    set_if_wanted(ctx, 0, [&] { return make(ctx, read_reduction(ctx)); });
  };
}

std::string sum_gradient(Ctx& ctx, const ReducedAxes& r) { return expand_like(ctx, r.dy, x(ctx)); }

std::string mean_gradient(Ctx& ctx, const ReducedAxes& r) {
  std::string count = size_ratio(ctx, x(ctx), ctx.output(0), elem_type_of(ctx, x(ctx)));
  return expand_like(ctx, ctx.add("Div", {r.dy, count}), x(ctx));
}

std::string extreme_gradient(Ctx& ctx, const ReducedAxes& r) {
  std::string mask = cast_to(ctx, ctx.add("Equal", {x(ctx), r.y}), elem_type_of(ctx, x(ctx)));
  std::string ties = sum_over_reduced(ctx, r, mask);
  return mul(ctx, mask, ctx.add("Div", {r.dy, ties}));
}

std::string prod_gradient(Ctx& ctx, const ReducedAxes& r) {  // y / x (inputs must be non-zero)
  return ctx.add("Div", {mul(ctx, r.dy, r.y), x(ctx)});
}

std::string l1_gradient(Ctx& ctx, const ReducedAxes& r) { return mul(ctx, ctx.add("Sign", {x(ctx)}), r.dy); }

std::string l2_gradient(Ctx& ctx, const ReducedAxes& r) {
  return mul(ctx, x(ctx), ctx.add("Div", {r.dy, r.y}));
}

std::string sum_square_gradient(Ctx& ctx, const ReducedAxes& r) {
  return mul(ctx, mul(ctx, x(ctx), c(ctx, 2.0)), r.dy);
}

std::string log_sum_exp_gradient(Ctx& ctx, const ReducedAxes& r) {
  return mul(ctx, ctx.add("Exp", {ctx.add("Sub", {x(ctx), r.y})}), r.dy);
}

std::string log_sum_gradient(Ctx& ctx, const ReducedAxes& r) {  // dy / sum
  return expand_like(ctx, ctx.add("Div", {r.dy, ctx.add("Exp", {r.y})}), x(ctx));
}

ONYX_REGISTER_GRADIENT_RULE("", "ReduceSum", reduce_rule(sum_gradient));
ONYX_REGISTER_GRADIENT_RULE("", "ReduceMean", reduce_rule(mean_gradient));
ONYX_REGISTER_GRADIENT_RULE("", "ReduceMax", reduce_rule(extreme_gradient));
ONYX_REGISTER_GRADIENT_RULE("", "ReduceMin", reduce_rule(extreme_gradient));
ONYX_REGISTER_GRADIENT_RULE("", "ReduceProd", reduce_rule(prod_gradient));
ONYX_REGISTER_GRADIENT_RULE("", "ReduceL1", reduce_rule(l1_gradient));
ONYX_REGISTER_GRADIENT_RULE("", "ReduceL2", reduce_rule(l2_gradient));
ONYX_REGISTER_GRADIENT_RULE("", "ReduceSumSquare", reduce_rule(sum_square_gradient));
ONYX_REGISTER_GRADIENT_RULE("", "ReduceLogSumExp", reduce_rule(log_sum_exp_gradient));
ONYX_REGISTER_GRADIENT_RULE("", "ReduceLogSum", reduce_rule(log_sum_gradient));

}  // namespace
}  // namespace onyx::training
