// Vision kernels (Resize, Upsample, GridSample, RoiAlign, NonMaxSuppression, MaxUnpool) and
// their shape rules. Expected values come from onnx.reference.ReferenceEvaluator (numbers
// pasted), never from onyx.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "onnx_ops/op_schema.h"
#include "runtime/common/error.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

// Inputs given as optional tensors: std::nullopt is an omitted optional input ("" name).
Tensor run(const std::string& op, int64_t opset, const std::vector<std::optional<Tensor>>& inputs,
           std::vector<Attribute> attrs = {}) {
  Node node;
  node.name = "n";
  node.op_type = op;
  std::vector<Value> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    node.inputs.push_back(inputs[i] ? "in" + std::to_string(i) : "");
    values.push_back(inputs[i] ? Value(*inputs[i]) : Value());
  }
  node.outputs.push_back("out0");
  node.attributes = std::move(attrs);
  return call_node_on_cpu(node, opset, values)[0].tensor();
}

template <typename T>
void expect_values(const Tensor& t, const Shape& shape, const std::vector<T>& expected,
                   double tol = 2e-5) {
  ASSERT_EQ(shape_to_string(t.shape()), shape_to_string(shape));
  auto values = t.values<T>();
  ASSERT_EQ(values.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      EXPECT_NEAR(values[i], expected[i], tol * std::max(1.0, std::abs(double(expected[i]))))
          << "at " << i;
    } else {
      EXPECT_EQ(values[i], expected[i]) << "at " << i;
    }
  }
}

Tensor floats(Shape shape, std::vector<float> v) { return Tensor::from_vector<float>(shape, v); }
Tensor int64s(std::vector<int64_t> v) {
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v);
}
Tensor scales(std::vector<float> v) { return floats({static_cast<int64_t>(v.size())}, v); }

// 1..16 as [1, 1, 4, 4].
Tensor x44() {
  std::vector<float> v(16);
  for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i + 1);
  return floats({1, 1, 4, 4}, v);
}

Tensor x23() { return floats({1, 1, 2, 3}, {1, 2, 3, 5, 6, 7}); }

Attribute attr(const std::string& name, const char* v) { return make_attribute(name, v); }
Attribute attr(const std::string& name, int64_t v) { return make_attribute(name, v); }

TEST(Resize, LinearHalfPixelDownsample) {
  expect_values<float>(run("Resize", 19, {x44(), std::nullopt, scales({1, 1, 0.6f, 0.8f})},
                           {attr("mode", "linear")}),
                       {1, 1, 2, 3}, {2.458333f, 3.708333f, 4.958333f, 9.125f, 10.375f, 11.625f});
}

TEST(Resize, CubicAlignCornersUpsample) {
  Tensor x = floats({1, 1, 2, 3}, {1, 2, 3, 5, 6, 7});
  expect_values<float>(
      run("Resize", 19, {x, std::nullopt, scales({1, 1, 2, 1.5f})},
          {attr("mode", "cubic"), attr("coordinate_transformation_mode", "align_corners")}),
      {1, 1, 4, 4},
      {1, 1.475219f, 2.199709f, 2.779883f, 2.259258f, 2.734477f, 3.458966f, 4.039141f, 3.74074f,
       4.215959f, 4.940449f, 5.520624f, 5, 5.475219f, 6.199709f, 6.779884f});
}

TEST(Resize, AntialiasWidensCubicAndLinearFilters) {
  expect_values<float>(run("Resize", 19, {x44(), std::nullopt, scales({1, 1, 0.5f, 0.75f})},
                           {attr("mode", "cubic"), attr("antialias", int64_t{1})}),
                       {1, 1, 2, 3},
                       {3.115939f, 4.460938f, 5.805936f, 11.19406f, 12.53906f, 13.88406f});
  expect_values<float>(
      run("Resize", 19, {x44(), std::nullopt, std::nullopt, int64s({3, 2})},
          {attr("mode", "linear"), attr("antialias", int64_t{1}),
           make_attribute("axes", std::vector<int64_t>{2, 3})}),
      {1, 1, 3, 2}, {2.715909f, 4.465909f, 7.625f, 9.375f, 12.53409f, 14.28409f});
}

