// Index arithmetic of the CUDA kernels, as plain functions usable on the host and the device,
// so tests/unit/cuda_index_math_test.cc checks it on any machine against reference loops and
// the CPU's broadcast plan. Kernels get small fixed-size maps by value (kernel parameters) and
// turn an output's linear index into input offsets with them.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef __CUDACC__
#define ONYX_HOST_DEVICE __host__ __device__
#else
#define ONYX_HOST_DEVICE
#endif

namespace onyx::cuda {

inline constexpr int kMaxIndexDims = 8;
inline constexpr int kMaxBroadcastInputs = 3;  // Where has three

// --- strided views: Transpose, Slice, Expand, broadcast inputs -----------------------------
// An output of `rank` dims read through per-dim input strides from `base`: element
// (c0..cn) of the output is input element base + sum(c_d * strides[d]).
struct StridedMap {
  int rank = 0;
  int64_t dims[kMaxIndexDims] = {};
  int64_t strides[kMaxIndexDims] = {};
  int64_t base = 0;
};

ONYX_HOST_DEVICE inline int64_t strided_offset(const StridedMap& map, int64_t linear) {
  int64_t offset = map.base;
  for (int d = map.rank - 1; d >= 0; --d) {
    int64_t coordinate = linear % map.dims[d];
    linear /= map.dims[d];
    offset += coordinate * map.strides[d];
  }
  return offset;
}

// Row-major strides of a dense shape.
inline std::vector<int64_t> dense_strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;) strides[d - 1] = strides[d] * dims[d];
  return strides;
}

// Merges adjacent dims that stay contiguous in the input (stride[d] == stride[d+1] * dim[d+1])
// and drops dims of extent 1, so a map fits kMaxIndexDims more often and divides less.
inline void coalesce_strided(std::vector<int64_t>& dims, std::vector<int64_t>& strides) {
  std::vector<int64_t> out_dims, out_strides;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == 1) continue;
    if (!out_dims.empty() && out_strides.back() == strides[d] * dims[d]) {
      out_dims.back() *= dims[d];
      out_strides.back() = strides[d];
    } else {
      out_dims.push_back(dims[d]);
      out_strides.push_back(strides[d]);
    }
  }
  dims = std::move(out_dims);
  strides = std::move(out_strides);
}

inline StridedMap make_strided_map(std::vector<int64_t> dims, std::vector<int64_t> strides, int64_t base,
                                   const char* what) {
  coalesce_strided(dims, strides);
  if (dims.size() > static_cast<size_t>(kMaxIndexDims)) {
    throw std::length_error(std::string(what) + ": more than 8 dims after merging contiguous ones");
  }
  StridedMap map;
  map.rank = static_cast<int>(dims.size());
  for (int d = 0; d < map.rank; ++d) {
    map.dims[d] = dims[d];
    map.strides[d] = strides[d];
  }
  map.base = base;
  return map;
}

// Transpose: output dim d is input dim perm[d].
inline StridedMap make_transpose_map(const std::vector<int64_t>& in_dims, const std::vector<int64_t>& perm) {
  std::vector<int64_t> in_strides = dense_strides(in_dims);
  std::vector<int64_t> dims(perm.size()), strides(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) {
    dims[d] = in_dims[perm[d]];
    strides[d] = in_strides[perm[d]];
  }
  return make_strided_map(dims, strides, 0, "Transpose");
}

// Slice with normalized (clamped) per-dim starts and steps and the output's dims.
inline StridedMap make_slice_map(const std::vector<int64_t>& in_dims, const std::vector<int64_t>& starts,
                                 const std::vector<int64_t>& steps, const std::vector<int64_t>& out_dims) {
  std::vector<int64_t> in_strides = dense_strides(in_dims);
  std::vector<int64_t> strides(in_dims.size());
  int64_t base = 0;
  for (size_t d = 0; d < in_dims.size(); ++d) {
    base += starts[d] * in_strides[d];
    strides[d] = steps[d] * in_strides[d];
  }
  return make_strided_map(out_dims, strides, base, "Slice");
}

