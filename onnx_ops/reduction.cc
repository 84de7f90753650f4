#include "onnx_ops/reduction.h"

#include <algorithm>
#include <optional>

#include "onnx_ops/op_schema.h"

namespace onyx {

bool reduce_axes_from_input(std::string_view op_type, int64_t opset) {
  return opset >= (op_type == "ReduceSum" ? 13 : 18);
}

std::vector<int64_t> normalize_axes(std::span<const int64_t> axes, int64_t rank,
                                    std::string_view what) {
  std::vector<int64_t> result = normalize_axis_list(axes, rank, what);
  std::sort(result.begin(), result.end());
  return result;
}

std::vector<int64_t> resolve_reduce_axes(std::span<const int64_t> axes, bool noop_with_empty_axes,
                                         int64_t rank, std::string_view what) {
  if (!axes.empty()) return normalize_axes(axes, rank, what);
  std::vector<int64_t> all;
  if (!noop_with_empty_axes) {
    for (int64_t d = 0; d < rank; ++d) all.push_back(d);
  }
  return all;
}

Shape reduced_shape(const Shape& shape, std::span<const int64_t> axes, bool keepdims) {
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (!reduced) {
      out.push_back(shape[d]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

ReducePlan::ReducePlan(const Shape& shape, std::span<const int64_t> axes) {
  // Merge into groups (size, reduced), skipping dims of size 1.
  std::vector<std::pair<int64_t, bool>> groups;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (!groups.empty() && groups.back().second == reduced) {
      groups.back().first *= shape[d];
    } else {
      groups.push_back({shape[d], reduced});
    }
  }
  ONYX_CHECK(groups.size() <= 32, ErrorCode::kNotImplemented,
             "reduction: too many alternating reduced and kept dims in ",
             shape_to_string(shape));
  // Input strides of the groups.
  std::vector<int64_t> strides(groups.size());
  int64_t stride = 1;
  for (size_t g = groups.size(); g-- > 0;) {
    strides[g] = stride;
    stride *= groups[g].first;
  }
  size_t outer = groups.size();
  if (!groups.empty()) {
    inner_reduced_ = groups.back().second;
    row_length_ = groups.back().first;
    outer = groups.size() - 1;
  }
  for (size_t g = 0; g < outer; ++g) {
    auto& dims = groups[g].second ? row_dims_ : block_dims_;
    auto& st = groups[g].second ? row_strides_ : block_strides_;
    dims.push_back(groups[g].first);
    st.push_back(strides[g]);
  }
}

namespace {

// The reduced axes of a node when they are known before running, or nullopt. Empty means all
// (or none, with noop_with_empty_axes: the caller checks).
std::optional<std::vector<int64_t>> known_reduce_axes(InferenceContext& ctx) {
  const std::string& op = ctx.node().op_type;
  if (!reduce_axes_from_input(op, ctx.opset())) return ctx.attributes().get_ints("axes");
  if (!ctx.has_input(1)) return std::vector<int64_t>{};
  if (const Tensor* axes = ctx.input_constant(1)) return axes->to_int64_vector();
  return std::nullopt;
}

void reduce_rule(InferenceContext& ctx) {
  const TypeInfo& in = ctx.input_type(0);
  if (!in.is_tensor()) return;
  TypeInfo out = TypeInfo::tensor(in.elem_type);
  const bool keepdims = ctx.attributes().get_int("keepdims", 1) != 0;
  std::optional<std::vector<int64_t>> axes = known_reduce_axes(ctx);
  if (in.shape) {
    const int64_t rank = static_cast<int64_t>(in.shape->size());
    if (axes) {
      const bool noop = ctx.attributes().get_int("noop_with_empty_axes", 0) != 0;
      std::vector<int64_t> norm = resolve_reduce_axes(*axes, noop, rank, ctx.node().op_type);
      std::vector<Dim> dims;
      for (int64_t d = 0; d < rank; ++d) {
        if (!std::binary_search(norm.begin(), norm.end(), d)) {
          dims.push_back((*in.shape)[d]);
        } else if (keepdims) {
          dims.push_back(Dim::known(1));
        }
      }
      out.shape = std::move(dims);
    } else if (keepdims) {
      out.shape = std::vector<Dim>(rank);  // rank is kept, dims unknown
    }
  }
  ctx.set_output_type(0, std::move(out));
}

void arg_reduce_rule(InferenceContext& ctx) {
  const TypeInfo& in = ctx.input_type(0);
  if (!in.is_tensor()) return;
  TypeInfo out = TypeInfo::tensor(DataType::kInt64);
  if (in.shape) {
    const int64_t rank = static_cast<int64_t>(in.shape->size());
    const int64_t axis =
        normalize_axis(ctx.attributes().get_int("axis", 0), rank, ctx.node().op_type);
    const bool keepdims = ctx.attributes().get_int("keepdims", 1) != 0;
    std::vector<Dim> dims;
    for (int64_t d = 0; d < rank; ++d) {
      if (d != axis) {
        dims.push_back((*in.shape)[d]);
      } else if (keepdims) {
        dims.push_back(Dim::known(1));
      }
    }
    out.shape = std::move(dims);
  }
  ctx.set_output_type(0, std::move(out));
}


void top_k_rule(InferenceContext& ctx) {
  const TypeInfo& in = ctx.input_type(0);
  if (!in.is_tensor()) return;
  TypeInfo values = TypeInfo::tensor(in.elem_type);
  TypeInfo indices = TypeInfo::tensor(DataType::kInt64);
  if (in.shape) {
    const int64_t rank = static_cast<int64_t>(in.shape->size());
    const int64_t axis = normalize_axis(ctx.attributes().get_int("axis", -1), rank, "TopK");
    std::vector<Dim> dims = *in.shape;
    std::optional<int64_t> k;
    if (ctx.opset() < 10) {
      k = ctx.attributes().require_int("k");
    } else if (const Tensor* kt = ctx.input_constant(1)) {
      std::vector<int64_t> kv = kt->to_int64_vector();
      ONYX_CHECK(kv.size() == 1, ErrorCode::kInvalidModel, "TopK: K must hold one value");
      k = kv[0];
    }
    dims[axis] = k ? Dim::known(*k) : Dim{};
    values.shape = dims;
    indices.shape = dims;
  }
  ctx.set_output_type(0, std::move(values));
  ctx.set_output_type(1, std::move(indices));
}

ONYX_REGISTER_SHAPE_RULE("", "ReduceSum", reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ReduceMean", reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ReduceMax", reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ReduceMin", reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ReduceProd", reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ReduceL1", reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ReduceL2", reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ReduceLogSum", reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ReduceLogSumExp", reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ReduceSumSquare", reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ArgMax", arg_reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "ArgMin", arg_reduce_rule);
ONYX_REGISTER_SHAPE_RULE("", "CumSum", copy_input_0_type);
ONYX_REGISTER_SHAPE_RULE("", "CumProd", copy_input_0_type);
ONYX_REGISTER_SHAPE_RULE("", "LpNormalization", copy_input_0_type);
ONYX_REGISTER_SHAPE_RULE("", "TopK", top_k_rule);

}  // namespace

}  // namespace onyx
