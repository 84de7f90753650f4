// Gradient rules of the activations and of Softmax/LogSoftmax (whose pre-13 forms normalize
// over all axes from `axis` on).
#include <cmath>
#include <numbers>

#include "training/gradient_rules/activation_rules.h"
#include "providers/cpu/training_ops/onyx_training_ops.h"
#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {

std::string softmax_backward(GradientRuleContext& ctx, const std::string& dy, const std::string& y,
                             const std::vector<int64_t>& axes) {
  // dx = y * (dy - sum(dy * y))
  std::string dot = reduce_sum(ctx, ctx.add("Mul", {dy, y}), axes, true);
  return ctx.add("Mul", {y, ctx.add("Sub", {dy, dot})});
}

std::string log_softmax_backward(GradientRuleContext& ctx, const std::string& dy,
                                 const std::string& log_y, const std::vector<int64_t>& axes) {
  // dx = dy - exp(log_y) * sum(dy)
  std::string total = reduce_sum(ctx, dy, axes, true);
  return ctx.add("Sub", {dy, ctx.add("Mul", {ctx.add("Exp", {log_y}), total})});
}

namespace {

using Ctx = GradientRuleContext;

std::string positive(Ctx& ctx) { return ctx.add("Greater", {x(ctx), c(ctx, 0.0)}); }
float attr(Ctx& ctx, const char* name, float fallback) {
  return NodeAttributes(ctx.node()).get_float(name, fallback);
}

void relu_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    if (ctx.onyx_ops()) return ctx.add(kReluGradOp, {dy(ctx), x(ctx)}, {}, kTrainingDomain);  // one pass
    return ctx.add("Where", {positive(ctx), dy(ctx), c(ctx, 0.0)});
  });
}

void leaky_relu_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    std::string slope = c(ctx, attr(ctx, "alpha", 0.01f));
    return ctx.add("Where", {positive(ctx), dy(ctx), mul(ctx, dy(ctx), slope)});
  });
}

void prelu_rule(Ctx& ctx) {
  std::string pos = positive(ctx);
  std::string zero = c(ctx, 0.0);
  set_if_wanted(ctx, 0, [&] {
    return unbroadcast(ctx, ctx.add("Where", {pos, dy(ctx), mul(ctx, dy(ctx), ctx.input(1))}), 0, x(ctx));
  });
  set_if_wanted(ctx, 1, [&] {
    return unbroadcast(ctx, ctx.add("Where", {pos, zero, mul(ctx, dy(ctx), x(ctx))}), 0, ctx.input(1));
  });
}

void thresholded_relu_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    std::string above = ctx.add("Greater", {x(ctx), c(ctx, attr(ctx, "alpha", 1.0f))});
    return ctx.add("Where", {above, dy(ctx), c(ctx, 0.0)});
  });
}

void elu_rule(Ctx& ctx) {  // x <= 0: y + alpha
  unary(ctx, [&] {
    std::string negative_side = ctx.add("Add", {y(ctx), c(ctx, attr(ctx, "alpha", 1.0f))});
    return ctx.add("Where", {positive(ctx), c(ctx, 1.0), negative_side});
  });
}

void selu_rule(Ctx& ctx) {  // x > 0: gamma; else y + alpha * gamma
  unary(ctx, [&] {
    double alpha = attr(ctx, "alpha", 1.67326319217681884765625f);
    double gamma = attr(ctx, "gamma", 1.05070102214813232421875f);
    std::string negative_side = ctx.add("Add", {y(ctx), c(ctx, alpha * gamma)});
    return ctx.add("Where", {positive(ctx), c(ctx, gamma), negative_side});
  });
}

void celu_rule(Ctx& ctx) {  // x <= 0: exp(x / alpha)
  unary(ctx, [&] {
    std::string negative_side = ctx.add("Exp", {ctx.add("Div", {x(ctx), c(ctx, attr(ctx, "alpha", 1.0f))})});
    return ctx.add("Where", {positive(ctx), c(ctx, 1.0), negative_side});
  });
}

void softplus_rule(Ctx& ctx) { unary(ctx, [&] { return ctx.add("Sigmoid", {x(ctx)}); }); }

void softsign_rule(Ctx& ctx) {  // 1 / (1 + |x|)^2
  set_if_wanted(ctx, 0, [&] {
    std::string denom = ctx.add("Add", {c(ctx, 1.0), ctx.add("Abs", {x(ctx)})});
    return ctx.add("Div", {dy(ctx), mul(ctx, denom, denom)});
  });
}

void hard_sigmoid_rule(Ctx& ctx) {  // alpha where 0 < alpha x + beta < 1
  unary(ctx, [&] {
    double alpha = attr(ctx, "alpha", 0.2f), beta = attr(ctx, "beta", 0.5f);
    std::string t = ctx.add("Add", {mul(ctx, x(ctx), c(ctx, alpha)), c(ctx, beta)});
    std::string inside = ctx.add("And", {ctx.add("Greater", {t, c(ctx, 0.0)}), ctx.add("Less", {t, c(ctx, 1.0)})});
    return ctx.add("Where", {inside, c(ctx, alpha), c(ctx, 0.0)});
  });
}

