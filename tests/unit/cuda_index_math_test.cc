// The CUDA kernels' index math (providers/cuda/index_math.h) on the host: each map against a
// plain coordinate loop, and broadcasting against the CPU kernels' BroadcastPlan. Runs on every
// machine; the device kernels call these same functions.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "onnx_ops/broadcast.h"
#include "onnx_ops/vision.h"
#include "providers/cuda/index_math.h"

namespace onyx::cuda {
namespace {

int64_t element_count(const std::vector<int64_t>& dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>());
}

std::vector<int64_t> coordinates_of(int64_t linear, const std::vector<int64_t>& dims) {
  std::vector<int64_t> c(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    c[d] = linear % dims[d];
    linear /= dims[d];
  }
  return c;
}

int64_t offset_of(const std::vector<int64_t>& c, const std::vector<int64_t>& dims) {
  int64_t offset = 0;
  for (size_t d = 0; d < dims.size(); ++d) offset = offset * dims[d] + c[d];
  return offset;
}

// Reference broadcast: the input coordinate is the output's, 0 where the input has extent 1.
int64_t reference_broadcast_offset(int64_t linear, const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  std::vector<int64_t> c = coordinates_of(linear, out);
  std::vector<int64_t> ic(in.size());
  size_t shift = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) ic[d] = in[d] == 1 ? 0 : c[d + shift];
  return offset_of(ic, in);
}

TEST(CudaIndexMath, BroadcastOffsetsMatchTheReferenceAndTheCpuPlan) {
  struct Case {
    std::vector<std::vector<int64_t>> inputs;
    std::vector<int64_t> output;
  };
  std::vector<Case> cases = {
      {{{2, 3, 4}, {4}}, {2, 3, 4}},
      {{{2, 1, 4}, {1, 3, 1}}, {2, 3, 4}},
      {{{5}, {1}}, {5}},
      {{{}, {2, 2}}, {2, 2}},
      {{{3, 1, 2, 1, 2}, {1, 4, 2, 3, 1}, {2}}, {3, 4, 2, 3, 2}},
      {{{1, 1, 7}, {6, 1, 1}}, {6, 1, 7}},
      {{{2, 3, 1, 1, 2, 2, 1, 2, 2}, {2, 3, 4, 1, 1, 1, 1, 1, 1}}, {2, 3, 4, 1, 2, 2, 1, 2, 2}},  // 9 dims, merged to 3
  };
  for (const Case& c : cases) {
    BroadcastMap map = make_broadcast_map(c.inputs, c.output);
    EXPECT_LE(map.rank, kMaxIndexDims);
    int64_t count = element_count(c.output);
    for (int64_t linear = 0; linear < count; ++linear) {
      int64_t offsets[kMaxBroadcastInputs];
      broadcast_offsets(map, linear, offsets);
      for (size_t i = 0; i < c.inputs.size(); ++i) {
        ASSERT_EQ(offsets[i], reference_broadcast_offset(linear, c.inputs[i], c.output))
            << "input " << i << " element " << linear;
      }
    }
    // The CPU kernels' plan walks the same elements.
    std::vector<Shape> shapes(c.inputs.begin(), c.inputs.end());
    BroadcastPlan plan(shapes, c.output);
    plan.for_each_run(0, plan.run_count(), [&](int64_t out_offset, const int64_t* in_offsets) {
      for (int64_t k = 0; k < plan.run_length(); ++k) {
        int64_t offsets[kMaxBroadcastInputs];
        broadcast_offsets(map, out_offset + k, offsets);
        for (size_t i = 0; i < c.inputs.size(); ++i) {
          ASSERT_EQ(offsets[i], in_offsets[i] + k * plan.inner_stride(i));
        }
      }
    });
  }
}

TEST(CudaIndexMath, TransposeMapReadsThePermutedCoordinate) {
  std::vector<int64_t> in = {2, 3, 4, 5};
  for (std::vector<int64_t> perm : {std::vector<int64_t>{3, 1, 0, 2}, {0, 1, 2, 3}, {0, 2, 1, 3}, {1, 0, 2, 3}}) {
    StridedMap map = make_transpose_map(in, perm);
    std::vector<int64_t> out(4);
    for (size_t d = 0; d < 4; ++d) out[d] = in[perm[d]];
    for (int64_t linear = 0; linear < element_count(out); ++linear) {
      std::vector<int64_t> oc = coordinates_of(linear, out);
      std::vector<int64_t> ic(4);
      for (size_t d = 0; d < 4; ++d) ic[perm[d]] = oc[d];
      ASSERT_EQ(strided_offset(map, linear), offset_of(ic, in));
    }
  }
  // Identity permutation coalesces to one dim.
  EXPECT_EQ(make_transpose_map(in, {0, 1, 2, 3}).rank, 1);
}

