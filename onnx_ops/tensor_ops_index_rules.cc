// Shape rules of the tensor ops that move or select elements: Transpose, DepthToSpace,
// SpaceToDepth, Concat, Split, Slice, Gather*, Scatter*, Pad, CenterCropPad, Expand, Tile, Trilu,
// OneHot, NonZero, Compress, ReverseSequence and Unique.
#include <algorithm>

#include "onnx_ops/axes.h"
#include "onnx_ops/broadcast.h"
#include "onnx_ops/tensor_ops.h"
#include "onnx_ops/tensor_ops_rules.h"

namespace onyx::tensor_rules {
namespace {

Dim dim_times(const Dim& d, int64_t k) {
  return d.is_known() ? Dim::known(checked_dim_product(d.value, k, "an output dim")) : Dim{};
}
Dim dim_div(const Dim& d, int64_t k) {
  return d.is_known() && k > 0 ? Dim::known(d.value / k) : Dim{};
}


void transpose_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  if (!in) return set_tensor(ctx, 0, elem_of(ctx, 0), std::nullopt);
  std::vector<int64_t> perm = resolve_perm(ctx.attributes().get_ints("perm"), in->size());
  Dims out;
  for (int64_t p : perm) out.push_back((*in)[p]);
  set_tensor(ctx, 0, elem_of(ctx, 0), out);
}

void space_depth_rule(InferenceContext& ctx, bool depth_to_space) {
  std::optional<Dims> in = dims_of(ctx, 0);
  const int64_t b = ctx.attributes().get_int("blocksize", 1);  // in [1, 2^31 - 1]: checked up front
  if (!in || in->size() != 4) return set_tensor(ctx, 0, elem_of(ctx, 0), unknown_dims(4));
  const Dims& x = *in;
  Dims out = depth_to_space
                 ? Dims{x[0], dim_div(x[1], b * b), dim_times(x[2], b), dim_times(x[3], b)}
                 : Dims{x[0], dim_times(x[1], b * b), dim_div(x[2], b), dim_div(x[3], b)};
  set_tensor(ctx, 0, elem_of(ctx, 0), out);
}

void concat_rule(InferenceContext& ctx) {
  std::optional<Dims> out;
  const int64_t axis_attr = ctx.attributes().get_int("axis", 1);
  int64_t axis = 0;
  Dim total = Dim::known(0);
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    std::optional<Dims> in = dims_of(ctx, i);
    if (!in) {
      total = Dim{};
      continue;
    }
    if (!out) {
      out = *in;
      axis = normalize_axis(axis_attr, static_cast<int64_t>(in->size()), "Concat");
    } else if (in->size() != out->size()) {
      throw_error(ErrorCode::kInvalidModel, ctx.node().describe(), ": Concat inputs of rank ",
                  out->size(), " and ", in->size());
    }
    for (size_t d = 0; d < in->size(); ++d) {
      if (int64_t(d) != axis && !(*out)[d].is_known() && (*in)[d].is_known()) (*out)[d] = (*in)[d];
    }
    const Dim& a = (*in)[axis];
    total = total.is_known() && a.is_known() ? Dim::known(total.value + a.value) : Dim{};
  }
  if (out) (*out)[axis] = total;
  set_tensor(ctx, 0, elem_of(ctx, 0), out);
}

void split_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  const DataType dtype = elem_of(ctx, 0);
  const size_t outputs = ctx.output_count();
  if (!in) {
    for (size_t o = 0; o < outputs; ++o) set_tensor(ctx, o, dtype, std::nullopt);
    return;
  }
  const int64_t axis =
      normalize_axis(ctx.attributes().get_int("axis", 0), static_cast<int64_t>(in->size()), "Split");
  std::optional<std::vector<int64_t>> split = ctx.attributes().get_ints("split");
  const bool from_input = ctx.opset() >= 13 || ctx.opset() == 1;
  if (from_input && (ctx.has_input(1) || ctx.input_constant(1))) split = constant_ints(ctx, 1);
  const int64_t num_outputs = ctx.attributes().get_int("num_outputs", 0);
  std::optional<std::vector<int64_t>> sizes;
  const Dim& dim = (*in)[axis];
  if (split && !split->empty()) {
    sizes = *split;
  } else if (split && dim.is_known()) {
    sizes = resolve_split(dim.value, {}, static_cast<int64_t>(outputs),
                          ctx.opset() >= 18 && num_outputs > 0);
  }
  for (size_t o = 0; o < outputs; ++o) {
    Dims out = *in;
    out[axis] = sizes && o < sizes->size() ? Dim::known((*sizes)[o]) : Dim{};
    set_tensor(ctx, o, dtype, out);
  }
}

