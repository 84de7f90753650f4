// Gradient rules of the data-movement ops. Reshape-like ops reshape the gradient back;
// Transpose inverts its permutation; Concat/Split swap roles; Expand and Tile sum the copies.
// Slice, Gather, GatherElements and the permutations route each output element back to its
// source: an int64 grid of flat input positions goes through the forward op itself, and the
// gradient is scattered (and added, opset 16+) to the positions it selected. Pad slices its
// input's region out of the gradient and, in reflect/edge/wrap mode, folds the borders back.
#include <cstring>
#include <limits>

#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {
namespace {

using Ctx = GradientRuleContext;
constexpr int64_t kToEnd = std::numeric_limits<int64_t>::max();


void reshape_rule(Ctx& ctx) {  // Reshape, Flatten, Squeeze, Unsqueeze
  set_if_wanted(ctx, 0, [&] { return reshape_like(ctx, dy(ctx), ctx.input(0)); });
}

void transpose_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    std::vector<int64_t> perm = NodeAttributes(ctx.node()).get_ints("perm");
    if (perm.empty()) {
      for (int64_t a = rank_of(ctx, ctx.input(0)); a-- > 0;) perm.push_back(a);
    }
    std::vector<int64_t> inverse(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) inverse[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
    return transpose(ctx, dy(ctx), inverse);
  });
}

void expand_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return unbroadcast(ctx, dy(ctx), 0, ctx.input(0)); });
}

int64_t axis_attribute(Ctx& ctx, const std::string& value, int64_t fallback) {
  int64_t axis = NodeAttributes(ctx.node()).get_int("axis", fallback);
  return axis < 0 ? axis + rank_of(ctx, value) : axis;
}

void concat_rule(Ctx& ctx) {
  const int64_t axis = axis_attribute(ctx, ctx.input(0), 0);
  std::vector<int64_t> sizes;
  std::vector<std::string> size_parts;
  bool known = true;
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    Dim d = dims_of(ctx, ctx.input(i))[static_cast<size_t>(axis)];
    known = known && d.is_known();
    sizes.push_back(d.value);
  }
  std::vector<Attribute> attributes = {make_attribute("axis", axis)};
  std::vector<std::string> inputs = {dy(ctx)};
  if (!known) {
    if (ctx.opset() < 13) rule_error(ctx, "the inputs' sizes along the axis must be known before opset 13");
    for (size_t i = 0; i < ctx.input_count(); ++i) size_parts.push_back(shape_slice(ctx, ctx.input(i), axis, axis + 1));
    inputs.push_back(concat_ints(ctx, size_parts));
  } else if (ctx.opset() >= 13) {
    inputs.push_back(int64_constant(ctx, sizes));
  } else {
    attributes.push_back(make_attribute("split", sizes));
  }
  std::vector<std::string> pieces = ctx.add_node("Split", inputs, ctx.input_count(), attributes);
  for (size_t i = 0; i < ctx.input_count(); ++i) set_if_wanted(ctx, i, [&] { return pieces[i]; });
}

void split_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    std::vector<std::string> parts;
    for (size_t k = 0; k < ctx.output_count(); ++k) {
      std::string g = ctx.output_gradient(k);
      parts.push_back(g.empty() ? zeros_like(ctx, ctx.forward_output(k)) : g);
    }
    return ctx.add("Concat", parts, {make_attribute("axis", axis_attribute(ctx, ctx.input(0), 0))});
  });
}

// Flat input positions, shaped like `value`: the grid that routes gradients back.
std::string position_grid(Ctx& ctx, const std::string& value) {
  std::string size = ctx.add("Size", {value});
  std::string range = ctx.add("Range", {scalar_constant(ctx, 0, DataType::kInt64), size, scalar_constant(ctx, 1, DataType::kInt64)});
  return reshape_like(ctx, range, value);
}

// dx with dx.flat[positions[i]] += gradient[i] (positions and gradient of one shape).
std::string scatter_to_positions(Ctx& ctx, const std::string& positions, const std::string& gradient,
                                 bool may_repeat) {
  std::vector<Attribute> attributes = {make_attribute("axis", int64_t{0})};
  if (may_repeat) {
    if (ctx.opset() < 16) rule_error(ctx, "needs opset 16 or newer (ScatterElements with reduction add)");
    attributes.push_back(make_attribute("reduction", "add"));
  }
  const std::string x = ctx.input(0);
  Tensor zero(elem_type_of(ctx, x), {1});
  std::memset(zero.mutable_raw_data(), 0, zero.byte_size());
  std::string length = ctx.add("Reshape", {ctx.add("Size", {x}), int64_constant(ctx, {1})});
  std::string zeros = ctx.add("ConstantOfShape", {length}, {make_attribute("value", zero)});
  std::string flat = int64_constant(ctx, {-1});
  std::string scattered = ctx.add("ScatterElements", {zeros, ctx.add("Reshape", {positions, flat}),
                                                      ctx.add("Reshape", {gradient, flat})},
                                  attributes);
  return reshape_like(ctx, scattered, x);
}