TEST(Resize, NearestCeilAsymmetricSizes) {
  expect_values<float>(
      run("Resize", 13, {x44(), std::nullopt, std::nullopt, int64s({1, 1, 3, 6})},
          {attr("mode", "nearest"), attr("nearest_mode", "ceil"),
           attr("coordinate_transformation_mode", "asymmetric")}),
      {1, 1, 3, 6}, {1, 2, 3, 3, 4, 4, 9, 10, 11, 11, 12, 12, 13, 14, 15, 15, 16, 16});
}

TEST(Resize, KeepAspectRatioPolicies) {
  expect_values<float>(
      run("Resize", 19, {x44(), std::nullopt, std::nullopt, int64s({2, 6})},
          {attr("mode", "nearest"), make_attribute("axes", std::vector<int64_t>{3, 2}),
           attr("keep_aspect_ratio_policy", "not_larger")}),
      {1, 1, 2, 2}, {1, 3, 9, 11});
  Tensor y = run("Resize", 19, {x44(), std::nullopt, std::nullopt, int64s({2, 6})},
                 {attr("mode", "linear"), make_attribute("axes", std::vector<int64_t>{3, 2}),
                  attr("keep_aspect_ratio_policy", "not_smaller")});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 6, 6}));
  EXPECT_NEAR(y.values<float>()[2], 2.166667f, 1e-5);
  EXPECT_NEAR(y.values<float>()[35], 16.0f, 1e-5);
}

TEST(Resize, TfCropAndResizeExtrapolates) {
  expect_values<float>(
      run("Resize", 13,
          {x44(), floats({8}, {0, 0, 0.4f, -0.2f, 1, 1, 1.2f, 0.8f}), std::nullopt,
           int64s({1, 1, 3, 3})},
          {attr("mode", "linear"), attr("coordinate_transformation_mode", "tf_crop_and_resize"),
           make_attribute("extrapolation_value", 10.0f)}),
      {1, 1, 3, 3}, {10, 6.7f, 8.2f, 10, 11.5f, 13, 10, 10, 10});
}

TEST(Resize, CubicExcludeOutsideAndHalfPixelSymmetric) {
  expect_values<float>(
      run("Resize", 13, {x44(), std::nullopt, scales({1, 1, 0.8f, 0.8f})},
          {attr("mode", "cubic"), make_attribute("cubic_coeff_a", -0.5f),
           attr("exclude_outside", int64_t{1})}),
      {1, 1, 3, 3},
      {1.368127f, 2.669501f, 4.013337f, 6.573626f, 7.875f, 9.218835f, 11.94897f, 13.25034f,
       14.59418f});
  expect_values<float>(
      run("Resize", 19, {x23(), std::nullopt, scales({1, 1, 1.7f, 2.3f})},
          {attr("mode", "linear"), attr("coordinate_transformation_mode", "half_pixel_symmetric")}),
      {1, 1, 3, 6},
      {1, 1.347826f, 1.782609f, 2.217391f, 2.652174f, 3, 3, 3.347826f, 3.782609f, 4.217391f,
       4.652174f, 5, 5, 5.347826f, 5.782609f, 6.217391f, 6.652174f, 7});
}

TEST(Resize, Uint8LinearRoundsHalfToEven) {
  Tensor x = Tensor::from_vector<uint8_t>({1, 1, 2, 3}, {0, 100, 200, 50, 255, 10});
  expect_values<uint8_t>(run("Resize", 19, {x, std::nullopt, scales({1, 1, 2, 2})},
                             {attr("mode", "linear")}),
                         {1, 1, 4, 6},
                         {0, 25, 75, 125, 175, 200, 12, 44, 107, 142, 149, 152,
                          38, 82, 172, 177, 97, 58, 50, 101, 204, 194, 71, 10});
}

