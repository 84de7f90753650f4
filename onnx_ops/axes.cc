#include "onnx_ops/axes.h"

#include <algorithm>
#include <limits>

#include "runtime/common/error.h"

namespace onyx {

// Weak for now: onnx_ops/reduction.cc still carries an identical copy; the linker takes that
// one while it exists. Drop the attribute once reduction.cc uses this header.
int64_t normalize_axis(int64_t axis, int64_t rank, std::string_view op) {
  if (axis < -rank || axis >= rank) {
    throw_error(ErrorCode::kInvalidArgument, op, ": axis ", axis, " is out of range for rank ",
                rank, " (expected [", -rank, ", ", rank - 1, "])");
  }
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> normalize_axis_list(std::span<const int64_t> axes, int64_t rank,
                                    std::string_view op) {
  std::vector<int64_t> out;
  out.reserve(axes.size());
  for (int64_t axis : axes) {
    int64_t a = normalize_axis(axis, rank, op);
    if (std::find(out.begin(), out.end(), a) != out.end()) {
      throw_error(ErrorCode::kInvalidArgument, op, ": axis ", axis, " is repeated");
    }
    out.push_back(a);
  }
  return out;
}

Shape resolve_reshape(const Shape& input, std::span<const int64_t> target, bool allow_zero) {
  Shape out(target.begin(), target.end());
  int64_t infer_at = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer_at >= 0) {
        throw_error(ErrorCode::kInvalidArgument, "Reshape: target shape ",
                    shape_to_string(Shape(target.begin(), target.end())),
                    " has more than one -1");
      }
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    if (out[i] == 0 && !allow_zero) {
      if (i >= input.size()) {
        throw_error(ErrorCode::kInvalidArgument, "Reshape: target dim ", i,
                    " is 0 (copy) but the input ", shape_to_string(input), " has rank ",
                    input.size());
      }
      out[i] = input[i];
    }
    if (out[i] < 0) {
      throw_error(ErrorCode::kInvalidArgument, "Reshape: invalid target dim ", out[i], " in ",
                  shape_to_string(Shape(target.begin(), target.end())));
    }
    std::optional<int64_t> product = multiply_dims(known, out[i]);
    if (!product) {
      throw_error(ErrorCode::kInvalidArgument, "Reshape: target shape ", shape_to_string(Shape(target.begin(), target.end())),
                  " has more than 2^63 elements");
    }
    known = *product;
  }
  const int64_t count = shape_element_count(input);
  if (infer_at >= 0) {
    if (known == 0 || count % known != 0) {
      throw_error(ErrorCode::kInvalidArgument, "Reshape: cannot reshape ", shape_to_string(input),
                  " (", count, " elements) to ",
                  shape_to_string(Shape(target.begin(), target.end())));
    }
    out[infer_at] = count / known;
  } else if (known != count) {
    throw_error(ErrorCode::kInvalidArgument, "Reshape: cannot reshape ", shape_to_string(input),
                " (", count, " elements) to ", shape_to_string(out), " (", known, " elements)");
  }
  return out;
}

SliceAxis resolve_slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (step == 0) throw_error(ErrorCode::kInvalidArgument, "Slice: step must not be 0");
  if (start < 0) start = start < -dim ? -1 : start + dim;  // avoid overflow on INT64_MIN
  if (end < 0) end = end < -dim ? -1 : end + dim;
  SliceAxis axis;
  axis.step = step;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    axis.start = start;
    axis.count = end > start ? (end - start + step - 1) / step : 0;
  } else {
    start = std::clamp<int64_t>(start, -1, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    axis.start = start;
    axis.count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
  }
  if (axis.count == 0) axis.start = 0;
  return axis;
}

std::vector<SliceAxis> resolve_slice(const Shape& shape, std::span<const int64_t> starts,
                                     std::span<const int64_t> ends,
                                     std::span<const int64_t> axes,
                                     std::span<const int64_t> steps) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (starts.size() != ends.size()) {
    throw_error(ErrorCode::kInvalidArgument, "Slice: ", starts.size(), " starts but ", ends.size(),
                " ends");
  }
  if (!axes.empty() && axes.size() != starts.size()) {
    throw_error(ErrorCode::kInvalidArgument, "Slice: ", axes.size(), " axes but ", starts.size(),
                " starts");
  }
  if (!steps.empty() && steps.size() != starts.size()) {
    throw_error(ErrorCode::kInvalidArgument, "Slice: ", steps.size(), " steps but ",
                starts.size(), " starts");
  }
  std::vector<SliceAxis> out(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) out[d] = {0, 1, shape[d]};
  std::vector<int64_t> resolved_axes;
  if (axes.empty()) {
    if (static_cast<int64_t>(starts.size()) > rank) {
      throw_error(ErrorCode::kInvalidArgument, "Slice: ", starts.size(),
                  " starts for an input of rank ", rank);
    }
    for (size_t i = 0; i < starts.size(); ++i) resolved_axes.push_back(static_cast<int64_t>(i));
  } else {
    resolved_axes = normalize_axis_list(axes, rank, "Slice");
  }
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = resolved_axes[i];
    out[axis] = resolve_slice_axis(shape[axis], starts[i], ends[i], steps.empty() ? 1 : steps[i]);
  }
  return out;
}

std::vector<int64_t> resolve_split(int64_t dim, std::span<const int64_t> split, int64_t outputs,
                                   bool allow_uneven) {
  if (!split.empty()) {
    int64_t sum = 0;
    for (int64_t s : split) {
      if (s < 0) throw_error(ErrorCode::kInvalidArgument, "Split: negative split size ", s);
      sum += s;
    }
    if (sum != dim) {
      throw_error(ErrorCode::kInvalidArgument, "Split: split sizes sum to ", sum,
                  " but the axis has length ", dim);
    }
    if (outputs > 0 && static_cast<int64_t>(split.size()) != outputs) {
      throw_error(ErrorCode::kInvalidArgument, "Split: ", split.size(), " split sizes for ",
                  outputs, " outputs");
    }
    return {split.begin(), split.end()};
  }
  if (outputs <= 0) throw_error(ErrorCode::kInvalidArgument, "Split: no outputs");
  if (!allow_uneven) {
    if (dim % outputs != 0) {
      throw_error(ErrorCode::kInvalidArgument, "Split: axis length ", dim,
                  " does not divide into ", outputs, " equal outputs");
    }
    return std::vector<int64_t>(static_cast<size_t>(outputs), dim / outputs);
  }
  const int64_t chunk = (dim + outputs - 1) / outputs;
  std::vector<int64_t> sizes;
  int64_t left = dim;
  for (int64_t i = 0; i < outputs; ++i) {
    sizes.push_back(std::min(chunk, left));
    left -= sizes.back();
  }
  return sizes;
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

}  // namespace onyx
