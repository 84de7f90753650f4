// Gradient rules of the pooling ops. MaxPool scatters the output gradient to the argmax
// positions (its Indices output) and adds where windows overlap (before opset 16, which has
// no scatter-add, it masks each kernel offset instead); AveragePool spreads each
// output's gradient over its window with a ConvTranspose of ones (per channel, divided by the
// window's element count); the global pools behave like ReduceMean/ReduceMax. Graphs only onyx
// runs take MaxPool's gradient as one com.onyx.training::MaxPoolGrad (onyx_training_ops.h).
#include <algorithm>
#include <cstring>
#include <limits>

#include "onnx_ops/nn_geometry.h"
#include "providers/cpu/training_ops/onyx_training_ops.h"
#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {
namespace {

using Ctx = GradientRuleContext;

WindowGeometry static_geometry(Ctx& ctx) {
  NodeAttributes attributes(ctx.node());
  std::vector<int64_t> spatial;
  if (!known_spatial_dims(ctx.type_of(ctx.input(0)), spatial)) {
    rule_error(ctx, "the input's spatial dims must be known statically");
  }
  WindowAttributes window = WindowAttributes::read(attributes);
  return forward_window_geometry(window, spatial, attributes.require_ints("kernel_shape"), ctx.node().op_type);
}

std::string flat_length(Ctx& ctx, const std::string& value) {
  return ctx.add("Reshape", {ctx.add("Size", {value}), int64_constant(ctx, {1})});
}

std::vector<int64_t> transpose_output_padding(Ctx& ctx, const WindowGeometry& g) {
  std::vector<int64_t> output_padding;
  for (size_t d = 0; d < g.rank(); ++d) {
    output_padding.push_back(g.input[d] + g.pad_begin(d) + g.pad_end(d) - g.effective_kernel(d) -
                             g.strides[d] * (g.output[d] - 1));
    if (output_padding.back() < 0) rule_error(ctx, "ceil_mode windows that pass the padding are not supported");
  }
  return output_padding;
}

// Overlapping MaxPool before opset 16 (no scatter-add): for each kernel offset, the outputs
// whose maximum sits there (first in scan order, as the kernel picks) keep dy; one
// ConvTranspose with one-hot kernels puts every offset's share back in place and adds them.
std::string max_pool_dense_gradient(Ctx& ctx, const WindowGeometry& g) {
  const std::string x = ctx.input(0), y = ctx.output(0), dy = ctx.output_gradient(0);
  const DataType type = elem_type_of(ctx, x);
  const int64_t n = static_cast<int64_t>(g.rank());
  std::vector<int64_t> pads(static_cast<size_t>(2 * (n + 2)), 0);
  for (int64_t d = 0; d < n; ++d) {
    pads[static_cast<size_t>(2 + d)] = g.pad_begin(static_cast<size_t>(d));
    pads[static_cast<size_t>(n + 4 + d)] = g.pad_end(static_cast<size_t>(d));
  }
  std::string lowest = scalar_constant(ctx, -std::numeric_limits<double>::infinity(), type);
  std::string padded = ctx.add("Pad", {x, int64_constant(ctx, pads), lowest});
  std::vector<int64_t> axes, steps;
  for (int64_t d = 0; d < n; ++d) {
    axes.push_back(2 + d);
    steps.push_back(g.strides[static_cast<size_t>(d)]);
  }
  std::string zero = scalar_constant(ctx, 0.0, type);
  std::string taken;
  std::vector<std::string> shares;
  const int64_t count = g.kernel_count();
  for (int64_t k = 0; k < count; ++k) {
    std::vector<int64_t> starts(static_cast<size_t>(n)), ends(static_cast<size_t>(n));
    for (int64_t d = n - 1, rest = k; d >= 0; --d) {  // row-major kernel index
      const size_t a = static_cast<size_t>(d);
      int64_t offset = rest % g.kernel[a];
      rest /= g.kernel[a];
      starts[a] = offset * g.dilations[a];
      ends[a] = starts[a] + (g.output[a] - 1) * g.strides[a] + 1;
    }
    std::string window = ctx.add("Slice", {padded, int64_constant(ctx, starts), int64_constant(ctx, ends),
                                           int64_constant(ctx, axes), int64_constant(ctx, steps)});
    std::string hit = ctx.add("Equal", {window, y});
    std::string first = taken.empty() ? hit : ctx.add("And", {hit, ctx.add("Not", {taken})});
    taken = taken.empty() ? hit : ctx.add("Or", {taken, hit});
    shares.push_back(unsqueeze(ctx, ctx.add("Where", {first, dy, zero}), {2}));
  }
  std::string stacked = ctx.add("Concat", shares, {make_attribute("axis", int64_t{2})});  // [N, C, K, out...]
  std::string planes = ctx.add("Reshape", {stacked, concat_ints(ctx, {int64_constant(ctx, {-1, count}),
                                                                       shape_slice(ctx, dy, 2, std::numeric_limits<int64_t>::max())})});
  Shape kernel_shape = {count, 1};
  for (int64_t k : g.kernel) kernel_shape.push_back(k);
  std::vector<double> one_hot(static_cast<size_t>(count * count), 0.0);
  for (int64_t k = 0; k < count; ++k) one_hot[static_cast<size_t>(k * count + k)] = 1.0;
  std::string kernels = cast_to(ctx, ctx.add_constant(Tensor::from_vector<double>(kernel_shape, one_hot)), type);
  std::string spread = ctx.add("ConvTranspose", {planes, kernels},
                               {make_attribute("strides", g.strides), make_attribute("dilations", g.dilations),
                                make_attribute("pads", g.pads),
                                make_attribute("output_padding", transpose_output_padding(ctx, g))});
  return reshape_like(ctx, spread, x);
}

void max_pool_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    if (NodeAttributes(ctx.node()).get_int("storage_order", 0) != 0) {
      rule_error(ctx, "storage_order=1 is not supported");
    }
    if (ctx.onyx_ops()) {  // one fill and scatter per plane, any opset, overlapping or not
      return ctx.add(kMaxPoolGradOp, {ctx.output_gradient(0), ctx.forward_output(1), ctx.input(0)}, {}, kTrainingDomain);
    }
    WindowGeometry g = static_geometry(ctx);
    bool overlapping = false;
    for (size_t d = 0; d < g.rank(); ++d) overlapping = overlapping || g.strides[d] < g.effective_kernel(d);
    std::vector<Attribute> scatter_attributes = {make_attribute("axis", int64_t{0})};
    if (overlapping) {
      if (ctx.opset() < 16) return max_pool_dense_gradient(ctx, g);
      scatter_attributes.push_back(make_attribute("reduction", "add"));
    }
    std::string indices = ctx.forward_output(1);  // flat positions in the whole input
    Tensor zero(elem_type_of(ctx, ctx.input(0)), {1});
    std::memset(zero.mutable_raw_data(), 0, zero.byte_size());
    std::string zeros = ctx.add("ConstantOfShape", {flat_length(ctx, ctx.input(0))}, {make_attribute("value", zero)});
    std::string flat = int64_constant(ctx, {-1});
    std::string scattered = ctx.add("ScatterElements",
                                    {zeros, ctx.add("Reshape", {indices, flat}),
                                     ctx.add("Reshape", {ctx.output_gradient(0), flat})},
                                    scatter_attributes);
    return reshape_like(ctx, scattered, ctx.input(0));
  });
}