TEST(Resize, TrilinearAlignCorners) {
  std::vector<float> v(8);
  for (int i = 0; i < 8; ++i) v[i] = static_cast<float>(i);
  expect_values<float>(
      run("Resize", 19, {floats({1, 1, 2, 2, 2}, v), std::nullopt, scales({1, 1, 1.5f, 2, 1})},
          {attr("mode", "linear"), attr("coordinate_transformation_mode", "align_corners")}),
      {1, 1, 3, 4, 2},
      {0, 1, 0.6666667f, 1.666667f, 1.333333f, 2.333333f, 2, 3, 2, 3, 2.666667f, 3.666667f,
       3.333333f, 4.333333f, 4, 5, 4, 5, 4.666667f, 5.666667f, 5.333333f, 6.333333f, 6, 7});
}

TEST(Resize, Opset10AndUpsampleRepeatNearest) {
  Tensor x = floats({1, 1, 2, 2}, {1, 2, 3, 4});
  std::vector<float> expected{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                              3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  expect_values<float>(run("Resize", 10, {x, scales({1, 1, 2, 3})}), {1, 1, 4, 6}, expected);
  expect_values<float>(run("Upsample", 9, {x, scales({1, 1, 2, 3})}), {1, 1, 4, 6}, expected);
  expect_values<float>(
      run("Upsample", 7, {x}, {make_attribute("scales", std::vector<float>{1, 1, 2, 3})}),
      {1, 1, 4, 6}, expected);
}

TEST(Resize, Float16AndDoubleMatchFloat) {
  std::vector<Float16> h;
  for (int i = 1; i <= 16; ++i) h.push_back(Float16(static_cast<float>(i)));
  Tensor y = run("Resize", 19,
                 {Tensor::from_vector<Float16>({1, 1, 4, 4}, h), std::nullopt,
                  scales({1, 1, 0.6f, 0.8f})},
                 {attr("mode", "linear")});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 3}));
  const std::vector<float> expected{2.458333f, 3.708333f, 4.958333f, 9.125f, 10.375f, 11.625f};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(static_cast<float>(y.values<Float16>()[i]), expected[i], 1e-2);
  }
  std::vector<double> d;
  for (int i = 1; i <= 16; ++i) d.push_back(i);
  expect_values<double>(run("Resize", 19,
                            {Tensor::from_vector<double>({1, 1, 4, 4}, d), std::nullopt,
                             scales({1, 1, 0.6f, 0.8f})},
                            {attr("mode", "linear")}),
                        {1, 1, 2, 3}, {2.458333, 3.708333, 4.958333, 9.125, 10.375, 11.625});
}

TEST(Resize, RejectsBadScalesAndSizes) {
  EXPECT_THROW(run("Resize", 13, {x44(), std::nullopt, scales({1, 2})}), Error);
  EXPECT_THROW(run("Resize", 13, {x44(), std::nullopt, scales({1, 1, 0, 1})}), Error);
  EXPECT_THROW(run("Resize", 13, {x44(), std::nullopt, scales({1, 1, 2, 2}),
                                  int64s({1, 1, 8, 8})}),
               Error);
  EXPECT_THROW(run("Resize", 13, {x44(), std::nullopt, std::nullopt, std::nullopt}), Error);
  EXPECT_THROW(run("Resize", 19, {x44(), std::nullopt, scales({2, 2})},
                   {make_attribute("axes", std::vector<int64_t>{2, 7})}),
               Error);
  EXPECT_THROW(run("Resize", 19, {x44(), std::nullopt, scales({1, 1, 2, 2})},
                   {attr("mode", "area")}),
               Error);
}

Tensor grid_x() {
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[i] = static_cast<float>(i);
  return floats({1, 1, 3, 4}, v);
}
Tensor grid() {
  return floats({1, 2, 3, 2}, {-1.2f, -1, -0.5f, 0.3f, 0.1f, 0.9f, 0.99f, -0.2f, 1.3f, 1.1f,
                               0.25f, -0.75f});
}

Tensor grid_sample(int64_t opset, const char* mode, const char* padding, int64_t align) {
  return run("GridSample", opset, {grid_x(), grid()},
             {attr("mode", mode), attr("padding_mode", padding), attr("align_corners", align)});
}