void hard_swish_rule(Ctx& ctx) {  // 0 below -3, 1 above 3, (2x + 3) / 6 between
  unary(ctx, [&] {
    std::string middle = ctx.add("Add", {mul(ctx, x(ctx), c(ctx, 1.0 / 3.0)), c(ctx, 0.5)});
    std::string upper = ctx.add("Where", {ctx.add("Greater", {x(ctx), c(ctx, 3.0)}), c(ctx, 1.0), middle});
    return ctx.add("Where", {ctx.add("Less", {x(ctx), c(ctx, -3.0)}), c(ctx, 0.0), upper});
  });
}

void gelu_rule(Ctx& ctx) {
  unary(ctx, [&] {
    if (NodeAttributes(ctx.node()).get_string("approximate", "none") == "tanh") {
      // y = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
      const double k = std::sqrt(2.0 / std::numbers::pi);
      std::string x2 = mul(ctx, x(ctx), x(ctx));
      std::string u = mul(ctx, c(ctx, k), ctx.add("Add", {x(ctx), mul(ctx, c(ctx, 0.044715), mul(ctx, x2, x(ctx)))}));
      std::string t = ctx.add("Tanh", {u});
      std::string du = mul(ctx, c(ctx, k), ctx.add("Add", {c(ctx, 1.0), mul(ctx, c(ctx, 3 * 0.044715), x2)}));
      std::string left = mul(ctx, c(ctx, 0.5), ctx.add("Add", {c(ctx, 1.0), t}));
      std::string right = mul(ctx, mul(ctx, c(ctx, 0.5), x(ctx)),
                              mul(ctx, ctx.add("Sub", {c(ctx, 1.0), mul(ctx, t, t)}), du));
      return ctx.add("Add", {left, right});
    }
    // Phi(x) + x phi(x)
    std::string cdf = mul(ctx, c(ctx, 0.5),
                          ctx.add("Add", {c(ctx, 1.0), ctx.add("Erf", {mul(ctx, x(ctx), c(ctx, 1.0 / std::sqrt(2.0)))})}));
    std::string pdf = mul(ctx, c(ctx, 1.0 / std::sqrt(2.0 * std::numbers::pi)),
                          ctx.add("Exp", {mul(ctx, mul(ctx, x(ctx), x(ctx)), c(ctx, -0.5))}));
    return ctx.add("Add", {cdf, mul(ctx, x(ctx), pdf)});
  });
}

void swish_rule(Ctx& ctx) {  // y = x s, s = sigmoid(alpha x): s + alpha x s (1 - s)
  unary(ctx, [&] {
    std::string alpha = c(ctx, attr(ctx, "alpha", 1.0f));
    std::string s = ctx.add("Sigmoid", {mul(ctx, x(ctx), alpha)});
    std::string slope = mul(ctx, mul(ctx, alpha, x(ctx)), mul(ctx, s, ctx.add("Sub", {c(ctx, 1.0), s})));
    return ctx.add("Add", {s, slope});
  });
}

void mish_rule(Ctx& ctx) {  // tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2), sp = softplus(x)
  unary(ctx, [&] {
    std::string t = ctx.add("Tanh", {ctx.add("Softplus", {x(ctx)})});
    std::string rest = mul(ctx, mul(ctx, x(ctx), ctx.add("Sigmoid", {x(ctx)})),
                           ctx.add("Sub", {c(ctx, 1.0), mul(ctx, t, t)}));
    return ctx.add("Add", {t, rest});
  });
}

// Softmax-family axes: opset 13+ normalizes over `axis` (default -1); before, over every axis
// from `axis` (default 1) on, the input seen as 2-D.
std::vector<int64_t> softmax_axes(Ctx& ctx) {
  int64_t rank = rank_of(ctx, x(ctx));
  int64_t axis = NodeAttributes(ctx.node()).get_int("axis", ctx.opset() >= 13 ? -1 : 1);
  if (axis < 0) axis += rank;
  if (ctx.opset() >= 13) return {axis};
  std::vector<int64_t> axes;
  for (int64_t a = axis; a < rank; ++a) axes.push_back(a);
  return axes;
}

void softmax_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return softmax_backward(ctx, dy(ctx), y(ctx), softmax_axes(ctx)); });
}

void log_softmax_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return log_softmax_backward(ctx, dy(ctx), y(ctx), softmax_axes(ctx)); });
}

ONYX_REGISTER_GRADIENT_RULE("", "Relu", relu_rule);
ONYX_REGISTER_GRADIENT_RULE("", "LeakyRelu", leaky_relu_rule);
ONYX_REGISTER_GRADIENT_RULE("", "PRelu", prelu_rule);
ONYX_REGISTER_GRADIENT_RULE("", "ThresholdedRelu", thresholded_relu_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Elu", elu_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Selu", selu_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Celu", celu_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Softplus", softplus_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Softsign", softsign_rule);
ONYX_REGISTER_GRADIENT_RULE("", "HardSigmoid", hard_sigmoid_rule);
ONYX_REGISTER_GRADIENT_RULE("", "HardSwish", hard_swish_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Gelu", gelu_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Mish", mish_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Swish", swish_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Softmax", softmax_rule);
ONYX_REGISTER_GRADIENT_RULE("", "LogSoftmax", log_softmax_rule);

}  // namespace
}  // namespace onyx::training
