// Axis and index arithmetic shared by the shape rules (onnx_ops/) and the kernels (providers/):
// negative-axis normalisation, Reshape target resolution, Slice parameter clamping and Split
// chunk sizes, so a shape rule and a kernel can never disagree on what an op means.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/tensor/tensor.h"

namespace onyx {

// Maps axis in [-rank, rank) to [0, rank); throws kInvalidArgument naming `op` otherwise.
int64_t normalize_axis(int64_t axis, int64_t rank, std::string_view op = "axis");
// Same for a list, keeping the given order (Slice and Pad pair axes with other lists); also
// rejects repeated axes.
std::vector<int64_t> normalize_axis_list(std::span<const int64_t> axes, int64_t rank,
                                    std::string_view op = "axes");

// Reshape's target: 0 copies the input dim (unless allow_zero), one -1 is inferred. Throws
// naming both shapes when the element counts cannot match.
Shape resolve_reshape(const Shape& input, std::span<const int64_t> target, bool allow_zero);

// One axis of a slice: elements start, start+step, ... (count of them).
struct SliceAxis {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};

// Clamps start/end as ONNX Slice does (negative values count from the end, out-of-range values
// saturate, negative steps walk backwards) and returns the element count.
SliceAxis resolve_slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step);

// Per-dim slice of `shape`; axes default to 0..n-1 and steps to 1; untouched dims are whole.
std::vector<SliceAxis> resolve_slice(const Shape& shape, std::span<const int64_t> starts,
                                     std::span<const int64_t> ends,
                                     std::span<const int64_t> axes,
                                     std::span<const int64_t> steps);

// Chunk sizes of Split along a dim of length `dim`: explicit `split` sizes (must sum to dim),
// else `outputs` chunks of ceil(dim / outputs) with a smaller last chunk (opset 18) or equal
// chunks (older opsets, where dim must divide evenly).
std::vector<int64_t> resolve_split(int64_t dim, std::span<const int64_t> split, int64_t outputs,
                                   bool allow_uneven);

// Row-major element strides of a shape.
std::vector<int64_t> contiguous_strides(const Shape& shape);

}  // namespace onyx