TEST(GridSample, BilinearPaddingModes) {
  expect_values<float>(grid_sample(16, "bilinear", "zeros", 0), {1, 1, 2, 3},
                       {0, 6.3f, 6.305001f, 3.016f, 0, 1.75f}, 1e-4);
  expect_values<float>(grid_sample(20, "linear", "zeros", 1), {1, 1, 2, 3},
                       {0, 5.95f, 9.25f, 6.185f, 5.445003f, 2.875f}, 1e-4);
  expect_values<float>(grid_sample(20, "linear", "border", 0), {1, 1, 2, 3},
                       {0, 6.3f, 9.7f, 5.8f, 11, 2}, 1e-4);
  expect_values<float>(grid_sample(20, "linear", "reflection", 0), {1, 1, 2, 3},
                       {0, 6.3f, 9.7f, 5.8f, 10.9f, 2}, 1e-4);
  expect_values<float>(grid_sample(20, "linear", "reflection", 1), {1, 1, 2, 3},
                       {0.3000001f, 5.95f, 9.25f, 6.185f, 10.15f, 2.875f}, 1e-4);
}

TEST(GridSample, NearestAndBicubic) {
  expect_values<float>(grid_sample(16, "nearest", "zeros", 0), {1, 1, 2, 3}, {0, 4, 10, 7, 0, 2});
  expect_values<float>(grid_sample(20, "nearest", "zeros", 1), {1, 1, 2, 3}, {0, 5, 10, 7, 11, 2});
  expect_values<float>(grid_sample(16, "bicubic", "zeros", 0), {1, 1, 2, 3},
                       {-0.03412497f, 7.934422f, 6.88612f, 3.019954f, -0.2369962f, 1.503906f},
                       1e-4);
  expect_values<float>(grid_sample(20, "cubic", "border", 0), {1, 1, 2, 3},
                       {-0.375f, 6.589877f, 10.10163f, 5.540347f, 11, 1.712891f}, 1e-4);
  expect_values<float>(grid_sample(20, "cubic", "reflection", 1), {1, 1, 2, 3},
                       {0.1214988f, 6.378812f, 9.557879f, 5.815668f, 10.68382f, 2.177734f}, 1e-4);
}

TEST(GridSample, Volumetric) {
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[i] = static_cast<float>(i);
  Tensor x = floats({1, 1, 2, 3, 4}, v);
  Tensor g = floats({1, 1, 2, 2, 3},
                    {-0.9f, 0.2f, 0.4f, 0.5f, -0.3f, -1.1f, 1, 1, 0, 0.3f, 0.6f, 0.8f});
  expect_values<float>(run("GridSample", 20, {x, g}, {attr("mode", "linear")}), {1, 1, 1, 2, 2},
                       {11.2f, 1.88f, 4.25f, 15.19f}, 1e-4);
  expect_values<float>(run("GridSample", 20, {x, g},
                           {attr("mode", "nearest"), attr("padding_mode", "border"),
                            attr("align_corners", int64_t{1})}),
                       {1, 1, 1, 2, 2}, {16, 6, 11, 22});
}

TEST(GridSample, RejectsMismatchedGridAndOldNames) {
  EXPECT_THROW(run("GridSample", 16, {grid_x(), floats({1, 2, 3, 3}, std::vector<float>(18))}),
               Error);
  EXPECT_THROW(run("GridSample", 20, {grid_x(), grid()}, {attr("mode", "bilinear")}), Error);
  EXPECT_THROW(run("GridSample", 20, {floats({1, 1, 0, 4}, {}), grid()},
                   {attr("padding_mode", "border")}),
               Error);
  EXPECT_THROW(run("GridSample", 16, {grid_x(), grid()}, {attr("padding_mode", "wrap")}), Error);
}

Tensor roi_x() {
  std::vector<float> v(50);
  for (int i = 0; i < 50; ++i) v[i] = std::fmod(static_cast<float>(i) * 0.37f, 3.0f);
  return floats({1, 2, 5, 5}, v);
}
Tensor rois(float k) {
  std::vector<float> v{0, 0, 4, 4, 1.2f, 0.5f, 3.7f, 4.1f, 0.3f, 1.1f, 2.2f, 2.9f};
  for (float& f : v) f *= k;
  return floats({3, 4}, v);
}

