#include "onnx_ops/tensor_ops.h"

#include <algorithm>
#include <cmath>

#include "onnx_ops/axes.h"

namespace onyx {

Shape flatten_shape(const Shape& input, int64_t axis) {
  const int64_t rank = static_cast<int64_t>(input.size());
  if (axis < -rank || axis > rank) {
    throw_error(ErrorCode::kInvalidArgument, "Flatten: axis ", axis, " is out of range for rank ",
                rank, " (expected [", -rank, ", ", rank, "])");
  }
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d) (d < axis ? outer : inner) *= input[d];
  return {outer, inner};
}

Shape squeeze_shape(const Shape& input, std::span<const int64_t> axes) {
  const int64_t rank = static_cast<int64_t>(input.size());
  std::vector<bool> drop(input.size(), false);
  if (axes.empty()) {
    for (size_t d = 0; d < input.size(); ++d) drop[d] = input[d] == 1;
  } else {
    for (int64_t axis : normalize_axis_list(axes, rank, "Squeeze")) {
      if (input[axis] != 1) {
        throw_error(ErrorCode::kInvalidArgument, "Squeeze: axis ", axis, " of shape ",
                    shape_to_string(input), " has size ", input[axis], ", not 1");
      }
      drop[axis] = true;
    }
  }
  Shape out;
  for (size_t d = 0; d < input.size(); ++d) {
    if (!drop[d]) out.push_back(input[d]);
  }
  return out;
}

Shape unsqueeze_shape(const Shape& input, std::span<const int64_t> axes) {
  const int64_t rank = static_cast<int64_t>(input.size() + axes.size());
  std::vector<bool> inserted(static_cast<size_t>(rank), false);
  for (int64_t axis : normalize_axis_list(axes, rank, "Unsqueeze")) inserted[axis] = true;
  Shape out;
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d) out.push_back(inserted[d] ? 1 : input[next++]);
  return out;
}

std::vector<int64_t> resolve_perm(std::span<const int64_t> perm, size_t rank) {
  std::vector<int64_t> out;
  if (perm.empty()) {
    for (size_t d = rank; d-- > 0;) out.push_back(static_cast<int64_t>(d));
    return out;
  }
  if (perm.size() != rank) {
    throw_error(ErrorCode::kInvalidArgument, "Transpose: perm has ", perm.size(),
                " entries for an input of rank ", rank);
  }
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    int64_t axis = normalize_axis(p, static_cast<int64_t>(rank), "Transpose perm");
    if (seen[axis]) throw_error(ErrorCode::kInvalidArgument, "Transpose: perm repeats axis ", p);
    seen[axis] = true;
    out.push_back(axis);
  }
  return out;
}

Shape concat_shape(std::span<const Shape> inputs, int64_t axis) {
  if (inputs.empty()) throw_error(ErrorCode::kInvalidArgument, "Concat: no inputs");
  const Shape& first = inputs[0];
  const int64_t a = normalize_axis(axis, static_cast<int64_t>(first.size()), "Concat");
  Shape out = first;
  out[a] = 0;
  for (const Shape& s : inputs) {
    bool same = s.size() == first.size();
    for (size_t d = 0; same && d < s.size(); ++d) same = d == size_t(a) || s[d] == first[d];
    if (!same) {
      throw_error(ErrorCode::kInvalidArgument, "Concat: input shapes ", shape_to_string(first),
                  " and ", shape_to_string(s), " differ outside axis ", axis);
    }
    out[a] += s[a];
  }
  return out;
}

std::vector<int64_t> resolve_pads(std::span<const int64_t> pads, std::span<const int64_t> axes,
                                  size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  std::vector<int64_t> axis_list;
  if (axes.empty()) {
    for (int64_t d = 0; d < r; ++d) axis_list.push_back(d);
  } else {
    axis_list = normalize_axis_list(axes, r, "Pad");
  }
  if (pads.size() != 2 * axis_list.size()) {
    throw_error(ErrorCode::kInvalidArgument, "Pad: ", pads.size(), " pads for ",
                axis_list.size(), " axes (expected ", 2 * axis_list.size(), ")");
  }
  std::vector<int64_t> out(2 * rank, 0);
  const size_t n = axis_list.size();
  for (size_t i = 0; i < n; ++i) {
    out[axis_list[i]] = pads[i];
    out[axis_list[i] + rank] = pads[i + n];
  }
  return out;
}

int64_t padded_dim(int64_t dim, int64_t begin, int64_t end, size_t axis) {
  std::optional<int64_t> with_begin = add_dims(dim, begin);
  std::optional<int64_t> padded = with_begin ? add_dims(*with_begin, end) : std::nullopt;
  if (!padded) {
    throw_error(ErrorCode::kInvalidArgument, "Pad: pads ", begin, ",", end, " of axis ", axis, " (size ", dim,
                ") overflow int64");
  }
  if (*padded < 0) {
    throw_error(ErrorCode::kInvalidArgument, "Pad: negative pads ", begin, ",", end, " remove more than the ", dim,
                " elements of axis ", axis);
  }
  return *padded;
}

int64_t one_hot_depth(const Tensor& depth) {
  ONYX_CHECK(depth.element_count() == 1, ErrorCode::kInvalidArgument, "OneHot: depth must hold one value, got shape ",
             shape_to_string(depth.shape()));
  const double value = depth.element_as_double(0);
  std::optional<int64_t> count = floor_to_dim(value);
  ONYX_CHECK(count && *count > 0, ErrorCode::kInvalidArgument, "OneHot: depth ", value, " must be a positive count");
  return *count;
}

Shape tile_shape(const Shape& input, std::span<const int64_t> repeats) {
  if (repeats.size() != input.size()) {
    throw_error(ErrorCode::kInvalidArgument, "Tile: ", repeats.size(),
                " repeats for an input of rank ", input.size());
  }
  Shape out = input;
  for (size_t d = 0; d < input.size(); ++d) {
    if (repeats[d] < 0) {
      throw_error(ErrorCode::kInvalidArgument, "Tile: negative repeat ", repeats[d], " at axis ",
                  d);
    }
    out[d] = checked_dim_product(out[d], repeats[d], "Tile: the output dim of axis " + std::to_string(d));
  }
  return out;
}

int64_t range_count(double start, double limit, double delta) {
  if (delta == 0) throw_error(ErrorCode::kInvalidArgument, "Range: delta must not be 0");
  if (!std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta)) {
    throw_error(ErrorCode::kInvalidArgument, "Range: start ", start, ", limit ", limit, " and delta ", delta,
                " must be finite");
  }
  double n = std::ceil((limit - start) / delta);
  if (!(n > 0)) return 0;
  // A count this large fails the memory limit when the output is allocated, with the sizes named.
  return checked_floor_to_dim(n, "Range: the element count");
}

}  // namespace onyx