// The forward node applied to the position grid instead of the data.
std::string forward_on_grid(Ctx& ctx) {
  std::vector<std::string> inputs = ctx.node().inputs;
  inputs[0] = position_grid(ctx, ctx.input(0));
  inputs.resize(ctx.node().inputs.size());
  return ctx.add(ctx.node().op_type, inputs, ctx.node().attributes);
}

void slice_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] { return scatter_to_positions(ctx, forward_on_grid(ctx), dy(ctx), false); });
}

// Gather before opset 16 (no scatter-add): rows picked more than once are summed first. With
// u = Unique(indices) and inv its inverse, the row sums are OneHot(inv)^T @ dy (M x U, M the
// number of indices), which ScatterND then writes once per unique row.
std::string gather_rows_gradient(Ctx& ctx) {
  const std::string x = ctx.input(0), indices = ctx.input(1);
  const int64_t rank = rank_of(ctx, x), index_rank = rank_of(ctx, indices);
  int64_t axis = NodeAttributes(ctx.node()).get_int("axis", 0);
  if (axis < 0) axis += rank;
  const DataType type = elem_type_of(ctx, x);
  std::string dim = cast_to(ctx, shape_slice(ctx, x, axis, axis + 1), elem_type_of(ctx, indices));
  std::string zero_index = scalar_constant(ctx, 0, elem_type_of(ctx, indices));
  std::string normalized = ctx.add("Where", {ctx.add("Less", {indices, zero_index}), ctx.add("Add", {indices, dim}), indices});
  std::string flat = cast_to(ctx, ctx.add("Reshape", {normalized, int64_constant(ctx, {-1})}), DataType::kInt64);
  // dy [x[:axis], I, x[axis+1:]] -> [I..., x[:axis], x[axis+1:]] -> [M, P]
  std::string g = dy(ctx);
  if (axis > 0) {
    std::vector<int64_t> perm;
    for (int64_t k = 0; k < index_rank; ++k) perm.push_back(axis + k);
    for (int64_t k = 0; k < axis; ++k) perm.push_back(k);
    for (int64_t k = axis + index_rank; k < rank - 1 + index_rank; ++k) perm.push_back(k);
    g = transpose(ctx, g, perm);
  }
  std::string rows = ctx.add("Reshape", {g, concat_ints(ctx, {shape_of(ctx, flat), int64_constant(ctx, {-1})})});
  std::vector<std::string> unique = ctx.add_node("Unique", {flat}, 4, {make_attribute("sorted", int64_t{1})});
  std::string depth = ctx.add("Reshape", {ctx.add("Size", {unique[0]}), int64_constant(ctx, {1})});
  std::string values = ctx.add("Cast", {int64_constant(ctx, {0, 1})}, {make_attribute("to", static_cast<int64_t>(type))});
  std::string onehot = ctx.add("OneHot", {unique[2], depth, values}, {make_attribute("axis", int64_t{-1})});
  std::string sums = ctx.add("MatMul", {transpose(ctx, onehot, {1, 0}), rows});
  // Zeros [x[axis], P] with P = size(x) / x[axis], then the rows written once each.
  std::string size = ctx.add("Reshape", {ctx.add("Size", {x}), int64_constant(ctx, {1})});
  std::string dim64 = shape_slice(ctx, x, axis, axis + 1);
  Tensor zero(type, {1});
  std::memset(zero.mutable_raw_data(), 0, zero.byte_size());
  std::string zeros = ctx.add("ConstantOfShape", {concat_ints(ctx, {dim64, ctx.add("Div", {size, dim64})})},
                              {make_attribute("value", zero)});
  std::string written = ctx.add("ScatterND", {zeros, unsqueeze(ctx, unique[0], {1}), sums});
  if (axis == 0) return reshape_like(ctx, written, x);
  // [x[axis], x[:axis], x[axis+1:]] -> x's layout
  std::string moved_shape = concat_ints(ctx, {dim64, shape_slice(ctx, x, 0, axis), shape_slice(ctx, x, axis + 1, kToEnd)});
  std::vector<int64_t> back;
  for (int64_t k = 1; k <= axis; ++k) back.push_back(k);
  back.push_back(0);
  for (int64_t k = axis + 1; k < rank; ++k) back.push_back(k);
  return transpose(ctx, ctx.add("Reshape", {written, moved_shape}), back);
}