TEST(RoiAlign, AverageHalfPixelWithSamplingRatio) {
  Tensor y = run("RoiAlign", 16, {roi_x(), rois(1), int64s({0, 0, 0})},
                 {attr("output_height", int64_t{2}), attr("output_width", int64_t{3}),
                  attr("sampling_ratio", int64_t{2})});
  expect_values<float>(
      y, {3, 2, 2, 3},
      {1.0175f, 1.48f, 1.848333f, 1.7175f, 1.43f, 1.173333f, 1.2675f, 1.73f, 1.098333f,
       1.5925f, 0.9300001f, 1.423334f, 1.553167f, 1.8615f, 2.169833f, 1.915042f, 1.054625f,
       1.149833f, 1.803167f, 1.980875f, 1.127333f, 0.8587915f, 1.0915f, 1.399833f, 1.580875f,
       1.8075f, 2.041833f, 1.070875f, 1.2975f, 1.431208f, 1.830875f, 2.0575f, 2.291833f,
       1.284781f, 1.350625f, 1.519333f},
      1e-4);
}

TEST(RoiAlign, MaxOutputHalfPixelAndAdaptiveGrid) {
  expect_values<float>(
      run("RoiAlign", 16, {roi_x(), rois(1), int64s({0, 0, 0})},
          {attr("mode", "max"), attr("output_height", int64_t{2}),
           attr("output_width", int64_t{2}),
           attr("coordinate_transformation_mode", "output_half_pixel")}),
      {3, 2, 2, 2},
      {0.6475f, 0.74f, 0.73f, 0.72f, 0.71f, 0.71f, 0.7f, 0.6900001f, 2.122181f, 2.14415f,
       1.199737f, 1.244019f, 2.327025f, 1.335138f, 1.339893f, 1.367925f, 0.7742249f, 0.8449875f,
       1.01835f, 0.5742f, 0.8614125f, 0.9265499f, 0.5626498f, 0.6738877f},
      1e-4);
  expect_values<float>(
      run("RoiAlign", 16, {roi_x(), rois(2), int64s({0, 0, 0})},
          {attr("output_height", int64_t{2}), attr("output_width", int64_t{2}),
           make_attribute("spatial_scale", 0.5f)}),
      {3, 2, 2, 2},
      {1.11f, 1.85f, 1.81f, 1.05f, 1.36f, 1.35f, 1.31f, 1.3f, 1.63025f, 2.09275f, 1.724f,
       1.07275f, 1.88025f, 1.394f, 0.8602499f, 1.32275f, 1.89425f, 2.24575f, 0.8592501f,
       1.21075f, 2.144251f, 2.49575f, 1.10925f, 1.46075f},
      1e-4);
}

TEST(RoiAlign, RejectsBadBatchIndexAndRois) {
  EXPECT_THROW(run("RoiAlign", 16, {floats({1, 2, 0, 5}, {}), rois(1), int64s({0, 0, 0})}),
               Error);
  EXPECT_THROW(run("RoiAlign", 16, {roi_x(), rois(1), int64s({0, 1, 0})}), Error);
  EXPECT_THROW(run("RoiAlign", 16, {roi_x(), floats({1, 3}, {0, 0, 1}), int64s({0})}), Error);
}

TEST(NonMaxSuppression, ThresholdsAndPerClassLimit) {
  Tensor boxes = floats({1, 6, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f,
                                    0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101});
  Tensor scores = floats({1, 2, 6}, {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f,
                                     0.1f, 0.2f, 0.9f, 0.3f, 0.95f, 0.6f});
  Tensor y = run("NonMaxSuppression", 11,
                 {boxes, scores, int64s({2}), floats({1}, {0.5f}), floats({1}, {0.25f})});
  expect_values<int64_t>(y, {4, 3}, {0, 0, 3, 0, 0, 0, 0, 1, 4, 0, 1, 2});
  // Without max_output_boxes_per_class nothing is selected.
  EXPECT_EQ(run("NonMaxSuppression", 11, {boxes, scores}).shape(), (Shape{0, 3}));
  EXPECT_THROW(run("NonMaxSuppression", 11, {floats({1, 6, 3}, std::vector<float>(18)), scores}),
               Error);
}

