// Gradient rules of elementwise math: the broadcasting binary ops (gradients summed back to
// each input's shape), unary math, the variadic Sum/Mean/Max/Min, Where, Clip, Cast, Identity
// and the piecewise-constant ops (zero gradient, as in PyTorch).
#include <cmath>
#include <numbers>

#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {
namespace {

using Ctx = GradientRuleContext;

// ---- binary ---------------------------------------------------------------------------------

void add_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return unbroadcast(ctx, dy(ctx), 0, ctx.input(0)); });
  set_if_wanted(ctx, 1, [&] { return unbroadcast(ctx, dy(ctx), 0, ctx.input(1)); });
}

void sub_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return unbroadcast(ctx, dy(ctx), 0, ctx.input(0)); });
  set_if_wanted(ctx, 1, [&] { return unbroadcast(ctx, ctx.add("Neg", {dy(ctx)}), 0, ctx.input(1)); });
}

void mul_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return unbroadcast(ctx, mul(ctx, dy(ctx), ctx.input(1)), 0, ctx.input(0)); });
  set_if_wanted(ctx, 1, [&] { return unbroadcast(ctx, mul(ctx, dy(ctx), ctx.input(0)), 0, ctx.input(1)); });
}

void div_rule(Ctx& ctx) {
  // y = a / b: da = dy / b, db = -dy * y / b.
  set_if_wanted(ctx, 0, [&] {
    return unbroadcast(ctx, ctx.add("Div", {dy(ctx), ctx.input(1)}), 0, ctx.input(0));
  });
  set_if_wanted(ctx, 1, [&] {
    std::string g = ctx.add("Neg", {ctx.add("Div", {mul(ctx, dy(ctx), y(ctx)), ctx.input(1)})});
    return unbroadcast(ctx, g, 0, ctx.input(1));
  });
}

void pow_rule(Ctx& ctx) {
  // y = a^b: da = dy * b * a^(b-1), db = dy * y * log(a).
  set_if_wanted(ctx, 0, [&] {
    std::string exponent = ctx.input(1);
    if (elem_type_of(ctx, exponent) != elem_type_of(ctx, x(ctx))) {
      exponent = cast_to(ctx, exponent, elem_type_of(ctx, x(ctx)));
    }
    std::string power = ctx.add("Pow", {x(ctx), ctx.add("Sub", {exponent, c(ctx, 1.0)})});
    return unbroadcast(ctx, mul(ctx, dy(ctx), mul(ctx, exponent, power)), 0, x(ctx));
  });
  set_if_wanted(ctx, 1, [&] {
    std::string g = mul(ctx, dy(ctx), mul(ctx, y(ctx), ctx.add("Log", {x(ctx)})));
    return unbroadcast(ctx, g, 0, ctx.input(1));
  });
}

// ---- unary math -------------------------------------------------------------------------------

void neg_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return ctx.add("Neg", {dy(ctx)}); });
}
void abs_rule(Ctx& ctx) { unary(ctx, [&] { return ctx.add("Sign", {x(ctx)}); }); }
void exp_rule(Ctx& ctx) { unary(ctx, [&] { return y(ctx); }); }
void log_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return ctx.add("Div", {dy(ctx), x(ctx)}); });
}
void sqrt_rule(Ctx& ctx) {  // dy / (2 sqrt(x))
  set_if_wanted(ctx, 0, [&] { return ctx.add("Div", {mul(ctx, dy(ctx), c(ctx, 0.5)), y(ctx)}); });
}
void reciprocal_rule(Ctx& ctx) {  // -dy * y^2
  set_if_wanted(ctx, 0, [&] { return ctx.add("Neg", {mul(ctx, dy(ctx), mul(ctx, y(ctx), y(ctx)))}); });
}
void sin_rule(Ctx& ctx) { unary(ctx, [&] { return ctx.add("Cos", {x(ctx)}); }); }
void cos_rule(Ctx& ctx) { unary(ctx, [&] { return ctx.add("Neg", {ctx.add("Sin", {x(ctx)})}); }); }
void tan_rule(Ctx& ctx) {  // 1 + tan^2
  unary(ctx, [&] { return ctx.add("Add", {c(ctx, 1.0), mul(ctx, y(ctx), y(ctx))}); });
}
void atan_rule(Ctx& ctx) {  // dy / (1 + x^2)
  set_if_wanted(ctx, 0, [&] {
    return ctx.add("Div", {dy(ctx), ctx.add("Add", {c(ctx, 1.0), mul(ctx, x(ctx), x(ctx))})});
  });
}
void sinh_rule(Ctx& ctx) { unary(ctx, [&] { return ctx.add("Cosh", {x(ctx)}); }); }
void cosh_rule(Ctx& ctx) { unary(ctx, [&] { return ctx.add("Sinh", {x(ctx)}); }); }
void tanh_rule(Ctx& ctx) {  // 1 - y^2
  unary(ctx, [&] { return ctx.add("Sub", {c(ctx, 1.0), mul(ctx, y(ctx), y(ctx))}); });
}
void sigmoid_rule(Ctx& ctx) {  // y (1 - y)
  unary(ctx, [&] { return mul(ctx, y(ctx), ctx.add("Sub", {c(ctx, 1.0), y(ctx)})); });
}
void erf_rule(Ctx& ctx) {  // 2/sqrt(pi) exp(-x^2)
  unary(ctx, [&] {
    std::string e = ctx.add("Exp", {ctx.add("Neg", {mul(ctx, x(ctx), x(ctx))})});
    return mul(ctx, e, c(ctx, 2.0 / std::sqrt(std::numbers::pi)));
  });
}