TEST(CudaIndexMath, SliceMapHandlesStartsAndNegativeSteps) {
  std::vector<int64_t> in = {4, 5, 6};
  std::vector<int64_t> starts = {3, 1, 0}, steps = {-1, 2, 3}, out = {4, 2, 2};
  StridedMap map = make_slice_map(in, starts, steps, out);
  for (int64_t linear = 0; linear < element_count(out); ++linear) {
    std::vector<int64_t> c = coordinates_of(linear, out);
    std::vector<int64_t> ic(3);
    for (size_t d = 0; d < 3; ++d) ic[d] = starts[d] + c[d] * steps[d];
    ASSERT_EQ(strided_offset(map, linear), offset_of(ic, in));
  }
}

TEST(CudaIndexMath, ExpandIsAStridedMapWithZeroStrides) {
  std::vector<int64_t> in = {3, 1}, out = {2, 3, 4};
  StridedMap map = make_strided_map(out, broadcast_input_strides(in, out), 0, "Expand");
  for (int64_t linear = 0; linear < element_count(out); ++linear) {
    ASSERT_EQ(strided_offset(map, linear), reference_broadcast_offset(linear, in, out));
  }
}

TEST(CudaIndexMath, TileReadsTheCoordinateModuloTheInputDim) {
  std::vector<int64_t> in = {2, 3}, repeats = {3, 2}, out = {6, 6};
  TileMap map;
  map.rank = 2;
  for (int d = 0; d < 2; ++d) {
    map.in_dims[d] = in[d];
    map.out_dims[d] = out[d];
  }
  for (int64_t linear = 0; linear < 36; ++linear) {
    std::vector<int64_t> c = coordinates_of(linear, out);
    ASSERT_EQ(tile_source_offset(map, linear), offset_of({c[0] % 2, c[1] % 3}, in));
  }
}

TEST(CudaIndexMath, GatherReadsTheIndexedSliceWithNegativeIndices) {
  // data [2, 5, 3], axis 1, indices [2, 2] = {4, -1, 0, -5}
  std::vector<int64_t> data = {2, 5, 3};
  std::vector<int64_t> indices = {4, -1, 0, -5};
  GatherMap map{5, 4, 3};
  int64_t out_count = 2 * 4 * 3;
  for (int64_t linear = 0; linear < out_count; ++linear) {
    int64_t position = gather_index_position(map, linear);
    int64_t index = normalize_gather_index(indices[position], 5);
    ASSERT_GE(index, 0);
    std::vector<int64_t> oc = coordinates_of(linear, {2, 4, 3});
    ASSERT_EQ(position, oc[1]);
    ASSERT_EQ(gather_source_offset(map, linear, index), offset_of({oc[0], index, oc[2]}, data));
  }
  EXPECT_EQ(normalize_gather_index(5, 5), -1);
  EXPECT_EQ(normalize_gather_index(-6, 5), -1);
}

TEST(CudaIndexMath, GatherElementsReplacesTheAxisCoordinate) {
  // data [3, 4], indices [2, 4] along axis 0.
  GatherElementsMap map;
  map.rank = 2;
  map.axis = 0;
  map.index_dims[0] = 2;
  map.index_dims[1] = 4;
  map.data_strides[0] = 4;
  map.data_strides[1] = 1;
  std::vector<int64_t> indices = {2, 0, 1, 2, 0, 0, 2, 1};
  for (int64_t linear = 0; linear < 8; ++linear) {
    std::vector<int64_t> c = coordinates_of(linear, {2, 4});
    ASSERT_EQ(gather_elements_offset(map, linear, indices[linear]), offset_of({indices[linear], c[1]}, {3, 4}));
  }
}

TEST(CudaIndexMath, ConcatPlacesEachInputAtItsAxisOffset) {
  // [2, a, 3] inputs with a = 1, 4, 2 along axis 1 into [2, 7, 3].
  std::vector<int64_t> axes = {1, 4, 2};
  int64_t base = 0;
  for (int64_t a : axes) {
    for (int64_t linear = 0; linear < 2 * a * 3; ++linear) {
      std::vector<int64_t> c = coordinates_of(linear, {2, a, 3});
      ASSERT_EQ(concat_output_offset(linear, a, 3, 7, base), offset_of({c[0], c[1] + base, c[2]}, {2, 7, 3}));
    }
    base += a;
  }
}