void slice_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  const DataType dtype = elem_of(ctx, 0);
  if (!in) return set_tensor(ctx, 0, dtype, std::nullopt);
  std::optional<std::vector<int64_t>> starts, ends, axes = std::vector<int64_t>{},
                                                    steps = std::vector<int64_t>{};
  if (ctx.opset() < 10) {
    starts = ctx.attributes().get_ints("starts");
    ends = ctx.attributes().get_ints("ends");
    axes = ctx.attributes().get_ints("axes");
  } else {
    starts = constant_ints(ctx, 1);
    ends = constant_ints(ctx, 2);
    if (ctx.has_input(3) || ctx.input_constant(3)) axes = constant_ints(ctx, 3);
    if (ctx.has_input(4) || ctx.input_constant(4)) steps = constant_ints(ctx, 4);
  }
  const int64_t rank = static_cast<int64_t>(in->size());
  Dims out = *in;
  if (!starts || !ends || !steps) {
    // Which axes change is known only with the axes list; the others keep their dims.
    if (!axes || axes->empty()) return set_tensor(ctx, 0, dtype, unknown_dims(in->size()));
    for (int64_t a : normalize_axis_list(*axes, rank, "Slice")) out[a] = Dim{};
    return set_tensor(ctx, 0, dtype, out);
  }
  if (!axes) return set_tensor(ctx, 0, dtype, unknown_dims(in->size()));
  std::vector<int64_t> axis_list = *axes;
  if (axis_list.empty()) {
    for (size_t i = 0; i < starts->size(); ++i) axis_list.push_back(static_cast<int64_t>(i));
  }
  // Resolve on a stand-in shape: unknown dims get a placeholder and come out unknown.
  Shape stand_in(in->size(), 1);
  for (size_t d = 0; d < in->size(); ++d) stand_in[d] = (*in)[d].is_known() ? (*in)[d].value : 0;
  std::vector<SliceAxis> ranges = resolve_slice(stand_in, *starts, *ends, axis_list, *steps);
  for (int64_t a : normalize_axis_list(axis_list, rank, "Slice")) {
    out[a] = (*in)[a].is_known() ? Dim::known(ranges[a].count) : Dim{};
  }
  set_tensor(ctx, 0, dtype, out);
}

void gather_rule(InferenceContext& ctx) {
  std::optional<Dims> data = dims_of(ctx, 0), indices = dims_of(ctx, 1);
  if (!data || !indices) return set_tensor(ctx, 0, elem_of(ctx, 0), std::nullopt);
  const int64_t axis = normalize_axis(ctx.attributes().get_int("axis", 0),
                                      static_cast<int64_t>(data->size()), "Gather");
  Dims out(data->begin(), data->begin() + axis);
  out.insert(out.end(), indices->begin(), indices->end());
  out.insert(out.end(), data->begin() + axis + 1, data->end());
  set_tensor(ctx, 0, elem_of(ctx, 0), out);
}

void gather_elements_rule(InferenceContext& ctx) {
  set_tensor(ctx, 0, elem_of(ctx, 0), dims_of(ctx, 1));
}

void gather_nd_rule(InferenceContext& ctx) {
  std::optional<Dims> data = dims_of(ctx, 0), indices = dims_of(ctx, 1);
  const int64_t b = ctx.attributes().get_int("batch_dims", 0);
  if (!data || !indices || indices->empty() || !indices->back().is_known()) {
    return set_tensor(ctx, 0, elem_of(ctx, 0), std::nullopt);
  }
  const int64_t k = indices->back().value;
  if (b + k > static_cast<int64_t>(data->size())) {
    throw_error(ErrorCode::kInvalidModel, ctx.node().describe(), ": GatherND index tuples of ",
                k, " entries with batch_dims ", b, " exceed the data rank ", data->size());
  }
  Dims out(indices->begin(), indices->end() - 1);
  out.insert(out.end(), data->begin() + b + k, data->end());
  set_tensor(ctx, 0, elem_of(ctx, 0), out);
}