// GatherElements before opset 16: dx[.., j, ..] = sum_k dy[.., k, ..] [index[.., k, ..] == j]
// along the axis, as a OneHot over the axis length (|index| x length values), padded out to x's
// shape where the index tensor is smaller.
std::string gather_elements_dense_gradient(Ctx& ctx) {
  const std::string x = ctx.input(0), indices = ctx.input(1);
  const int64_t rank = rank_of(ctx, x);
  int64_t axis = NodeAttributes(ctx.node()).get_int("axis", 0);
  if (axis < 0) axis += rank;
  const DataType type = elem_type_of(ctx, x);
  std::string length = shape_slice(ctx, x, axis, axis + 1);
  std::string zero_index = scalar_constant(ctx, 0, elem_type_of(ctx, indices));
  std::string typed_length = cast_to(ctx, length, elem_type_of(ctx, indices));
  std::string normalized = ctx.add("Where", {ctx.add("Less", {indices, zero_index}), ctx.add("Add", {indices, typed_length}), indices});
  std::string values = ctx.add("Cast", {int64_constant(ctx, {0, 1})}, {make_attribute("to", static_cast<int64_t>(type))});
  std::string onehot = ctx.add("OneHot", {normalized, length, values}, {make_attribute("axis", int64_t{-1})});
  std::string weighted = ctx.add("Mul", {onehot, unsqueeze(ctx, dy(ctx), {rank})});
  std::string summed = reduce_sum(ctx, weighted, {axis}, false);  // index dims without the axis, + [length]
  std::vector<int64_t> perm;
  for (int64_t k = 0; k < rank; ++k) perm.push_back(k < axis ? k : (k == axis ? rank - 1 : k - 1));
  std::string placed = transpose(ctx, summed, perm);
  // Zeros beyond the index tensor's extent in the other axes.
  std::string extra = ctx.add("Sub", {shape_of(ctx, x), shape_of(ctx, placed)});
  std::string pads = concat_ints(ctx, {int64_constant(ctx, std::vector<int64_t>(static_cast<size_t>(rank), 0)), extra});
  return ctx.add("Pad", {placed, pads});
}

void gather_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    if (ctx.opset() < 16 && ctx.node().op_type == "Gather") return gather_rows_gradient(ctx);
    if (ctx.opset() < 16) return gather_elements_dense_gradient(ctx);
    return scatter_to_positions(ctx, forward_on_grid(ctx), dy(ctx), true);
  });
}

// Constant-mode Pad: the input's gradient is the slice of dy where the input landed.
std::string pad_inner_gradient(Ctx& ctx) {
  NodeAttributes attributes(ctx.node());
  const int64_t rank = rank_of(ctx, ctx.input(0));
  std::vector<int64_t> pads = constant_ints(ctx, 1);
  std::vector<int64_t> axes;
  if (ctx.opset() >= 18 && ctx.node().has_input(3)) {
    axes = constant_ints(ctx, 3);
  } else {
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  }
  for (int64_t p : pads) {
    if (p < 0) rule_error(ctx, "negative pads (cropping) are not supported");
  }
  for (int64_t& a : axes) a = a < 0 ? a + rank : a;
  std::vector<int64_t> starts(pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(axes.size()));
  std::vector<std::string> dims;  // the input's region: [begin, begin + dim)
  for (int64_t a : axes) dims.push_back(shape_slice(ctx, ctx.input(0), a, a + 1));
  std::string starts_value = int64_constant(ctx, starts);
  std::string ends = ctx.add("Add", {starts_value, concat_ints(ctx, dims)});
  return ctx.add("Slice", {dy(ctx), starts_value, ends, int64_constant(ctx, axes)});
}

// Pure permutations of the elements (DepthToSpace, SpaceToDepth): each input element lands once.
void permutation_rule(Ctx& ctx) { slice_rule(ctx); }