// NumPy broadcasting of `in_dims` into `out_dims` (right-aligned): stride 0 where repeated.
inline std::vector<int64_t> broadcast_input_strides(const std::vector<int64_t>& in_dims,
                                                    const std::vector<int64_t>& out_dims) {
  std::vector<int64_t> dense = dense_strides(in_dims);
  std::vector<int64_t> strides(out_dims.size(), 0);
  size_t shift = out_dims.size() - in_dims.size();
  for (size_t d = 0; d < in_dims.size(); ++d) strides[d + shift] = in_dims[d] == 1 ? 0 : dense[d];
  return strides;
}

// --- broadcasting of up to three inputs (binary ops, Where) ----------------------------
struct BroadcastMap {
  int rank = 0;
  int inputs = 0;
  int64_t dims[kMaxIndexDims] = {};
  int64_t strides[kMaxBroadcastInputs][kMaxIndexDims] = {};
};

// offsets[i]: the element of input i that output element `linear` reads.
ONYX_HOST_DEVICE inline void broadcast_offsets(const BroadcastMap& map, int64_t linear, int64_t* offsets) {
  for (int i = 0; i < map.inputs; ++i) offsets[i] = 0;
  for (int d = map.rank - 1; d >= 0; --d) {
    int64_t coordinate = linear % map.dims[d];
    linear /= map.dims[d];
    for (int i = 0; i < map.inputs; ++i) offsets[i] += coordinate * map.strides[i][d];
  }
}

// Adjacent dims are merged where every input is either contiguous across them or repeated
// across both; size-1 output dims are dropped.
inline BroadcastMap make_broadcast_map(const std::vector<std::vector<int64_t>>& in_dims,
                                       const std::vector<int64_t>& out_dims) {
  size_t inputs = in_dims.size();
  if (inputs > static_cast<size_t>(kMaxBroadcastInputs)) throw std::length_error("broadcast: more than 3 inputs");
  std::vector<std::vector<int64_t>> strides;
  for (const auto& dims : in_dims) strides.push_back(broadcast_input_strides(dims, out_dims));
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> merged(inputs);
  for (size_t d = 0; d < out_dims.size(); ++d) {
    if (out_dims[d] == 1) continue;
    bool mergeable = !dims.empty();
    for (size_t i = 0; i < inputs && mergeable; ++i) {
      int64_t outer = merged[i].back();
      int64_t inner = strides[i][d];
      mergeable = (outer == 0 && inner == 0) || (inner != 0 && outer == inner * out_dims[d]);
    }
    if (mergeable) {
      dims.back() *= out_dims[d];
      for (size_t i = 0; i < inputs; ++i) merged[i].back() = strides[i][d];
    } else {
      dims.push_back(out_dims[d]);
      for (size_t i = 0; i < inputs; ++i) merged[i].push_back(strides[i][d]);
    }
  }
  if (dims.size() > static_cast<size_t>(kMaxIndexDims)) {
    throw std::length_error("broadcast: more than 8 dims after merging");
  }
  BroadcastMap map;
  map.rank = static_cast<int>(dims.size());
  map.inputs = static_cast<int>(inputs);
  for (int d = 0; d < map.rank; ++d) {
    map.dims[d] = dims[d];
    for (size_t i = 0; i < inputs; ++i) map.strides[i][d] = merged[i][d];
  }
  return map;
}

// --- Tile --------------------------------------------------------------------------------------
// Output coordinate c along dim d reads input coordinate c mod in_dims[d].
struct TileMap {
  int rank = 0;
  int64_t out_dims[kMaxIndexDims] = {};
  int64_t in_dims[kMaxIndexDims] = {};
};

ONYX_HOST_DEVICE inline int64_t tile_source_offset(const TileMap& map, int64_t linear) {
  int64_t offset = 0, stride = 1;
  for (int d = map.rank - 1; d >= 0; --d) {
    int64_t coordinate = linear % map.out_dims[d];
    linear /= map.out_dims[d];
    offset += (coordinate % map.in_dims[d]) * stride;
    stride *= map.in_dims[d];
  }
  return offset;
}

// --- Gather along one axis ------------------------------------------------------------------
// data viewed as [outer, axis_dim, inner], indices flattened to index_count, output as
// [outer, index_count, inner].
struct GatherMap {
  int64_t axis_dim = 0;
  int64_t index_count = 0;
  int64_t inner = 0;
};

// A negative index counts from the end; -1 marks one out of range.
ONYX_HOST_DEVICE inline int64_t normalize_gather_index(int64_t index, int64_t axis_dim) {
  if (index < 0) index += axis_dim;
  return index < 0 || index >= axis_dim ? -1 : index;
}