void pad_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  const DataType dtype = elem_of(ctx, 0);
  if (!in) return set_tensor(ctx, 0, dtype, std::nullopt);
  std::optional<std::vector<int64_t>> pads, axes = std::vector<int64_t>{};
  if (ctx.opset() < 11) {
    pads = ctx.attributes().get_ints(ctx.opset() < 2 ? "paddings" : "pads");
  } else {
    pads = constant_ints(ctx, 1);
    if (ctx.has_input(3) || ctx.input_constant(3)) axes = constant_ints(ctx, 3);
  }
  if (!pads || !axes) return set_tensor(ctx, 0, dtype, unknown_dims(in->size()));
  std::vector<int64_t> all = resolve_pads(*pads, *axes, in->size());
  Dims out = *in;
  const size_t rank = in->size();
  for (size_t d = 0; d < rank; ++d) {
    if (all[d] == 0 && all[d + rank] == 0) continue;
    out[d] = out[d].is_known() ? Dim::known(padded_dim(out[d].value, all[d], all[d + rank], d)) : Dim{};
  }
  set_tensor(ctx, 0, dtype, out);
}

void expand_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  const DataType dtype = elem_of(ctx, 0);
  std::optional<std::vector<int64_t>> shape = constant_ints(ctx, 1);
  if (!shape) {
    std::optional<Dims> shape_dims = dims_of(ctx, 1);
    if (in && shape_dims && shape_dims->size() == 1 && (*shape_dims)[0].is_known()) {
      return set_tensor(ctx, 0, dtype, unknown_dims_of_declared_rank((*shape_dims)[0].value, in->size()));
    }
    return set_tensor(ctx, 0, dtype, std::nullopt);
  }
  if (!in) return set_tensor(ctx, 0, dtype, std::nullopt);
  for (int64_t d : *shape) {
    if (d < 0) throw_error(ErrorCode::kInvalidArgument, "Expand: negative dim in the target shape ", shape_to_string(*shape));
  }
  // Target dims of 1 leave the input dim as it is, symbolic or not.
  std::vector<Dims> both{*in, to_dims(*shape)};
  set_tensor(ctx, 0, dtype, broadcast_dims(both, "Expand"));
}

void center_crop_pad_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  const DataType dtype = elem_of(ctx, 0);
  if (!in) return set_tensor(ctx, 0, dtype, std::nullopt);
  const int64_t rank = static_cast<int64_t>(in->size());
  std::vector<int64_t> axes = ctx.attributes().get_ints("axes");
  if (axes.empty()) {
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  axes = normalize_axis_list(axes, rank, "CenterCropPad");
  std::optional<std::vector<int64_t>> shape = constant_ints(ctx, 1);
  Dims out = *in;
  for (size_t i = 0; i < axes.size(); ++i) {
    out[axes[i]] = shape && i < shape->size() ? Dim::known((*shape)[i]) : Dim{};
  }
  set_tensor(ctx, 0, dtype, out);
}

void tile_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  const DataType dtype = elem_of(ctx, 0);
  if (!in) return set_tensor(ctx, 0, dtype, std::nullopt);
  std::optional<std::vector<int64_t>> repeats = constant_ints(ctx, 1);
  if (!repeats) return set_tensor(ctx, 0, dtype, unknown_dims(in->size()));
  if (repeats->size() != in->size()) {
    throw_error(ErrorCode::kInvalidModel, ctx.node().describe(), ": Tile has ", repeats->size(),
                " repeats for an input of rank ", in->size());
  }
  Dims out = *in;
  for (size_t d = 0; d < out.size(); ++d) {
    if ((*repeats)[d] != 1) out[d] = dim_times(out[d], (*repeats)[d]);
  }
  set_tensor(ctx, 0, dtype, out);
}

void scatter_rule(InferenceContext& ctx) { tensor_rules::same_tensor_as_input_0(ctx); }

void one_hot_rule(InferenceContext& ctx) {
  std::optional<Dims> indices = dims_of(ctx, 0);
  const DataType dtype = elem_of(ctx, 2);
  if (!indices) return set_tensor(ctx, 0, dtype, std::nullopt);
  const int64_t axis = normalize_axis(ctx.attributes().get_int("axis", -1),
                                      static_cast<int64_t>(indices->size()) + 1, "OneHot");
  Dim depth;
  if (const Tensor* d = ctx.input_constant(1); d && d->element_count() == 1) {
    depth = Dim::known(one_hot_depth(*d));
  }
  Dims out = *indices;
  out.insert(out.begin() + axis, depth);
  set_tensor(ctx, 0, dtype, out);
}