void average_pool_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    NodeAttributes attributes(ctx.node());
    WindowGeometry g = static_geometry(ctx);
    const std::string x = ctx.input(0);
    const DataType type = elem_type_of(ctx, x);
    const int64_t big = std::numeric_limits<int64_t>::max();
    std::string dy = ctx.output_gradient(0);
    // Divisor per output: the window size, or with count_include_pad=0 the real elements in
    // it (an average of ones with pads counted, times the window size).
    if (attributes.get_int("count_include_pad", 0) == 0) {
      Tensor one = Tensor::from_vector<double>({1}, {1.0});
      std::vector<Attribute> attrs = ctx.node().attributes;
      attrs.erase(std::remove_if(attrs.begin(), attrs.end(), [](const Attribute& a) { return a.name == "count_include_pad"; }),
                  attrs.end());
      attrs.push_back(make_attribute("count_include_pad", int64_t{1}));
      std::string ones = cast_to(ctx, ctx.add("ConstantOfShape", {shape_of(ctx, x)}, {make_attribute("value", one)}), type);
      std::string fraction = ctx.add("AveragePool", {ones}, attrs);
      std::string count = ctx.add("Mul", {fraction, scalar_constant(ctx, static_cast<double>(g.kernel_count()), type)});
      dy = ctx.add("Div", {dy, count});
    } else {
      dy = ctx.add("Div", {dy, scalar_constant(ctx, static_cast<double>(g.kernel_count()), type)});
    }
    // Per channel: [N, C, oS] -> [N*C, 1, oS], ConvTranspose with a ones kernel, back to x's shape.
    std::string planes = ctx.add("Reshape", {dy, concat_ints(ctx, {int64_constant(ctx, {-1, 1}), shape_slice(ctx, dy, 2, big)})});
    Shape kernel_shape = {1, 1};
    for (int64_t k : g.kernel) kernel_shape.push_back(k);
    std::string ones_kernel = cast_to(ctx, ctx.add_constant(Tensor::from_vector<double>(
                                                kernel_shape, std::vector<double>(shape_element_count(kernel_shape), 1.0))),
                                      type);
    std::vector<int64_t> output_padding = transpose_output_padding(ctx, g);
    std::string spread = ctx.add("ConvTranspose", {planes, ones_kernel},
                                 {make_attribute("strides", g.strides), make_attribute("dilations", g.dilations),
                                  make_attribute("pads", g.pads), make_attribute("output_padding", output_padding)});
    return reshape_like(ctx, spread, x);
  });
}

std::vector<int64_t> spatial_axes(Ctx& ctx) {
  std::vector<int64_t> axes;
  for (int64_t a = 2; a < rank_of(ctx, ctx.input(0)); ++a) axes.push_back(a);
  return axes;
}

void global_average_pool_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    std::string count = size_ratio(ctx, ctx.input(0), ctx.output(0), elem_type_of(ctx, ctx.input(0)));
    return expand_like(ctx, ctx.add("Div", {ctx.output_gradient(0), count}), ctx.input(0));
  });
}

void global_max_pool_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    const std::string x = ctx.input(0);
    std::string mask = cast_to(ctx, ctx.add("Equal", {x, ctx.output(0)}), elem_type_of(ctx, x));
    std::string ties = reduce_sum(ctx, mask, spatial_axes(ctx), true);
    return ctx.add("Mul", {mask, ctx.add("Div", {ctx.output_gradient(0), ties})});
  });
}

ONYX_REGISTER_GRADIENT_RULE("", "MaxPool", max_pool_rule);
ONYX_REGISTER_GRADIENT_RULE("", "AveragePool", average_pool_rule);
ONYX_REGISTER_GRADIENT_RULE("", "GlobalAveragePool", global_average_pool_rule);
ONYX_REGISTER_GRADIENT_RULE("", "GlobalMaxPool", global_max_pool_rule);

}  // namespace
}  // namespace onyx::training