// Position in the flattened indices that output element `linear` takes its index from.
ONYX_HOST_DEVICE inline int64_t gather_index_position(const GatherMap& map, int64_t linear) {
  return (linear / map.inner) % map.index_count;
}

// The data element output `linear` reads, given the normalized index at its position.
ONYX_HOST_DEVICE inline int64_t gather_source_offset(const GatherMap& map, int64_t linear, int64_t index) {
  int64_t inner = linear % map.inner;
  int64_t outer = linear / (map.inner * map.index_count);
  return (outer * map.axis_dim + index) * map.inner + inner;
}

// --- GatherElements ----------------------------------------------------------------------------
// Output (shaped like the indices) element c reads data at c with its `axis` coordinate replaced
// by the (normalized) index at c.
struct GatherElementsMap {
  int rank = 0;
  int axis = 0;
  int64_t index_dims[kMaxIndexDims] = {};
  int64_t data_strides[kMaxIndexDims] = {};
};

ONYX_HOST_DEVICE inline int64_t gather_elements_offset(const GatherElementsMap& map, int64_t linear, int64_t index) {
  int64_t offset = 0;
  for (int d = map.rank - 1; d >= 0; --d) {
    int64_t coordinate = linear % map.index_dims[d];
    linear /= map.index_dims[d];
    offset += (d == map.axis ? index : coordinate) * map.data_strides[d];
  }
  return offset;
}

// --- Concat ----------------------------------------------------------------------------------
// Input element `linear` of an input viewed as [outer, in_axis, inner] goes to this output
// element of [outer, out_axis, inner], the input starting at `axis_base` along the axis.
ONYX_HOST_DEVICE inline int64_t concat_output_offset(int64_t linear, int64_t in_axis, int64_t inner,
                                                     int64_t out_axis, int64_t axis_base) {
  int64_t within = linear % (in_axis * inner);
  int64_t outer = linear / (in_axis * inner);
  return outer * out_axis * inner + axis_base * inner + within;
}

// --- Pad -------------------------------------------------------------------------------------
enum class PadMode : int { kConstant = 0, kReflect = 1, kEdge = 2, kWrap = 3 };

// Input coordinate that padded coordinate `coordinate - pad_begin` reads in a dim of `length`;
// -1 where a constant pad fills in. Reflect mirrors without repeating the edge (ONNX, NumPy
// "reflect"), so it needs length >= 2 for pads past the edge (length 1 repeats the element).
ONYX_HOST_DEVICE inline int64_t pad_source_coordinate(PadMode mode, int64_t coordinate, int64_t length) {
  if (coordinate >= 0 && coordinate < length) return coordinate;
  switch (mode) {
    case PadMode::kConstant:
      return -1;
    case PadMode::kEdge:
      return coordinate < 0 ? 0 : length - 1;
    case PadMode::kWrap: {
      int64_t wrapped = coordinate % length;
      return wrapped < 0 ? wrapped + length : wrapped;
    }
    case PadMode::kReflect: {
      if (length == 1) return 0;
      int64_t period = 2 * (length - 1);
      int64_t folded = coordinate % period;
      if (folded < 0) folded += period;
      return folded < length ? folded : period - folded;
    }
  }
  return -1;
}

struct PadMap {
  int rank = 0;
  PadMode mode = PadMode::kConstant;
  int64_t out_dims[kMaxIndexDims] = {};
  int64_t in_dims[kMaxIndexDims] = {};
  int64_t pad_begin[kMaxIndexDims] = {};  // may be negative (a crop)
};

// Input element that output `linear` reads, or -1 for the constant value.
ONYX_HOST_DEVICE inline int64_t pad_source_offset(const PadMap& map, int64_t linear) {
  int64_t offset = 0;
  int64_t stride = 1;
  for (int d = map.rank - 1; d >= 0; --d) {
    int64_t coordinate = linear % map.out_dims[d] - map.pad_begin[d];
    linear /= map.out_dims[d];
    int64_t source = pad_source_coordinate(map.mode, coordinate, map.in_dims[d]);
    if (source < 0) return -1;
    offset += source * stride;
    stride *= map.in_dims[d];
  }
  return offset;
}