void non_zero_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  set_tensor(ctx, 0, DataType::kInt64,
             Dims{in ? Dim::known(static_cast<int64_t>(in->size())) : Dim{}, Dim{}});
}

void compress_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  const DataType dtype = elem_of(ctx, 0);
  if (!ctx.attributes().has("axis")) return set_tensor(ctx, 0, dtype, unknown_dims(1));
  if (!in) return set_tensor(ctx, 0, dtype, std::nullopt);
  const int64_t axis = normalize_axis(ctx.attributes().get_int("axis", 0),
                                      static_cast<int64_t>(in->size()), "Compress");
  Dims out = *in;
  out[axis] = Dim{};
  set_tensor(ctx, 0, dtype, out);
}

// Unique: the count of distinct values is only known when running.
void unique_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  const DataType dtype = elem_of(ctx, 0);
  std::optional<Dims> y = unknown_dims(1);
  Dim inverse;
  if (ctx.attributes().has("axis") && in) {
    const int64_t axis = normalize_axis(ctx.attributes().get_int("axis", 0),
                                        static_cast<int64_t>(in->size()), "Unique");
    y = *in;
    inverse = (*in)[axis];
    (*y)[axis] = Dim{};
  } else if (ctx.attributes().has("axis")) {
    y = std::nullopt;
  } else if (in) {
    inverse = dim_product(in->data(), in->data() + in->size());
  }
  set_tensor(ctx, 0, dtype, y);
  set_tensor(ctx, 1, DataType::kInt64, unknown_dims(1));
  set_tensor(ctx, 2, DataType::kInt64, Dims{inverse});
  set_tensor(ctx, 3, DataType::kInt64, unknown_dims(1));
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "Unique", unique_rule);
ONYX_REGISTER_SHAPE_RULE("", "Transpose", transpose_rule);
ONYX_REGISTER_SHAPE_RULE("", "DepthToSpace", [](InferenceContext& ctx) { space_depth_rule(ctx, true); });
ONYX_REGISTER_SHAPE_RULE("", "SpaceToDepth", [](InferenceContext& ctx) { space_depth_rule(ctx, false); });
ONYX_REGISTER_SHAPE_RULE("", "Concat", concat_rule);
ONYX_REGISTER_SHAPE_RULE("", "Split", split_rule);
ONYX_REGISTER_SHAPE_RULE("", "Slice", slice_rule);
ONYX_REGISTER_SHAPE_RULE("", "Gather", gather_rule);
ONYX_REGISTER_SHAPE_RULE("", "GatherElements", gather_elements_rule);
ONYX_REGISTER_SHAPE_RULE("", "GatherND", gather_nd_rule);
ONYX_REGISTER_SHAPE_RULE("", "Scatter", scatter_rule);
ONYX_REGISTER_SHAPE_RULE("", "ScatterElements", scatter_rule);
ONYX_REGISTER_SHAPE_RULE("", "ScatterND", scatter_rule);
ONYX_REGISTER_SHAPE_RULE("", "TensorScatter", scatter_rule);
ONYX_REGISTER_SHAPE_RULE("", "Pad", pad_rule);
ONYX_REGISTER_SHAPE_RULE("", "Expand", expand_rule);
ONYX_REGISTER_SHAPE_RULE("", "Tile", tile_rule);
ONYX_REGISTER_SHAPE_RULE("", "CenterCropPad", center_crop_pad_rule);
ONYX_REGISTER_SHAPE_RULE("", "Trilu", tensor_rules::same_tensor_as_input_0);
ONYX_REGISTER_SHAPE_RULE("", "OneHot", one_hot_rule);
ONYX_REGISTER_SHAPE_RULE("", "NonZero", non_zero_rule);
ONYX_REGISTER_SHAPE_RULE("", "Compress", compress_rule);
ONYX_REGISTER_SHAPE_RULE("", "ReverseSequence", tensor_rules::same_tensor_as_input_0);

}  // namespace onyx::tensor_rules
