// Gradient rules of Conv and ConvTranspose, which are each other's adjoints: Conv's input
// gradient is a ConvTranspose of the output gradient (and the other way round), and both
// weight gradients are one grouped Conv correlating the input with the output gradient.
#include <algorithm>
#include <limits>

#include "onnx_ops/nn_geometry.h"
#include "runtime/ir/attribute_builders.h"
#include "training/conv_weight_gradient.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {

namespace {
std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> values;
  for (int64_t i = begin; i < end; ++i) values.push_back(i);
  return values;
}

// d(weights) of y = Conv(input, W): a grouped Conv of the input (batch as channels) with the
// output gradient as filters. Returns [M, cg, kernel...].
std::string correlation_weight_gradient(GradientRuleContext& ctx, const std::string& input,
                                        const std::string& output_gradient, int64_t group,
                                        int64_t channels_per_group, const std::vector<int64_t>& kernel,
                                        const std::vector<int64_t>& strides,
                                        const std::vector<int64_t>& dilations,
                                        const std::vector<int64_t>& pads) {
  const int64_t spatial = static_cast<int64_t>(kernel.size());
  const int64_t rank = spatial + 2;
  const int64_t big = std::numeric_limits<int64_t>::max();
  // input [N, g*cg, S] -> [cg, g*N, S]: per group, the batch becomes the channels.
  std::string grouped_input;
  if (group == 1) {
    std::vector<int64_t> perm = {1, 0};
    for (int64_t a = 2; a < rank; ++a) perm.push_back(a);
    grouped_input = transpose(ctx, input, perm);
  } else {
    std::string split_shape = concat_ints(
        ctx, {shape_slice(ctx, input, 0, 1), int64_constant(ctx, {group, channels_per_group}),
              shape_slice(ctx, input, 2, big)});
    std::string split = ctx.add("Reshape", {input, split_shape});
    std::vector<int64_t> perm = {2, 1, 0};
    for (int64_t a = 3; a < rank + 1; ++a) perm.push_back(a);
    std::string moved = transpose(ctx, split, perm);
    std::string merged_shape =
        concat_ints(ctx, {int64_constant(ctx, {channels_per_group, -1}), shape_slice(ctx, input, 2, big)});
    grouped_input = ctx.add("Reshape", {moved, merged_shape});
  }
  // output gradient [N, M, oS] -> [M, N, oS]: the "weights" of the correlation.
  std::vector<int64_t> perm = {1, 0};
  for (int64_t a = 2; a < rank; ++a) perm.push_back(a);
  std::string filters = transpose(ctx, output_gradient, perm);
  // Strides and dilations trade places; the result may be longer than the kernel: cut it.
  std::string correlated = ctx.add("Conv", {grouped_input, filters},
                                   {make_attribute("strides", dilations), make_attribute("dilations", strides),
                                    make_attribute("pads", pads), make_attribute("group", group)});
  std::string cut = ctx.add("Slice", {correlated, int64_constant(ctx, std::vector<int64_t>(kernel.size(), 0)),
                                      int64_constant(ctx, kernel), int64_constant(ctx, range(2, rank))});
  return transpose(ctx, cut, perm);  // [cg, M, k] -> [M, cg, k]
}

using Ctx = GradientRuleContext;

struct ConvGeometry {
  std::vector<int64_t> kernel, strides, dilations, pads, output_padding;
};

std::vector<int64_t> weight_kernel(Ctx& ctx) {
  std::vector<Dim> w = dims_of(ctx, ctx.input(1));
  std::vector<int64_t> kernel;
  for (size_t i = 2; i < w.size(); ++i) {
    if (!w[i].is_known()) rule_error(ctx, "the kernel size must be known (weights of static shape)");
    kernel.push_back(w[i].value);
  }
  return kernel;
}

int64_t known_dim(Ctx& ctx, const std::string& value, size_t axis) {
  std::vector<Dim> dims = dims_of(ctx, value);
  if (axis >= dims.size() || !dims[axis].is_known()) {
    rule_error(ctx, "dim " + std::to_string(axis) + " of '" + value + "' must be known");
  }
  return dims[axis].value;
}