// --- Resize ----------------------------------------------------------------------------------
enum class ResizeCoordinate : int {
  kHalfPixel = 0,
  kPytorchHalfPixel = 1,
  kAlignCorners = 2,
  kAsymmetric = 3,
  kHalfPixelSymmetric = 4,
  kTfCropAndResize = 5,
  kTfHalfPixelForNn = 6,  // Resize 11-12
};
// kSimple: Resize-10 and Upsample's rule, floor when upsampling and ceil when downsampling.
enum class NearestMode : int { kRoundPreferFloor = 0, kRoundPreferCeil = 1, kFloor = 2, kCeil = 3, kSimple = 4 };

// Input coordinate (fractional) of output coordinate `x` along one axis, per ONNX Resize's
// coordinate_transformation_mode. `scale` = output length / input length as the op uses it
// (given scales, or sizes / input length); where a formula needs the output length it uses
// the unrounded scale * in_length, as ONNX (and onnx_ops/vision.cc) do. roi_start/roi_end
// only matter for tf_crop_and_resize.
ONYX_HOST_DEVICE inline float resize_source_coordinate(ResizeCoordinate mode, float x, float scale,
                                                       int64_t in_length, int64_t out_length,
                                                       float roi_start = 0.0f, float roi_end = 1.0f) {
  float in = static_cast<float>(in_length);
  float out = scale * in;
  switch (mode) {
    case ResizeCoordinate::kHalfPixel:
      return (x + 0.5f) / scale - 0.5f;
    case ResizeCoordinate::kPytorchHalfPixel:
      return out == 1.0f ? -0.5f : (x + 0.5f) / scale - 0.5f;
    case ResizeCoordinate::kAlignCorners:
      return out == 1.0f ? 0.0f : x * (in - 1.0f) / (out - 1.0f);
    case ResizeCoordinate::kAsymmetric:
      return x / scale;
    case ResizeCoordinate::kHalfPixelSymmetric: {
      float adjustment = static_cast<float>(out_length) / out;
      float offset = in / 2.0f * (1.0f - adjustment);
      return offset + (x + 0.5f) / scale - 0.5f;
    }
    case ResizeCoordinate::kTfCropAndResize: {
      float span = roi_end - roi_start;
      float within = out == 1.0f ? span * (in - 1.0f) / 2.0f : x * span * (in - 1.0f) / (out - 1.0f);
      return within + roi_start * (in - 1.0f);
    }
    case ResizeCoordinate::kTfHalfPixelForNn:
      return (x + 0.5f) / scale;
  }
  return x;
}

// Nearest input index for a fractional coordinate, clamped into [0, in_length). `scale` only
// matters for kSimple.
ONYX_HOST_DEVICE inline int64_t resize_nearest_index(NearestMode mode, float coordinate, int64_t in_length,
                                                     float scale = 1.0f) {
  float rounded = 0.0f;
  float lower = floorf(coordinate);
  switch (mode) {
    case NearestMode::kRoundPreferFloor:
      rounded = coordinate - lower == 0.5f ? lower : roundf(coordinate);
      break;
    case NearestMode::kRoundPreferCeil:
      rounded = coordinate - lower == 0.5f ? lower + 1.0f : roundf(coordinate);
      break;
    case NearestMode::kFloor:
      rounded = lower;
      break;
    case NearestMode::kCeil:
      rounded = ceilf(coordinate);
      break;
    case NearestMode::kSimple:
      rounded = scale < 1.0f ? ceilf(coordinate) : lower;
      break;
  }
  int64_t index = static_cast<int64_t>(rounded);
  return index < 0 ? 0 : (index >= in_length ? in_length - 1 : index);
}

// Linear interpolation taps along one axis: the two input indices and the weight of the upper.
struct LinearTaps {
  int64_t lower;
  int64_t upper;
  float upper_weight;
};

ONYX_HOST_DEVICE inline LinearTaps resize_linear_taps(float coordinate, int64_t in_length) {
  if (coordinate <= 0.0f) return {0, 0, 0.0f};
  float max_coordinate = static_cast<float>(in_length - 1);
  if (coordinate >= max_coordinate) return {in_length - 1, in_length - 1, 0.0f};
  float lower = floorf(coordinate);
  int64_t low = static_cast<int64_t>(lower);
  return {low, low + 1, coordinate - lower};
}

}  // namespace onyx::cuda