TEST(MaxUnpool, ScattersWithAndWithoutOutputShape) {
  Tensor x = floats({1, 1, 2, 2}, {5, 6, 7, 8});
  Tensor i = Tensor::from_vector<int64_t>({1, 1, 2, 2}, {5, 7, 13, 15});
  std::vector<Attribute> attrs{make_attribute("kernel_shape", std::vector<int64_t>{2, 2}),
                               make_attribute("strides", std::vector<int64_t>{2, 2})};
  expect_values<float>(run("MaxUnpool", 11, {x, i}, attrs), {1, 1, 4, 4},
                       {0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8});
  expect_values<float>(run("MaxUnpool", 11, {x, i, int64s({1, 1, 5, 5})}, attrs), {1, 1, 5, 5},
                       {0, 0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 0,
                        0, 7, 0, 8, 0, 0, 0, 0, 0, 0});
  Tensor bad = Tensor::from_vector<int64_t>({1, 1, 2, 2}, {5, 7, 13, 16});
  EXPECT_THROW(run("MaxUnpool", 11, {x, bad}, attrs), Error);
}

TEST(AffineGrid, TwoAndThreeDimensional) {
  Tensor theta = floats({1, 2, 3}, {1.2f, 0.3f, -0.1f, -0.4f, 0.9f, 0.25f});
  expect_values<float>(run("AffineGrid", 20, {theta, int64s({1, 1, 2, 3})}), {1, 2, 3, 2},
                       {-1.05f, 0.06666669f, -0.25f, -0.2f, 0.55f, -0.4666667f, -0.75f,
                        0.9666666f, 0.05f, 0.7f, 0.85f, 0.4333333f});
  expect_values<float>(run("AffineGrid", 20, {theta, int64s({1, 1, 2, 3})},
                           {attr("align_corners", int64_t{1})}),
                       {1, 2, 3, 2},
                       {-1.6f, -0.25f, -0.4f, -0.65f, 0.8f, -1.05f, -1, 1.55f, 0.2f, 1.15f,
                        1.4f, 0.75f});
  Tensor theta3 = floats({1, 3, 4}, {1, 0.2f, 0, 0.1f, 0, 1, 0.3f, 0, 0.5f, 0, 1, -0.2f});
  Tensor y = run("AffineGrid", 20, {theta3, int64s({1, 1, 2, 2, 3})});
  ASSERT_EQ(y.shape(), (Shape{1, 2, 2, 3, 3}));
  const std::vector<float> head{-0.6666667f, -0.65f, -1.033333f, 0, -0.65f, -0.7f};
  for (size_t i = 0; i < head.size(); ++i) EXPECT_NEAR(y.values<float>()[i], head[i], 1e-5);
  EXPECT_NEAR(y.values<float>()[35], 0.6333333f, 1e-5);
  EXPECT_THROW(run("AffineGrid", 20, {theta, int64s({1, 1, 2, 2, 3})}), Error);
}

TEST(Col2Im, SumsOverlappingBlocks) {
  std::vector<float> v(48);
  for (int i = 0; i < 48; ++i) v[i] = static_cast<float>(i + 1);
  expect_values<float>(run("Col2Im", 18, {floats({1, 8, 6}, v), int64s({3, 4}), int64s({2, 2})}),
                       {1, 2, 3, 4},
                       {1, 9, 11, 9, 17, 48, 52, 33, 16, 39, 41, 24,
                        25, 57, 59, 33, 65, 144, 148, 81, 40, 87, 89, 48});
  std::vector<float> w(24);
  for (int i = 0; i < 24; ++i) w[i] = static_cast<float>(i + 1);
  expect_values<float>(
      run("Col2Im", 18, {floats({1, 4, 6}, w), int64s({4, 5}), int64s({2, 2})},
          {make_attribute("pads", std::vector<int64_t>{1, 0, 1, 1}),
           make_attribute("strides", std::vector<int64_t>{2, 2}),
           make_attribute("dilations", std::vector<int64_t>{1, 2})}),
      {1, 1, 4, 5}, {13, 0, 33, 0, 20, 3, 0, 13, 0, 10, 15, 0, 37, 0, 22, 5, 0, 17, 0, 12});
  EXPECT_THROW(run("Col2Im", 18, {floats({1, 8, 5}, std::vector<float>(40)), int64s({3, 4}),
                                  int64s({2, 2})}),
               Error);
}

