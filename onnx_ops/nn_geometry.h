// Sliding-window geometry shared by Conv, ConvTranspose and the pooling ops: reading the
// kernel_shape/strides/dilations/pads/auto_pad/ceil_mode attributes, resolving auto_pad into
// explicit pads and computing output sizes. Shape rules and kernels call the same functions so
// an inferred shape and a computed one can never disagree.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "onnx_ops/attribute_checks.h"
#include "onnx_ops/node_attributes.h"
#include "runtime/ir/type_info.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// The window attributes as written on the node; empty vectors mean "use the default".
struct WindowAttributes {
  std::vector<int64_t> kernel_shape;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;  // [begin_0, begin_1, ..., end_0, end_1, ...]
  AutoPad auto_pad = AutoPad::kNotSet;
  bool ceil_mode = false;

  // Values as check_window_attributes allowed them.
  static WindowAttributes read(const NodeAttributes& attributes);
};

// Resolved geometry for one input shape: every vector has one entry per spatial dim (pads two).
struct WindowGeometry {
  std::vector<int64_t> input;   // spatial input size
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;    // begin..., end...
  std::vector<int64_t> output;  // spatial output size

  size_t rank() const { return input.size(); }
  int64_t pad_begin(size_t d) const { return pads[d]; }
  int64_t pad_end(size_t d) const { return pads[rank() + d]; }
  int64_t effective_kernel(size_t d) const { return (kernel[d] - 1) * dilations[d] + 1; }
  int64_t input_count() const;   // product of input
  int64_t output_count() const;  // product of output
  int64_t kernel_count() const;  // product of kernel
};

// Geometry of a forward window op (Conv, pools) over `input_spatial` with `kernel` (already
// taken from kernel_shape or the weights). Throws kInvalidArgument naming `op` and the shapes
// when attribute lengths disagree with the rank or the output would be empty.
WindowGeometry forward_window_geometry(const WindowAttributes& attrs,
                                       std::span<const int64_t> input_spatial,
                                       std::span<const int64_t> kernel, std::string_view op);

// Geometry of ConvTranspose: `output_padding` and `output_shape` as on the node (may be empty).
// Here `input` is the transposed conv's input and `output` its (larger) output.
WindowGeometry transpose_window_geometry(const WindowAttributes& attrs,
                                         std::span<const int64_t> input_spatial,
                                         std::span<const int64_t> kernel,
                                         std::span<const int64_t> output_padding,
                                         std::span<const int64_t> output_shape,
                                         std::string_view op);

// Spatial dims of a [N, C, spatial...] TypeInfo when all are known; false otherwise.
// The attribute check of the windowed ops (attribute_checks.h): kernel_shape, strides,
// dilations >= 1, pads >= 0, all at most 2^31 - 1 (the window arithmetic on larger values
// overflowed int64: fuzz regression model_mutate/maxpool-huge-pad) and of the input's spatial
// rank when known; auto_pad; for convolutions (weight_input >= 0) group >= 1 dividing the
// channels; for ConvTranspose output_padding below stride or dilation.
struct WindowOp {
  int weight_input = -1;  // -1 for pools
  bool transpose = false;
};
void check_window_attributes(const AttributeCheckContext& ctx, WindowOp op);

bool known_spatial_dims(const TypeInfo& type, std::vector<int64_t>& spatial);

}  // namespace onyx
