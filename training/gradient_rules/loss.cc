// Gradient rules of the ONNX loss ops (SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss),
// which the built-in cross_entropy and nll losses use. For sample i with class c_i, weight w_i
// (the class weight, 0 when c_i is ignore_index) and incoming gradient g:
//   d scores = (softmax(scores) - onehot(c)) * coef_i   (SoftmaxCrossEntropyLoss)
//   d input  = -onehot(c) * coef_i                      (NegativeLogLikelihoodLoss)
// with coef_i = g_i w_i (none), g w_i (sum), g w_i / sum(w) (mean).
#include "onnx_ops/node_attributes.h"
#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {
namespace {

using Ctx = GradientRuleContext;

// Per-sample weights [N, d...] in `type`, or "" when every sample weighs 1. `safe_labels` gets
// the labels with ignored entries replaced by class 0 (so OneHot and Gather stay in range).
std::string sample_weights(Ctx& ctx, DataType type, std::string* safe_labels) {
  NodeAttributes attributes(ctx.node());
  const std::string& labels = ctx.input(1);
  *safe_labels = labels;
  std::string weight;
  std::string valid;
  if (attributes.has("ignore_index")) {
    const DataType label_type = elem_type_of(ctx, labels);
    const int64_t ignore = attributes.get_int("ignore_index", 0);
    std::string ignored = ctx.add("Equal", {labels, scalar_constant(ctx, static_cast<double>(ignore), label_type)});
    *safe_labels = ctx.add("Where", {ignored, scalar_constant(ctx, 0, label_type), labels});
    valid = cast_to(ctx, ctx.add("Not", {ignored}), type);
  }
  if (ctx.node().has_input(2)) weight = ctx.add("Gather", {ctx.input(2), *safe_labels});
  if (!valid.empty()) weight = weight.empty() ? valid : ctx.add("Mul", {weight, valid});
  return weight;
}

// coef broadcastable against the scores [N, C, d...].
std::string coefficient(Ctx& ctx, DataType type, const std::string& weight, const std::string& safe_labels) {
  NodeAttributes attributes(ctx.node());
  const std::string reduction = attributes.get_string("reduction", "mean");
  const std::string dy = ctx.output_gradient(0);
  if (reduction == "none") {
    return unsqueeze(ctx, weight.empty() ? dy : ctx.add("Mul", {dy, weight}), {1});
  }
  std::string scale = dy;  // scalar
  if (reduction == "mean") {
    std::string total;
    if (weight.empty()) {
      total = cast_to(ctx, ctx.add("Size", {safe_labels}), type);
    } else {
      std::vector<int64_t> every_axis;
      for (int64_t a = 0; a < rank_of(ctx, ctx.input(1)); ++a) every_axis.push_back(a);
      total = reduce_sum(ctx, weight, every_axis, false);
    }
    scale = ctx.add("Div", {dy, total});
  } else if (reduction != "sum") {
    rule_error(ctx, "unknown reduction '" + reduction + "'");
  }
  return weight.empty() ? scale : unsqueeze(ctx, ctx.add("Mul", {weight, scale}), {1});
}

std::string one_hot(Ctx& ctx, DataType type, const std::string& safe_labels) {
  std::string depth = ctx.add("Gather", {shape_of(ctx, ctx.input(0)), int64_constant(ctx, {1})});
  Tensor values(type, {2});
  if (type == DataType::kFloat) {
    values = Tensor::from_vector<float>({2}, {0.0f, 1.0f});
  } else if (type == DataType::kDouble) {
    values = Tensor::from_vector<double>({2}, {0.0, 1.0});
  } else {
    rule_error(ctx, "scores must be float or double");
  }
  return ctx.add("OneHot", {safe_labels, depth, ctx.add_constant(values)}, {make_attribute("axis", int64_t{1})});
}

std::string softmax_over_classes(Ctx& ctx) {
  if (ctx.opset() < 13 && rank_of(ctx, ctx.input(0)) > 2) {
    rule_error(ctx, "opset < 13 Softmax flattens trailing axes; differentiate rank > 2 scores at opset 13+");
  }
  return ctx.add("Softmax", {ctx.input(0)}, {make_attribute("axis", int64_t{1})});
}

void loss_rule(Ctx& ctx, bool with_softmax) {
  if (!ctx.wants_input_gradient(0)) return;
  const DataType type = elem_type_of(ctx, ctx.input(0));
  std::string gradient;
  if (!ctx.output_gradient(0).empty()) {
    std::string safe_labels;
    const std::string weight = sample_weights(ctx, type, &safe_labels);
    const std::string hot = one_hot(ctx, type, safe_labels);
    std::string delta = with_softmax ? ctx.add("Sub", {softmax_over_classes(ctx), hot}) : ctx.add("Neg", {hot});
    gradient = ctx.add("Mul", {delta, coefficient(ctx, type, weight, safe_labels)});
  }
  // SoftmaxCrossEntropyLoss's second output, log_softmax(scores), may carry a gradient too.
  if (with_softmax && ctx.output_count() > 1 && !ctx.node().outputs[1].empty() && !ctx.output_gradient(1).empty()) {
    const std::string dlog = ctx.output_gradient(1);
    std::string total = reduce_sum(ctx, dlog, {1}, true);
    std::string through_log = ctx.add("Sub", {dlog, ctx.add("Mul", {softmax_over_classes(ctx), total})});
    gradient = gradient.empty() ? through_log : ctx.add("Add", {gradient, through_log});
  }
  if (gradient.empty()) gradient = zeros_like(ctx, ctx.input(0));
  ctx.set_input_gradient(0, gradient);
}

}  // namespace

ONYX_REGISTER_GRADIENT_RULE("", "SoftmaxCrossEntropyLoss", [](Ctx& ctx) { loss_rule(ctx, true); });
ONYX_REGISTER_GRADIENT_RULE("", "NegativeLogLikelihoodLoss", [](Ctx& ctx) { loss_rule(ctx, false); });

}  // namespace onyx::training