// Geometry of the forward window op over `small` (Conv's input / ConvTranspose's input) when
// its spatial dims are known; otherwise from the attributes, which is exact only for
// explicit pads and unit strides.
ConvGeometry resolve_geometry(Ctx& ctx, bool transposed) {
  NodeAttributes attributes(ctx.node());
  WindowAttributes window = WindowAttributes::read(attributes);
  ConvGeometry g;
  g.kernel = weight_kernel(ctx);
  const size_t n = g.kernel.size();
  std::vector<int64_t> spatial;
  if (known_spatial_dims(ctx.type_of(ctx.input(0)), spatial)) {
    WindowGeometry w =
        transposed ? transpose_window_geometry(window, spatial, g.kernel, attributes.get_ints("output_padding"),
                                               attributes.get_ints("output_shape"), "ConvTranspose")
                   : forward_window_geometry(window, spatial, g.kernel, "Conv");
    g.strides = w.strides;
    g.dilations = w.dilations;
    g.pads = w.pads;
    // The larger side's extra rows that the stride skipped: ConvTranspose's output_padding.
    for (size_t d = 0; d < n; ++d) {
      int64_t large = transposed ? w.output[d] : w.input[d];
      int64_t small = transposed ? w.input[d] : w.output[d];
      g.output_padding.push_back(large + w.pad_begin(d) + w.pad_end(d) - w.effective_kernel(d) -
                                 w.strides[d] * (small - 1));
    }
    return g;
  }
  g.strides = window.strides.empty() ? std::vector<int64_t>(n, 1) : window.strides;
  g.dilations = window.dilations.empty() ? std::vector<int64_t>(n, 1) : window.dilations;
  g.pads = window.pads.empty() ? std::vector<int64_t>(2 * n, 0) : window.pads;
  bool unit_strides = std::all_of(g.strides.begin(), g.strides.end(), [](int64_t s) { return s == 1; });
  bool explicit_pads = window.auto_pad == AutoPad::kNotSet || window.auto_pad == AutoPad::kValid;
  if (!unit_strides || !explicit_pads || attributes.has("output_shape")) {
    rule_error(ctx, "strided or auto-padded windows need the input's spatial dims statically");
  }
  g.output_padding.assign(n, 0);
  return g;
}

std::vector<Attribute> window_attributes(const ConvGeometry& g, int64_t group) {
  return {make_attribute("strides", g.strides), make_attribute("dilations", g.dilations),
          make_attribute("pads", g.pads), make_attribute("group", group)};
}

std::vector<int64_t> bias_axes(Ctx& ctx) {
  std::vector<int64_t> axes = {0};
  for (int64_t a = 2; a < rank_of(ctx, ctx.output(0)); ++a) axes.push_back(a);
  return axes;
}

void conv_rule(Ctx& ctx) {
  const int64_t group = NodeAttributes(ctx.node()).get_int("group", 1);
  ConvGeometry g = resolve_geometry(ctx, false);
  const std::string dy = ctx.output_gradient(0);
  set_if_wanted(ctx, 0, [&] {
    std::vector<Attribute> attrs = window_attributes(g, group);
    attrs.push_back(make_attribute("output_padding", g.output_padding));
    return ctx.add("ConvTranspose", {dy, ctx.input(1)}, attrs);
  });
  set_if_wanted(ctx, 1, [&] {
    if (ctx.onyx_ops()) {  // one oneDNN backward-weights primitive instead of transposes and a Conv
      return ctx.add(kConvWeightGradOp, {ctx.input(0), dy, ctx.input(1)}, ctx.node().attributes, kTrainingDomain);
    }
    return correlation_weight_gradient(ctx, ctx.input(0), dy, group, known_dim(ctx, ctx.input(1), 1),
                                       g.kernel, g.strides, g.dilations, g.pads);
  });
  set_if_wanted(ctx, 2, [&] { return reduce_sum(ctx, dy, bias_axes(ctx), false); });
}

void conv_transpose_rule(Ctx& ctx) {
  const int64_t group = NodeAttributes(ctx.node()).get_int("group", 1);
  ConvGeometry g = resolve_geometry(ctx, true);
  const std::string dy = ctx.output_gradient(0);
  set_if_wanted(ctx, 0, [&] { return ctx.add("Conv", {dy, ctx.input(1)}, window_attributes(g, group)); });
  set_if_wanted(ctx, 1, [&] {
    // ConvTranspose(x, W) is the adjoint of Conv(., W): W correlates dy (as the input) with x.
    return correlation_weight_gradient(ctx, dy, ctx.input(0), group, known_dim(ctx, ctx.input(1), 1),
                                       g.kernel, g.strides, g.dilations, g.pads);
  });
  set_if_wanted(ctx, 2, [&] { return reduce_sum(ctx, dy, bias_axes(ctx), false); });
}

ONYX_REGISTER_GRADIENT_RULE("", "Conv", conv_rule);
ONYX_REGISTER_GRADIENT_RULE("", "ConvTranspose", conv_transpose_rule);

}  // namespace
}  // namespace onyx::training
