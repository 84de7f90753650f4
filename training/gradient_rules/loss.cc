// Gradient rules of the loss ops. NegativeLogLikelihoodLoss: d input = -onehot(target) * w
// * (dy, or dy / sum of weights for mean), zero where target == ignore_index.
// SoftmaxCrossEntropyLoss is LogSoftmax over axis 1 followed by that, so its rule chains the
// two backward forms (adding any gradient that reaches its log_prob output).
#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/activation_rules.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {
namespace {

using Ctx = GradientRuleContext;

// d loss / d log_prob for NLL over log-probabilities [N, C, d...] (shaped like input 0) with
// the node's target (input 1), optional weight (input 2), reduction and ignore_index.
std::string nll_backward(Ctx& ctx, const std::string& dy) {
  const std::string scores = ctx.input(0);
  NodeAttributes attributes(ctx.node());
  const std::string reduction = attributes.get_string("reduction", "mean");
  const std::string target = ctx.input(1);
  const DataType type = elem_type_of(ctx, scores);
  std::string safe_target = target;
  std::string coefficient;  // per-sample weight [N, d...]; empty means 1
  if (attributes.has("ignore_index")) {
    std::string ignored = scalar_constant(ctx, static_cast<double>(attributes.get_int("ignore_index", 0)),
                                          elem_type_of(ctx, target));
    std::string valid = ctx.add("Not", {ctx.add("Equal", {target, ignored})});
    safe_target = ctx.add("Where", {valid, target, scalar_constant(ctx, 0, elem_type_of(ctx, target))});
    coefficient = cast_to(ctx, valid, type);
  }
  if (ctx.node().has_input(2)) {
    std::string weight = ctx.add("Gather", {ctx.input(2), safe_target});
    coefficient = coefficient.empty() ? weight : ctx.add("Mul", {coefficient, weight});
  }
  std::string scaled = dy;
  if (reduction == "mean") {
    std::string total = coefficient.empty()
                            ? cast_to(ctx, ctx.add("Size", {target}), type)
                            : reduce_sum(ctx, coefficient, [&] {
                                std::vector<int64_t> axes;
                                for (int64_t a = 0; a < rank_of(ctx, target); ++a) axes.push_back(a);
                                return axes;
                              }(), false);
    scaled = ctx.add("Div", {dy, total});
  } else if (reduction != "sum" && reduction != "none") {
    rule_error(ctx, "unknown reduction '" + reduction + "'");
  }
  // Per sample [N, d...] gets a class axis to broadcast over the onehot; a scalar needs none.
  std::string factor;
  if (coefficient.empty() && reduction != "none") {
    factor = scaled;
  } else {
    factor = unsqueeze(ctx, coefficient.empty() ? scaled : ctx.add("Mul", {coefficient, scaled}), {1});
  }
  std::string depth = shape_slice(ctx, scores, 1, 2);
  std::string values = ctx.add_constant(type == DataType::kDouble ? Tensor::from_vector<double>({2}, {0.0, 1.0})
                                                                  : Tensor::from_vector<float>({2}, {0.0f, 1.0f}));
  std::string onehot = ctx.add("OneHot", {safe_target, depth, values}, {make_attribute("axis", int64_t{1})});
  return ctx.add("Neg", {ctx.add("Mul", {onehot, factor})});
}

void nll_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return nll_backward(ctx, ctx.output_gradient(0)); });
}

void softmax_cross_entropy_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    std::string log_prob = ctx.forward_output(1);
    std::string d_log_prob;
    if (!ctx.output_gradient(0).empty()) d_log_prob = nll_backward(ctx, ctx.output_gradient(0));
    if (!ctx.output_gradient(1).empty()) {
      d_log_prob = d_log_prob.empty() ? ctx.output_gradient(1) : ctx.add("Add", {d_log_prob, ctx.output_gradient(1)});
    }
    return log_softmax_backward(ctx, d_log_prob, log_prob, {1});
  });
}

ONYX_REGISTER_GRADIENT_RULE("", "NegativeLogLikelihoodLoss", nll_rule);
ONYX_REGISTER_GRADIENT_RULE("", "SoftmaxCrossEntropyLoss", softmax_cross_entropy_rule);

}  // namespace
}  // namespace onyx::training
