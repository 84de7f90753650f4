// Gradient rules of the normalizations and Dropout. BatchNormalization in training mode
// (opset 14+, training_mode=1: batch statistics), LayerNormalization and
// InstanceNormalization share one backward form over their statistics axes:
//   dx = invstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * scale.
// BatchNormalization in inference mode is an affine map with fixed statistics.
#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {
namespace {

using Ctx = GradientRuleContext;

std::vector<int64_t> axes_range(int64_t begin, int64_t end, bool with_zero = false) {
  std::vector<int64_t> axes;
  if (with_zero) axes.push_back(0);
  for (int64_t a = begin; a < end; ++a) axes.push_back(a);
  return axes;
}

struct Normalized {
  std::string xhat, invstd;  // kept-dims statistics
};

// Recomputes the batch/layer statistics over `axes` (population variance, as the ops do).
Normalized normalize(Ctx& ctx, const std::string& x, const std::vector<int64_t>& axes, double epsilon) {
  std::string mean = reduce(ctx, "ReduceMean", x, axes, true);
  std::string centered = ctx.add("Sub", {x, mean});
  std::string variance = reduce(ctx, "ReduceMean", ctx.add("Mul", {centered, centered}), axes, true);
  std::string eps = scalar_like(ctx, epsilon, x);
  std::string invstd = ctx.add("Reciprocal", {ctx.add("Sqrt", {ctx.add("Add", {variance, eps})})});
  return {ctx.add("Mul", {centered, invstd}), invstd};
}

std::string normalized_input_gradient(Ctx& ctx, const Normalized& n, const std::string& g,
                                      const std::vector<int64_t>& axes) {
  std::string mean_g = reduce(ctx, "ReduceMean", g, axes, true);
  std::string mean_gx = reduce(ctx, "ReduceMean", ctx.add("Mul", {g, n.xhat}), axes, true);
  std::string inner = ctx.add("Sub", {ctx.add("Sub", {g, mean_g}), ctx.add("Mul", {n.xhat, mean_gx})});
  return ctx.add("Mul", {n.invstd, inner});
}

void no_gradient_into_statistics(Ctx& ctx) {
  for (size_t k = 1; k < ctx.output_count(); ++k) {
    if (!ctx.output_gradient(k).empty()) {
      rule_error(ctx, "its statistics outputs are not differentiable (output " + std::to_string(k) + " reaches the loss)");
    }
  }
}

void batch_norm_rule(Ctx& ctx) {
  NodeAttributes attributes(ctx.node());
  if (ctx.opset() < 9 && attributes.get_int("spatial", 1) == 0) rule_error(ctx, "spatial=0 is not supported");
  const bool training = ctx.opset() >= 14 && attributes.get_int("training_mode", 0) != 0;
  const double epsilon = attributes.get_float("epsilon", 1e-5f);
  const std::string x = ctx.input(0), dy = ctx.output_gradient(0);
  if (dy.empty()) return;  // only running statistics reach the loss: no gradient
  const int64_t rank = rank_of(ctx, x);
  const std::vector<int64_t> axes = axes_range(2, rank, true);  // all but channels
  const std::vector<int64_t> channel_axes = axes;  // [C] -> [1, C, 1...]: the same axes
  auto per_channel = [&](const std::string& v) { return unsqueeze(ctx, v, channel_axes); };
  std::string scale = per_channel(ctx.input(1));

  if (training) {
    Normalized n = normalize(ctx, x, axes, epsilon);
    set_if_wanted(ctx, 0, [&] {
      return normalized_input_gradient(ctx, n, ctx.add("Mul", {dy, scale}), axes);
    });
    set_if_wanted(ctx, 1, [&] { return reduce_sum(ctx, ctx.add("Mul", {dy, n.xhat}), axes, false); });
    set_if_wanted(ctx, 2, [&] { return reduce_sum(ctx, dy, axes, false); });
    return;
  }
  // Inference: y = (x - mean) * invstd * scale + B with the given mean and var.
  std::string var = ctx.input(4);
  std::string invstd_c = ctx.add("Reciprocal", {ctx.add("Sqrt", {ctx.add("Add", {var, scalar_like(ctx, epsilon, x)})})});
  std::string invstd = per_channel(invstd_c);
  std::string centered = ctx.add("Sub", {x, per_channel(ctx.input(3))});
  set_if_wanted(ctx, 0, [&] { return ctx.add("Mul", {dy, ctx.add("Mul", {scale, invstd})}); });
  set_if_wanted(ctx, 1, [&] {
    return reduce_sum(ctx, ctx.add("Mul", {dy, ctx.add("Mul", {centered, invstd})}), axes, false);
  });
  set_if_wanted(ctx, 2, [&] { return reduce_sum(ctx, dy, axes, false); });
  set_if_wanted(ctx, 3, [&] {
    std::string sum = reduce_sum(ctx, dy, axes, false);
    return ctx.add("Neg", {ctx.add("Mul", {sum, ctx.add("Mul", {ctx.input(1), invstd_c})})});
  });
  set_if_wanted(ctx, 4, [&] {  // d invstd / d var = -invstd^3 / 2
    std::string sum = reduce_sum(ctx, ctx.add("Mul", {dy, centered}), axes, false);
    std::string cube = ctx.add("Mul", {invstd_c, ctx.add("Mul", {invstd_c, invstd_c})});
    std::string factor = ctx.add("Mul", {ctx.input(1), ctx.add("Mul", {cube, scalar_like(ctx, -0.5, x)})});
    return ctx.add("Mul", {sum, factor});
  });
}

void layer_norm_rule(Ctx& ctx) {
  NodeAttributes attributes(ctx.node());
  no_gradient_into_statistics(ctx);
  const std::string x = ctx.input(0), dy = ctx.output_gradient(0);
  const int64_t rank = rank_of(ctx, x);
  int64_t axis = attributes.get_int("axis", -1);
  if (axis < 0) axis += rank;
  const std::vector<int64_t> axes = axes_range(axis, rank);
  Normalized n = normalize(ctx, x, axes, attributes.get_float("epsilon", 1e-5f));
  const std::vector<Dim> x_dims = dims_of(ctx, x);
  set_if_wanted(ctx, 0, [&] { return normalized_input_gradient(ctx, n, ctx.add("Mul", {dy, ctx.input(1)}), axes); });
  set_if_wanted(ctx, 1, [&] { return sum_to_shape_of(ctx, ctx.add("Mul", {dy, n.xhat}), x_dims, ctx.input(1)); });
  set_if_wanted(ctx, 2, [&] { return sum_to_shape_of(ctx, dy, x_dims, ctx.input(2)); });
}

void instance_norm_rule(Ctx& ctx) {
  const std::string x = ctx.input(0), dy = ctx.output_gradient(0);
  const int64_t rank = rank_of(ctx, x);
  const std::vector<int64_t> axes = axes_range(2, rank);
  const std::vector<int64_t> batch_and_spatial = axes_range(2, rank, true);
  const std::vector<int64_t>& channel_axes = batch_and_spatial;  // [C] -> [1, C, 1...]
  Normalized n = normalize(ctx, x, axes, NodeAttributes(ctx.node()).get_float("epsilon", 1e-5f));
  set_if_wanted(ctx, 0, [&] {
    return normalized_input_gradient(ctx, n, ctx.add("Mul", {dy, unsqueeze(ctx, ctx.input(1), channel_axes)}), axes);
  });
  set_if_wanted(ctx, 1, [&] { return reduce_sum(ctx, ctx.add("Mul", {dy, n.xhat}), batch_and_spatial, false); });
  set_if_wanted(ctx, 2, [&] { return reduce_sum(ctx, dy, batch_and_spatial, false); });
}

// RMSNormalization (23): y = x * invrms * scale, invrms over the axes from `axis` on.
void rms_norm_rule(Ctx& ctx) {
  NodeAttributes attributes(ctx.node());
  const std::string x = ctx.input(0), dy = ctx.output_gradient(0);
  const int64_t rank = rank_of(ctx, x);
  int64_t axis = attributes.get_int("axis", -1);
  if (axis < 0) axis += rank;
  const std::vector<int64_t> axes = axes_range(axis, rank);
  std::string mean_square = reduce(ctx, "ReduceMean", ctx.add("Mul", {x, x}), axes, true);
  std::string eps = scalar_like(ctx, attributes.get_float("epsilon", 1e-5f), x);
  std::string invrms = ctx.add("Reciprocal", {ctx.add("Sqrt", {ctx.add("Add", {mean_square, eps})})});
  std::string xhat = ctx.add("Mul", {x, invrms});
  set_if_wanted(ctx, 0, [&] {  // invrms * (g - xhat * mean(g * xhat))
    std::string g = ctx.add("Mul", {dy, ctx.input(1)});
    std::string mean_gx = reduce(ctx, "ReduceMean", ctx.add("Mul", {g, xhat}), axes, true);
    return ctx.add("Mul", {invrms, ctx.add("Sub", {g, ctx.add("Mul", {xhat, mean_gx})})});
  });
  set_if_wanted(ctx, 1, [&] { return sum_to_shape_of(ctx, ctx.add("Mul", {dy, xhat}), dims_of(ctx, x), ctx.input(1)); });
}

// Dropout: identity at inference; in training dx = dy * mask / (1 - ratio).
void dropout_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    const std::string dy = ctx.output_gradient(0);
    bool training = false;
    if (ctx.opset() >= 12) {
      if (ctx.node().has_input(2)) {
        const Tensor* mode = ctx.constant_value(ctx.input(2));
        if (mode == nullptr) rule_error(ctx, "training_mode must be a constant to differentiate Dropout");
        training = mode->element_as_double(0) != 0.0;
      }
    } else if (ctx.opset() < 7) {
      training = NodeAttributes(ctx.node()).get_int("is_test", 0) == 0;
    }
    if (!training) return dy;
    const std::string x = ctx.input(0);
    std::string keep_scale;
    if (ctx.opset() >= 12 && ctx.node().has_input(1)) {
      std::string ratio = cast_to(ctx, ctx.input(1), elem_type_of(ctx, x));
      keep_scale = ctx.add("Reciprocal", {ctx.add("Sub", {scalar_like(ctx, 1.0, x), ratio})});
    } else {
      double ratio = ctx.opset() >= 12 ? 0.5 : NodeAttributes(ctx.node()).get_float("ratio", 0.5f);
      keep_scale = scalar_like(ctx, 1.0 / (1.0 - ratio), x);
    }
    std::string mask = cast_to(ctx, ctx.forward_output(1), elem_type_of(ctx, x));
    return ctx.add("Mul", {dy, ctx.add("Mul", {mask, keep_scale})});
  });
}

ONYX_REGISTER_GRADIENT_RULE("", "BatchNormalization", batch_norm_rule);
ONYX_REGISTER_GRADIENT_RULE("", "LayerNormalization", layer_norm_rule);
ONYX_REGISTER_GRADIENT_RULE("", "InstanceNormalization", instance_norm_rule);
ONYX_REGISTER_GRADIENT_RULE("", "RMSNormalization", rms_norm_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Dropout", dropout_rule);

}  // namespace
}  // namespace onyx::training