// Reference pads: NumPy's definitions by repeated folding.
int64_t reference_pad(PadMode mode, int64_t c, int64_t n) {
  if (c >= 0 && c < n) return c;
  if (mode == PadMode::kConstant) return -1;
  if (mode == PadMode::kEdge) return c < 0 ? 0 : n - 1;
  if (mode == PadMode::kWrap) {
    while (c < 0) c += n;
    while (c >= n) c -= n;
    return c;
  }
  if (n == 1) return 0;
  while (c < 0 || c >= n) c = c < 0 ? -c : 2 * (n - 1) - c;
  return c;
}

TEST(CudaIndexMath, PadCoordinatesFollowConstantReflectEdgeWrap) {
  for (PadMode mode : {PadMode::kConstant, PadMode::kReflect, PadMode::kEdge, PadMode::kWrap}) {
    for (int64_t n : {1, 2, 3, 5}) {
      for (int64_t c = -13; c < n + 13; ++c) {
        ASSERT_EQ(pad_source_coordinate(mode, c, n), reference_pad(mode, c, n))
            << "mode " << static_cast<int>(mode) << " length " << n << " coordinate " << c;
      }
    }
  }
  // ONNX Pad's reflect example: [1.0, 1.2, 2.3, 3.4, 4.5, 5.7] rows, pads begin 2 on axis 1.
  EXPECT_EQ(pad_source_coordinate(PadMode::kReflect, -2, 2), 0);
  EXPECT_EQ(pad_source_coordinate(PadMode::kReflect, -1, 2), 1);
}

TEST(CudaIndexMath, PadMapCombinesDimsAndCrops) {
  PadMap map;
  map.rank = 2;
  map.mode = PadMode::kEdge;
  int64_t in[2] = {3, 4}, begin[2] = {1, -1}, out[2] = {5, 4};
  for (int d = 0; d < 2; ++d) {
    map.in_dims[d] = in[d];
    map.pad_begin[d] = begin[d];
    map.out_dims[d] = out[d];
  }
  for (int64_t linear = 0; linear < 20; ++linear) {
    std::vector<int64_t> c = coordinates_of(linear, {5, 4});
    int64_t r = reference_pad(PadMode::kEdge, c[0] - 1, 3), col = reference_pad(PadMode::kEdge, c[1] + 1, 4);
    ASSERT_EQ(pad_source_offset(map, linear), r * 4 + col);
  }
  map.mode = PadMode::kConstant;
  EXPECT_EQ(pad_source_offset(map, 0), -1);  // row -1 is padding
}

TEST(CudaIndexMath, ResizeCoordinateTransformsFollowTheOnnxFormulas) {
  // Upsampling 4 -> 8 (scale 2).
  EXPECT_FLOAT_EQ(resize_source_coordinate(ResizeCoordinate::kHalfPixel, 0, 2, 4, 8), -0.25f);
  EXPECT_FLOAT_EQ(resize_source_coordinate(ResizeCoordinate::kHalfPixel, 3, 2, 4, 8), 1.25f);
  EXPECT_FLOAT_EQ(resize_source_coordinate(ResizeCoordinate::kAsymmetric, 3, 2, 4, 8), 1.5f);
  EXPECT_FLOAT_EQ(resize_source_coordinate(ResizeCoordinate::kAlignCorners, 7, 2, 4, 8), 3.0f);
  EXPECT_FLOAT_EQ(resize_source_coordinate(ResizeCoordinate::kAlignCorners, 1, 2, 4, 8), 3.0f / 7.0f);
  EXPECT_FLOAT_EQ(resize_source_coordinate(ResizeCoordinate::kPytorchHalfPixel, 3, 2, 4, 8), 1.25f);
  // One output element: ONNX's pytorch_half_pixel gives -0.5 (which clamps to input 0).
  EXPECT_FLOAT_EQ(resize_source_coordinate(ResizeCoordinate::kPytorchHalfPixel, 0, 0.25f, 4, 1), -0.5f);
  EXPECT_FLOAT_EQ(resize_source_coordinate(ResizeCoordinate::kAlignCorners, 0, 0.25f, 4, 1), 0.0f);
  // half_pixel_symmetric equals half_pixel when the output length is exactly scale * input.
  EXPECT_FLOAT_EQ(resize_source_coordinate(ResizeCoordinate::kHalfPixelSymmetric, 3, 2, 4, 8), 1.25f);
  // tf_crop_and_resize over roi [0.25, 0.75] of 5 elements into 3: 1, 2, 3.
  for (int x = 0; x < 3; ++x) {
    EXPECT_FLOAT_EQ(resize_source_coordinate(ResizeCoordinate::kTfCropAndResize, x, 0.6f, 5, 3, 0.25f, 0.75f),
                    1.0f + x);
  }
}

