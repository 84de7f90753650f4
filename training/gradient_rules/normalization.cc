// Gradient rules of the normalizations and Dropout. BatchNormalization in training mode
// (opset 14+, training_mode=1: batch statistics), Layer-, Instance- and GroupNormalization
// share one backward form over their statistics axes:
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
// `typed` is a forward value of x's element type (x itself may be a reshaped copy).
Normalized normalize(Ctx& ctx, const std::string& x, const std::vector<int64_t>& axes, double epsilon,
                     const std::string& typed) {
  std::string mean = reduce(ctx, "ReduceMean", x, axes, true);
  std::string centered = ctx.add("Sub", {x, mean});
  std::string variance = reduce(ctx, "ReduceMean", ctx.add("Mul", {centered, centered}), axes, true);
  std::string eps = scalar_like(ctx, epsilon, typed);
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

void batch_norm_rule(Ctx& ctx) {
  NodeAttributes attributes(ctx.node());
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
    Normalized n = normalize(ctx, x, axes, epsilon, x);
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
  const std::string x = ctx.input(0), dy = ctx.output_gradient(0);
  const int64_t rank = rank_of(ctx, x);
  int64_t axis = attributes.get_int("axis", -1);
  if (axis < 0) axis += rank;
  const std::vector<int64_t> axes = axes_range(axis, rank);
  Normalized n = normalize(ctx, x, axes, attributes.get_float("epsilon", 1e-5f), x);
  const std::vector<Dim> x_dims = dims_of(ctx, x);
  set_if_wanted(ctx, 0, [&] {
    std::string dx = dy.empty() ? "" : normalized_input_gradient(ctx, n, ctx.add("Mul", {dy, ctx.input(1)}), axes);
    auto add = [&](const std::string& term) { dx = dx.empty() ? expand_like(ctx, term, x) : ctx.add("Add", {dx, term}); };
    // The Mean and InvStdDev outputs (possibly in the stash type): d mean / dx = 1/M,
    // d invstd / dx = -invstd^3 (x - mean) / M = -invstd^2 xhat / M.
    const DataType type = elem_type_of(ctx, x);
    std::string count;
    auto per_element = [&](size_t k) {
      if (count.empty()) count = size_ratio(ctx, x, ctx.forward_output(k), type);
      return ctx.add("Div", {cast_to(ctx, ctx.output_gradient(k), type), count});
    };
    if (ctx.output_count() > 1 && !ctx.output_gradient(1).empty()) add(per_element(1));
    if (ctx.output_count() > 2 && !ctx.output_gradient(2).empty()) {
      std::string square = ctx.add("Mul", {n.invstd, n.invstd});
      add(ctx.add("Neg", {ctx.add("Mul", {per_element(2), ctx.add("Mul", {square, n.xhat})})}));
    }
    return dx;
  });
  if (dy.empty()) return;
  set_if_wanted(ctx, 1, [&] { return sum_to_shape_of(ctx, ctx.add("Mul", {dy, n.xhat}), x_dims, ctx.input(1)); });
  set_if_wanted(ctx, 2, [&] { return sum_to_shape_of(ctx, dy, x_dims, ctx.input(2)); });
}

void instance_norm_rule(Ctx& ctx) {
  const std::string x = ctx.input(0), dy = ctx.output_gradient(0);
  const int64_t rank = rank_of(ctx, x);
  const std::vector<int64_t> axes = axes_range(2, rank);
  const std::vector<int64_t> batch_and_spatial = axes_range(2, rank, true);
  const std::vector<int64_t>& channel_axes = batch_and_spatial;  // [C] -> [1, C, 1...]
  Normalized n = normalize(ctx, x, axes, NodeAttributes(ctx.node()).get_float("epsilon", 1e-5f), x);
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

// GroupNormalization: statistics per (sample, group) on x viewed as [N, G, rest]; scale and
// bias are per group in opset 18 and per channel from opset 21.
void group_norm_rule(Ctx& ctx) {
  NodeAttributes attributes(ctx.node());
  const std::string x = ctx.input(0), dy = ctx.output_gradient(0);
  const int64_t groups = attributes.require_int("num_groups");
  const int64_t rank = rank_of(ctx, x);
  const bool per_channel = ctx.opset() >= 21;
  std::string grouped_shape = int64_constant(ctx, {0, groups, -1});
  auto grouped = [&](const std::string& v) { return ctx.add("Reshape", {v, grouped_shape}); };
  Normalized n = normalize(ctx, grouped(x), {2}, attributes.get_float("epsilon", 1e-5f), x);
  const std::vector<int64_t> channel_axes = axes_range(2, rank, true);
  auto scaled = [&](const std::string& param, const std::string& v) {  // v * param, in grouped layout
    if (per_channel) return grouped(ctx.add("Mul", {v, unsqueeze(ctx, param, channel_axes)}));
    return ctx.add("Mul", {grouped(v), unsqueeze(ctx, param, {0, 2})});
  };
  set_if_wanted(ctx, 0, [&] {
    return reshape_like(ctx, normalized_input_gradient(ctx, n, scaled(ctx.input(1), dy), {2}), x);
  });
  set_if_wanted(ctx, 1, [&] {
    if (per_channel) {
      return reduce_sum(ctx, ctx.add("Mul", {dy, reshape_like(ctx, n.xhat, x)}), channel_axes, false);
    }
    return reduce_sum(ctx, ctx.add("Mul", {grouped(dy), n.xhat}), {0, 2}, false);
  });
  set_if_wanted(ctx, 2, [&] {
    return per_channel ? reduce_sum(ctx, dy, channel_axes, false) : reduce_sum(ctx, grouped(dy), {0, 2}, false);
  });
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
    }  // before 12, training mode is a rewrite into primitive ops (training_mode.cc)
    if (!training) return dy;
    const std::string x = ctx.input(0);
    std::string keep_scale;
    if (ctx.node().has_input(1)) {
      std::string ratio = cast_to(ctx, ctx.input(1), elem_type_of(ctx, x));
      keep_scale = ctx.add("Reciprocal", {ctx.add("Sub", {scalar_like(ctx, 1.0, x), ratio})});
    } else {
      keep_scale = scalar_like(ctx, 2.0, x);  // the default ratio 0.5
    }
    std::string mask = cast_to(ctx, ctx.forward_output(1), elem_type_of(ctx, x));
    return ctx.add("Mul", {dy, ctx.add("Mul", {mask, keep_scale})});
  });
}

ONYX_REGISTER_GRADIENT_RULE("", "BatchNormalization", batch_norm_rule);
ONYX_REGISTER_GRADIENT_RULE("", "LayerNormalization", layer_norm_rule);
ONYX_REGISTER_GRADIENT_RULE("", "InstanceNormalization", instance_norm_rule);
ONYX_REGISTER_GRADIENT_RULE("", "RMSNormalization", rms_norm_rule);
ONYX_REGISTER_GRADIENT_RULE("", "GroupNormalization", group_norm_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Dropout", dropout_rule);

}  // namespace
}  // namespace onyx::training