// Shape rules.
std::vector<TypeInfo> infer(const Node& node, int64_t opset,
                            const std::vector<std::optional<TypeInfo>>& types,
                            const std::vector<const Tensor*>& constants) {
  const ShapeRule* rule = ShapeRuleRegistry::global().find("", node.op_type);
  if (rule == nullptr) throw std::runtime_error("no rule for " + node.op_type);
  std::vector<const TypeInfo*> ptrs;
  for (const auto& t : types) ptrs.push_back(t ? &*t : nullptr);
  std::vector<const Tensor*> consts = constants;
  consts.resize(types.size(), nullptr);
  InferenceContext ctx(node, opset, ptrs, consts);
  (*rule)(ctx);
  return ctx.output_types();
}

Node node_of(const std::string& op, size_t inputs, std::vector<Attribute> attrs = {}) {
  Node node;
  node.name = "n";
  node.op_type = op;
  for (size_t i = 0; i < inputs; ++i) node.inputs.push_back("in" + std::to_string(i));
  node.outputs.push_back("out0");
  node.attributes = std::move(attrs);
  return node;
}

TEST(VisionShapeRules, ResizeFromConstantScalesOrSizes) {
  TypeInfo x = TypeInfo::tensor_of_shape(DataType::kFloat, {1, 3, 10, 7});
  TypeInfo f1 = TypeInfo::tensor_of_shape(DataType::kFloat, {4});
  TypeInfo i2 = TypeInfo::tensor_of_shape(DataType::kInt64, {2});
  Tensor s = scales({1, 1, 0.55f, 2.5f});
  auto out = infer(node_of("Resize", 3), 13, {x, std::nullopt, f1}, {nullptr, nullptr, &s});
  EXPECT_EQ(out[0].to_string(), "float[1,3,5,17]");
  Tensor sizes = int64s({4, 4});
  out = infer(node_of("Resize", 4, {make_attribute("axes", std::vector<int64_t>{2, 3}),
                                    attr("keep_aspect_ratio_policy", "not_larger")}),
              19, {x, std::nullopt, std::nullopt, i2}, {nullptr, nullptr, nullptr, &sizes});
  EXPECT_EQ(out[0].to_string(), "float[1,3,4,3]");
  out = infer(node_of("Resize", 3), 13, {x, std::nullopt, f1}, {});
  EXPECT_EQ(out[0].to_string(), "float[?,?,?,?]");
}

TEST(VisionShapeRules, GridSampleRoiAlignMaxUnpool) {
  auto g = infer(node_of("GridSample", 2), 20,
                 {TypeInfo::tensor_of_shape(DataType::kFloat, {2, 3, 8, 8}),
                  TypeInfo::tensor_of_shape(DataType::kFloat, {2, 5, 6, 2})},
                 {});
  EXPECT_EQ(g[0].to_string(), "float[2,3,5,6]");
  auto r = infer(node_of("RoiAlign", 3, {attr("output_height", int64_t{7})}), 16,
                 {TypeInfo::tensor_of_shape(DataType::kFloat, {1, 4, 8, 8}),
                  TypeInfo::tensor_of_shape(DataType::kFloat, {9, 4}),
                  TypeInfo::tensor_of_shape(DataType::kInt64, {9})},
                 {});
  EXPECT_EQ(r[0].to_string(), "float[9,4,7,1]");
  auto m = infer(node_of("MaxUnpool", 2, {make_attribute("kernel_shape", std::vector<int64_t>{2, 2}),
                                          make_attribute("strides", std::vector<int64_t>{2, 2})}),
                 11,
                 {TypeInfo::tensor_of_shape(DataType::kFloat, {1, 2, 3, 4}),
                  TypeInfo::tensor_of_shape(DataType::kInt64, {1, 2, 3, 4})},
                 {});
  EXPECT_EQ(m[0].to_string(), "float[1,2,6,8]");
}

}  // namespace
}  // namespace onyx