void trilu_rule(Ctx& ctx) {  // the same triangle of dy
  set_if_wanted(ctx, 0, [&] {
    std::vector<std::string> inputs = ctx.node().inputs;
    inputs[0] = dy(ctx);
    return ctx.add("Trilu", inputs, ctx.node().attributes);
  });
}

void cumsum_rule(Ctx& ctx) {  // the cumulative sum in the other direction
  set_if_wanted(ctx, 0, [&] {
    NodeAttributes attributes(ctx.node());
    std::vector<Attribute> flipped = {
        make_attribute("exclusive", attributes.get_int("exclusive", 0)),
        make_attribute("reverse", int64_t{attributes.get_int("reverse", 0) == 0 ? 1 : 0})};
    return ctx.add("CumSum", {dy(ctx), ctx.input(1)}, flipped);
  });
}

// TopK: the values' gradient goes back to the positions Indices names (distinct in a row).
void top_k_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    const std::string x = ctx.input(0);
    int64_t axis = NodeAttributes(ctx.node()).get_int("axis", -1);
    return ctx.add("ScatterElements", {zeros_like(ctx, x), ctx.forward_output(1), dy(ctx)},
                   {make_attribute("axis", axis)});
  });
}

// ScatterElements / ScatterND without reduction: the data's gradient is dy with the overwritten
// positions zeroed; the updates' gradient is dy read at those positions.
void scatter_rule(Ctx& ctx) {
  const bool elements = ctx.node().op_type == "ScatterElements";
  NodeAttributes attributes(ctx.node());
  if (attributes.get_string("reduction", "none") != "none") rule_error(ctx, "only reduction 'none' is supported");
  std::vector<Attribute> axis;
  if (elements) axis.push_back(make_attribute("axis", attributes.get_int("axis", 0)));
  set_if_wanted(ctx, 0, [&] {
    return ctx.add(ctx.node().op_type, {dy(ctx), ctx.input(1), zeros_like(ctx, ctx.input(2))}, axis);
  });
  set_if_wanted(ctx, 2, [&] {
    return ctx.add(elements ? "GatherElements" : "GatherND", {dy(ctx), ctx.input(1)}, axis);
  });
}

// reflect, edge and wrap Pad: one input element feeds several outputs. Axis by axis, the
// padded borders of the gradient are folded back onto the input positions they copied
// (reversed for reflect, summed onto the end element for edge, shifted for wrap).
std::string pad_fold_gradient(Ctx& ctx, const std::string& mode) {
  const std::string x = ctx.input(0);
  const TypeInfo& type = ctx.type_of(x);
  if (!type.is_tensor() || !type.has_static_shape()) rule_error(ctx, "the input's shape must be known");
  const Shape dims = type.static_shape();
  const int64_t rank = static_cast<int64_t>(dims.size());
  std::vector<int64_t> pads = constant_ints(ctx, 1);
  std::vector<int64_t> axes;
  if (ctx.node().has_input(3)) {
    axes = constant_ints(ctx, 3);
  } else {
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  }
  const int64_t count = static_cast<int64_t>(axes.size());
  auto slice = [&](const std::string& v, int64_t axis, int64_t begin, int64_t end, int64_t step = 1) {
    return ctx.add("Slice", {v, int64_constant(ctx, {begin}), int64_constant(ctx, {end}), int64_constant(ctx, {axis}),
                             int64_constant(ctx, {step})});
  };
  auto place = [&](const std::string& v, int64_t axis, int64_t before, int64_t after) {  // zeros around v
    std::vector<int64_t> zero_pads(static_cast<size_t>(2 * rank), 0);
    zero_pads[static_cast<size_t>(axis)] = before;
    zero_pads[static_cast<size_t>(rank + axis)] = after;
    return ctx.add("Pad", {v, int64_constant(ctx, zero_pads)});
  };
  std::string g = dy(ctx);
  for (int64_t k = 0; k < count; ++k) {
    const int64_t axis = axes[static_cast<size_t>(k)] < 0 ? axes[static_cast<size_t>(k)] + rank : axes[static_cast<size_t>(k)];
    const int64_t begin = pads[static_cast<size_t>(k)], end = pads[static_cast<size_t>(count + k)];
    const int64_t n = dims[static_cast<size_t>(axis)];
    if (begin < 0 || end < 0) rule_error(ctx, "negative pads (cropping) are not supported");
    if (begin == 0 && end == 0) continue;
    if (begin > n || end > n || (mode == "reflect" && (begin >= n || end >= n))) {
      rule_error(ctx, "pads larger than the input are not supported");
    }
    std::string folded = slice(g, axis, begin, begin + n);
    if (begin > 0) {
      std::string left = slice(g, axis, 0, begin);
      if (mode == "reflect") {  // left[i] copied input[begin - i]
        folded = ctx.add("Add", {folded, place(slice(left, axis, begin - 1, -kToEnd, -1), axis, 1, n - 1 - begin)});
      } else if (mode == "edge") {
        folded = ctx.add("Add", {folded, place(reduce_sum(ctx, left, {axis}, true), axis, 0, n - 1)});
      } else {  // wrap: left[i] copied input[n - begin + i]
        folded = ctx.add("Add", {folded, place(left, axis, n - begin, 0)});
      }
    }
    if (end > 0) {
      std::string right = slice(g, axis, begin + n, begin + n + end);
      if (mode == "reflect") {  // right[i] copied input[n - 2 - i]
        folded = ctx.add("Add", {folded, place(slice(right, axis, end - 1, -kToEnd, -1), axis, n - 1 - end, 1)});
      } else if (mode == "edge") {
        folded = ctx.add("Add", {folded, place(reduce_sum(ctx, right, {axis}, true), axis, n - 1, 0)});
      } else {  // wrap: right[i] copied input[i]
        folded = ctx.add("Add", {folded, place(right, axis, 0, n - end)});
      }
    }
    g = folded;
  }
  return g;
}