TEST(CudaIndexMath, ResizeCoordinatesAgreeWithTheCpuResize) {
  struct Pair {
    ResizeCoordinate cuda;
    CoordinateTransform cpu;
  };
  std::vector<Pair> pairs = {{ResizeCoordinate::kHalfPixel, CoordinateTransform::kHalfPixel},
                             {ResizeCoordinate::kPytorchHalfPixel, CoordinateTransform::kPytorchHalfPixel},
                             {ResizeCoordinate::kAlignCorners, CoordinateTransform::kAlignCorners},
                             {ResizeCoordinate::kAsymmetric, CoordinateTransform::kAsymmetric},
                             {ResizeCoordinate::kHalfPixelSymmetric, CoordinateTransform::kHalfPixelSymmetric},
                             {ResizeCoordinate::kTfCropAndResize, CoordinateTransform::kTfCropAndResize},
                             {ResizeCoordinate::kTfHalfPixelForNn, CoordinateTransform::kTfHalfPixelForNn}};
  struct Lengths {
    int64_t in, out;
  };
  for (const Pair& pair : pairs) {
    for (Lengths lengths : {Lengths{4, 8}, Lengths{8, 3}, Lengths{5, 5}, Lengths{7, 1}, Lengths{3, 10}}) {
      double scale = static_cast<double>(lengths.out) / static_cast<double>(lengths.in);
      for (int64_t x = 0; x < lengths.out; ++x) {
        double expected = resize_source_coordinate(pair.cpu, static_cast<double>(x), scale, lengths.in, lengths.out,
                                                   0.1, 0.9);
        float got = resize_source_coordinate(pair.cuda, static_cast<float>(x), static_cast<float>(scale), lengths.in,
                                             lengths.out, 0.1f, 0.9f);
        EXPECT_NEAR(got, expected, 1e-5 * (1 + std::abs(expected)))
            << "mode " << static_cast<int>(pair.cuda) << " " << lengths.in << "->" << lengths.out << " x=" << x;
      }
    }
  }
}

TEST(CudaIndexMath, NearestModesRoundHalvesAsNamedAndClamp) {
  EXPECT_EQ(resize_nearest_index(NearestMode::kRoundPreferFloor, 1.5f, 4), 1);
  EXPECT_EQ(resize_nearest_index(NearestMode::kRoundPreferCeil, 1.5f, 4), 2);
  EXPECT_EQ(resize_nearest_index(NearestMode::kRoundPreferFloor, 1.6f, 4), 2);
  EXPECT_EQ(resize_nearest_index(NearestMode::kRoundPreferCeil, 1.4f, 4), 1);
  EXPECT_EQ(resize_nearest_index(NearestMode::kFloor, 1.9f, 4), 1);
  EXPECT_EQ(resize_nearest_index(NearestMode::kCeil, 1.1f, 4), 2);
  EXPECT_EQ(resize_nearest_index(NearestMode::kRoundPreferFloor, -0.5f, 4), 0);  // clamped
  EXPECT_EQ(resize_nearest_index(NearestMode::kCeil, 3.2f, 4), 3);
  EXPECT_EQ(resize_nearest_index(NearestMode::kRoundPreferFloor, -1.5f, 4), 0);
  EXPECT_EQ(resize_nearest_index(NearestMode::kSimple, 1.5f, 4, 2.0f), 1);  // upsampling: floor
  EXPECT_EQ(resize_nearest_index(NearestMode::kSimple, 1.5f, 4, 0.5f), 2);  // downsampling: ceil
  LinearTaps taps = resize_linear_taps(1.25f, 4);
  EXPECT_EQ(taps.lower, 1);
  EXPECT_EQ(taps.upper, 2);
  EXPECT_FLOAT_EQ(taps.upper_weight, 0.25f);
  EXPECT_EQ(resize_linear_taps(-0.25f, 4).upper, 0);
  EXPECT_EQ(resize_linear_taps(3.5f, 4).lower, 3);
}

TEST(CudaIndexMath, MapsRefuseMoreThanEightDimsThatCannotMerge) {
  std::vector<int64_t> in(10, 2);
  std::vector<int64_t> perm = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  EXPECT_THROW(make_transpose_map(in, perm), std::length_error);
  std::vector<int64_t> a = {2, 1, 2, 1, 2, 1, 2, 1, 2}, b = {1, 2, 1, 2, 1, 2, 1, 2, 1};
  EXPECT_THROW(make_broadcast_map({a, b}, std::vector<int64_t>(9, 2)), std::length_error);
}

}  // namespace
}  // namespace onyx::cuda
