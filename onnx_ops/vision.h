// Meaning of the image-geometry ops (Resize, Upsample, GridSample, RoiAlign, NonMaxSuppression,
// MaxUnpool): how Resize turns scales/sizes/axes/keep_aspect_ratio_policy into an output shape
// and per-axis scales, and how an output coordinate maps back to the input. Shared by the
// shape rules and the CPU kernels so both agree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "onnx_ops/node_attributes.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

enum class CoordinateTransform {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfCropAndResize,
  kTfHalfPixelForNn,  // opset 11-12 only
};

enum class ResizeMode { kNearest, kLinear, kCubic };

// How a fractional nearest coordinate rounds. kSimple is Upsample's (and Resize-10's) rule:
// floor when upsampling, ceil when downsampling, as ONNX Runtime does for those opsets.
enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };

enum class AspectRatioPolicy { kStretch, kNotLarger, kNotSmaller };

struct ResizeAttributes {
  ResizeMode mode = ResizeMode::kNearest;
  CoordinateTransform transform = CoordinateTransform::kHalfPixel;
  NearestMode nearest_mode = NearestMode::kRoundPreferFloor;
  float cubic_coeff_a = -0.75f;
  bool exclude_outside = false;
  float extrapolation_value = 0.0f;
  bool antialias = false;
  AspectRatioPolicy policy = AspectRatioPolicy::kStretch;
  std::vector<int64_t> axes;  // from opset 18; empty means all

  // Reads the attributes with the defaults of `opset` (Resize 10 and Upsample: asymmetric,
  // simple nearest). `op` names the op in errors.
  static ResizeAttributes read(const NodeAttributes& attributes, int64_t opset,
                               const std::string& op);
};

// The resolved geometry: output dims, per-axis scale (float as ONNX computes it: the given
// scale, or out/in for sizes) and per-axis ROI [start, end] (0..1 when not cropping).
struct ResizeGeometry {
  Shape output;
  std::vector<double> scales;
  std::vector<double> roi_start;
  std::vector<double> roi_end;
};

// Output shape and scales from scales or sizes (exactly one given), axes and the policy.
// Throws kInvalidArgument naming the problem (count mismatch, non-positive scale, both given).
ResizeGeometry resolve_resize(const Shape& input, const ResizeAttributes& attrs,
                              const std::vector<double>* roi, const std::vector<double>* scales,
                              const std::vector<int64_t>* sizes, const std::string& op);

// Input coordinate of output index `x` along one axis (ONNX Resize's formula).
double resize_source_coordinate(CoordinateTransform transform, double x, double scale,
                                int64_t in_len, int64_t out_len, double roi_start,
                                double roi_end);

}  // namespace onyx