void pad_rule(Ctx& ctx) {
  const std::string mode = NodeAttributes(ctx.node()).get_string("mode", "constant");
  if (mode != "constant") {
    set_if_wanted(ctx, 0, [&] { return pad_fold_gradient(ctx, mode); });
    return;
  }
  std::string inner;
  auto inner_gradient = [&] {
    if (inner.empty()) inner = pad_inner_gradient(ctx);
    return inner;
  };
  set_if_wanted(ctx, 0, inner_gradient);
  // The constant value fills the padding: its gradient is dy summed outside the input's region.
  set_if_wanted(ctx, 2, [&] {
    auto sum_all = [&](const std::string& v, const std::string& shaped_like) {
      std::vector<int64_t> all;
      for (int64_t a = 0; a < rank_of(ctx, shaped_like); ++a) all.push_back(a);
      return reduce_sum(ctx, v, all, false);
    };
    return ctx.add("Sub", {sum_all(dy(ctx), ctx.output(0)), sum_all(inner_gradient(), ctx.input(0))});
  });
}

void tile_rule(Ctx& ctx) {
  set_if_wanted(ctx, 0, [&] {
    std::vector<int64_t> repeats = constant_ints(ctx, 1);
    // dy viewed as [r0, d0, r1, d1, ...], summed over the repeat axes.
    std::vector<std::string> parts;
    std::vector<int64_t> repeat_axes;
    for (size_t i = 0; i < repeats.size(); ++i) {
      parts.push_back(int64_constant(ctx, {repeats[i]}));
      parts.push_back(shape_slice(ctx, ctx.input(0), static_cast<int64_t>(i), static_cast<int64_t>(i) + 1));
      repeat_axes.push_back(static_cast<int64_t>(2 * i));
    }
    std::string split = ctx.add("Reshape", {dy(ctx), concat_ints(ctx, parts)});
    return reduce_sum(ctx, split, repeat_axes, false);
  });
}

ONYX_REGISTER_GRADIENT_RULE("", "Reshape", reshape_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Flatten", reshape_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Squeeze", reshape_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Unsqueeze", reshape_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Transpose", transpose_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Expand", expand_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Concat", concat_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Split", split_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Slice", slice_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Gather", gather_rule);
ONYX_REGISTER_GRADIENT_RULE("", "GatherElements", gather_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Pad", pad_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Tile", tile_rule);
ONYX_REGISTER_GRADIENT_RULE("", "DepthToSpace", permutation_rule);
ONYX_REGISTER_GRADIENT_RULE("", "SpaceToDepth", permutation_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Trilu", trilu_rule);
ONYX_REGISTER_GRADIENT_RULE("", "CumSum", cumsum_rule);
ONYX_REGISTER_GRADIENT_RULE("", "TopK", top_k_rule);
ONYX_REGISTER_GRADIENT_RULE("", "ScatterElements", scatter_rule);
ONYX_REGISTER_GRADIENT_RULE("", "ScatterND", scatter_rule);

}  // namespace
}  // namespace onyx::training