void zero_rule(Ctx& ctx) {  // Floor, Ceil, Round, Sign: piecewise constant
  set_if_wanted(ctx, 0, [&] { return zeros_like(ctx, x(ctx)); });
}

void identity_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return dy(ctx); });
}

void cast_rule(Ctx& ctx) {  // Cast, CastLike: back to the input's type; CastLike's target gets none
  set_if_wanted(ctx, 0, [&] { return cast_to(ctx, dy(ctx), elem_type_of(ctx, x(ctx))); });
}

// ---- variadic and selection ------------------------------------------------------------------

void sum_rule(Ctx& ctx) {
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    set_if_wanted(ctx, i, [&] { return unbroadcast(ctx, dy(ctx), 0, ctx.input(i)); });
  }
}

void mean_rule(Ctx& ctx) {
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    set_if_wanted(ctx, i, [&] {
      std::string g = ctx.add("Div", {dy(ctx), c(ctx, static_cast<double>(ctx.input_count()))});
      return unbroadcast(ctx, g, 0, ctx.input(i));
    });
  }
}

// Max/Min: the gradient goes to the inputs equal to the result, split evenly between ties.
void select_rule(Ctx& ctx) {
  DataType type = elem_type_of(ctx, y(ctx));
  std::vector<std::string> masks;
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    masks.push_back(cast_to(ctx, ctx.add("Equal", {ctx.input(i), y(ctx)}), type));
  }
  std::string scaled = dy(ctx);
  if (masks.size() > 1) scaled = ctx.add("Div", {dy(ctx), ctx.add("Sum", masks)});
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    set_if_wanted(ctx, i, [&] { return unbroadcast(ctx, mul(ctx, scaled, masks[i]), 0, ctx.input(i)); });
  }
}

void where_rule(Ctx& ctx) {
  std::string zero = c(ctx, 0.0);
  std::string cond = ctx.input(0);
  set_if_wanted(ctx, 1, [&] { return unbroadcast(ctx, ctx.add("Where", {cond, dy(ctx), zero}), 0, ctx.input(1)); });
  set_if_wanted(ctx, 2, [&] { return unbroadcast(ctx, ctx.add("Where", {cond, zero, dy(ctx)}), 0, ctx.input(2)); });
}

void clip_rule(Ctx& ctx) {
  // The bounds are optional inputs (from opset 11, the oldest differentiated).
  std::string low = ctx.node().has_input(1) ? ctx.input(1) : "";
  std::string high = ctx.node().has_input(2) ? ctx.input(2) : "";
  std::string below = low.empty() ? "" : ctx.add("Less", {x(ctx), low});
  std::string above = high.empty() ? "" : ctx.add("Greater", {x(ctx), high});
  std::string zero = c(ctx, 0.0);
  set_if_wanted(ctx, 0, [&] {
    std::string g = dy(ctx);
    if (!below.empty()) g = ctx.add("Where", {below, zero, g});
    if (!above.empty()) g = ctx.add("Where", {above, zero, g});
    return g;
  });
  // A bound gets the gradient of the elements it clipped.
  std::vector<int64_t> all_axes;
  for (int64_t a = 0; a < rank_of(ctx, x(ctx)); ++a) all_axes.push_back(a);
  auto bound_gradient = [&](const std::string& mask) {
    std::string g = ctx.add("Where", {mask, dy(ctx), zero});
    return all_axes.empty() ? g : reduce_sum(ctx, g, all_axes, false);
  };
  if (!below.empty()) set_if_wanted(ctx, 1, [&] { return bound_gradient(below); });
  if (!above.empty()) set_if_wanted(ctx, 2, [&] { return bound_gradient(above); });
}

ONYX_REGISTER_GRADIENT_RULE("", "Add", add_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Sub", sub_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Mul", mul_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Div", div_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Pow", pow_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Neg", neg_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Abs", abs_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Exp", exp_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Log", log_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Sqrt", sqrt_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Reciprocal", reciprocal_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Sin", sin_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Cos", cos_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Tan", tan_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Atan", atan_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Sinh", sinh_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Cosh", cosh_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Tanh", tanh_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Sigmoid", sigmoid_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Erf", erf_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Floor", zero_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Ceil", zero_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Round", zero_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Sign", zero_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Identity", identity_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Cast", cast_rule);
ONYX_REGISTER_GRADIENT_RULE("", "CastLike", cast_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Sum", sum_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Mean", mean_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Max", select_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Min", select_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Where", where_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Clip", clip_rule);

}  // namespace
}  // namespace onyx::training
