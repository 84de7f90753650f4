// Unit tests of the indexing tensor ops: Slice, Pad, Expand, Tile, Gather*, Scatter*, Trilu,
// OneHot, NonZero, Compress, ReverseSequence. Expected values come from numpy.
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

Tensor arange_i64(Shape shape) {
  std::vector<int64_t> v(static_cast<size_t>(shape_element_count(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(i);
  return Tensor::from_vector<int64_t>(shape, v);
}

TEST(Slice, NegativeStepsAndClamping) {
  Tensor x = arange_i64({3, 4});
  // x[::-1, 3:0:-2]
  Tensor y = run1("Slice", 13, {x, ints({-1, 3}), ints({INT64_MIN, 0}), ints({0, 1}), ints({-1, -2})});
  expect_tensor<int64_t>(y, {3, 2}, {11, 9, 7, 5, 3, 1});
  // x[1:100, -100:2]
  Tensor z = run1("Slice", 13, {x, ints({1, -100}), ints({100, 2})});
  expect_tensor<int64_t>(z, {2, 2}, {4, 5, 8, 9});
}

TEST(Slice, Opset1AttributesAndEmptyResult) {
  Tensor x = arange_i64({3, 4});
  Tensor y = run1("Slice", 1, {x}, {make_attribute("starts", std::vector<int64_t>{1}),
                                    make_attribute("ends", std::vector<int64_t>{2}),
                                    make_attribute("axes", std::vector<int64_t>{-1})});
  expect_tensor<int64_t>(y, {3, 1}, {1, 5, 9});
  EXPECT_EQ(run1("Slice", 13, {x, ints({3}), ints({1})}).shape(), (Shape{0, 4}));
  expect_error([&] { run1("Slice", 13, {x, ints({0}), ints({1}), ints({2})}); }, {"axis 2"});
  expect_error([&] { run1("Slice", 13, {x, ints({0}), ints({1}), ints({0}), ints({0})}); },
               {"step"});
}

TEST(Pad, ReflectEdgeWrapAndNegativeConstant) {
  Tensor a = arange_i64({2, 3});
  expect_tensor<int64_t>(
      run1("Pad", 19, {a, ints({1, 2, 1, 2})}, {make_attribute("mode", "reflect")}), {4, 7},
      {5, 4, 3, 4, 5, 4, 3, 2, 1, 0, 1, 2, 1, 0, 5, 4, 3, 4, 5, 4, 3, 2, 1, 0, 1, 2, 1, 0});
  expect_tensor<int64_t>(run1("Pad", 19, {a, ints({0, 1, 1, 0})}, {make_attribute("mode", "edge")}),
                         {3, 4}, {0, 0, 1, 2, 3, 3, 4, 5, 3, 3, 4, 5});
  expect_tensor<int64_t>(run1("Pad", 19, {a, ints({1, 0, 0, 2})}, {make_attribute("mode", "wrap")}),
                         {3, 5}, {3, 4, 5, 3, 4, 0, 1, 2, 0, 1, 3, 4, 5, 3, 4});
  expect_tensor<int64_t>(run1("Pad", 13, {a, ints({0, 1, 0, -1}), Tensor::scalar<int64_t>(9)}),
                         {2, 3}, {9, 0, 1, 9, 3, 4});
}

TEST(Pad, AxesInputAttributesBeforeOpset11AndErrors) {
  Tensor a = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  expect_tensor<float>(run1("Pad", 18, {a, ints({1, 0}), Value(), ints({-1})}), {2, 3},
                       {0, 1, 2, 0, 3, 4});
  expect_tensor<float>(run1("Pad", 2, {a}, {make_attribute("pads", std::vector<int64_t>{1, 0, 0, 0}),
                                            make_attribute("value", 7.0f)}),
                       {3, 2}, {7, 7, 1, 2, 3, 4});
  expect_error([&] { run1("Pad", 13, {a, ints({1, 1})}); }, {"2 pads", "2 axes"});
  expect_error([&] { run1("Pad", 13, {a, ints({0, -2, 0, -1})}); }, {"axis 1"});
}

TEST(CenterCropPad, CropsAndPadsAroundTheCentre) {
  // numpy: crop 5 -> 2 keeps [1:3]; pad 2 -> 5 puts 1 zero before, 2 after.
  Tensor x = arange_i64({5, 2});
  expect_tensor<int64_t>(run1("CenterCropPad", 18, {x, ints({2, 5})}), {2, 5},
                         {0, 2, 3, 0, 0, 0, 4, 5, 0, 0});
  expect_error([&] { run1("CenterCropPad", 18, {x, ints({2})}); }, {"1 target sizes", "2 axes"});
}

TEST(Pad, Strings) {
  Tensor s = Tensor::from_vector<std::string>({1}, {"a"});
  expect_tensor<std::string>(run1("Pad", 13, {s, ints({1, 1}), Tensor::scalar<std::string>("-")}),
                             {3}, {"-", "a", "-"});
}

TEST(Expand, BroadcastsBothWays) {
  Tensor x = i64({2, 1}, {1, 2});
  expect_tensor<int64_t>(run1("Expand", 13, {x, ints({2, 1, 3})}), {2, 2, 3},
                         {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2});
  expect_error([&] { run1("Expand", 13, {x, ints({3, 3})}); }, {"[2,1]", "[3,3]"});
}

TEST(Tile, RepeatsEveryAxisAndZeroRepeat) {
  Tensor x = i64({2, 2}, {1, 2, 3, 4});
  expect_tensor<int64_t>(run1("Tile", 13, {x, ints({2, 3})}), {4, 6},
                         {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
  EXPECT_EQ(run1("Tile", 13, {x, ints({0, 1})}).shape(), (Shape{0, 2}));
  expect_error([&] { run1("Tile", 13, {x, ints({2})}); }, {"1 repeats", "rank 2"});
}

TEST(Gather, NegativeIndicesAndMatrixIndices) {
  Tensor d = arange_i64({3, 4});
  Tensor y = run1("Gather", 13, {d, i64({2, 2}, {3, -1, 0, 1})}, {make_attribute("axis", int64_t{1})});
  expect_tensor<int64_t>(y, {3, 2, 2}, {3, 3, 0, 1, 7, 7, 4, 5, 11, 11, 8, 9});
  Tensor s = run1("Gather", 13, {d, Tensor::scalar<int32_t>(-1)});
  expect_tensor<int64_t>(s, {4}, {8, 9, 10, 11});
}

TEST(Gather, OutOfRangeIndexNamesIndexAndBound) {
  Tensor d = arange_i64({3, 4});
  expect_error([&] { run1("Gather", 13, {d, ints({0, 4})}, {make_attribute("axis", int64_t{1})}); },
               {"index 4", "size 4"});
  expect_error([&] { run1("Gather", 13, {d, ints({-4})}); }, {"index -4", "size 3"});
}

TEST(GatherElements, BothAxesAndErrors) {
  Tensor d = arange_i64({3, 4});
  expect_tensor<int64_t>(run1("GatherElements", 13, {d, i64({2, 2}, {0, 3, -1, 1})},
                              {make_attribute("axis", int64_t{-1})}),
                         {2, 2}, {0, 3, 7, 5});
  expect_tensor<int64_t>(run1("GatherElements", 13, {d, i64({1, 4}, {2, 0, 1, 0})}), {1, 4},
                         {8, 1, 6, 3});
  expect_error([&] { run1("GatherElements", 13, {d, i64({1, 1}, {3})}); }, {"index 3", "size 3"});
}

TEST(GatherND, TuplesSlicesAndBatchDims) {
  Tensor e = arange_i64({2, 2, 2});
  expect_tensor<int64_t>(run1("GatherND", 13, {e, i64({2, 2}, {0, 1, 1, 0})}), {2, 2},
                         {2, 3, 4, 5});
  // batch_dims 1: batch b picks e[b, idx[b]].
  expect_tensor<int64_t>(run1("GatherND", 13, {e, i64({2, 1}, {1, 0})},
                              {make_attribute("batch_dims", int64_t{1})}),
                         {2, 2}, {2, 3, 4, 5});
  expect_error([&] { run1("GatherND", 13, {e, i64({1, 1}, {2})}); }, {"index 2", "size 2"});
}

TEST(ScatterElements, ReductionsAndNegativeIndices) {
  Tensor d = Tensor::from_vector<float>({1, 5}, {1, 2, 3, 4, 5});
  Tensor idx = i64({1, 2}, {1, -4});
  Tensor upd = Tensor::from_vector<float>({1, 2}, {1.5f, 2.5f});
  expect_tensor<float>(run1("ScatterElements", 18, {d, idx, upd}, {make_attribute("axis", int64_t{1})}),
                       {1, 5}, {1, 2.5f, 3, 4, 5});
  expect_tensor<float>(run1("ScatterElements", 18, {d, idx, upd},
                            {make_attribute("axis", int64_t{1}), make_attribute("reduction", "add")}),
                       {1, 5}, {1, 6, 3, 4, 5});
  expect_tensor<float>(run1("ScatterElements", 18, {d, idx, upd},
                            {make_attribute("axis", int64_t{1}), make_attribute("reduction", "min")}),
                       {1, 5}, {1, 1.5f, 3, 4, 5});
  expect_error([&] { run1("ScatterElements", 18, {d, i64({1, 2}, {0, 5}), upd},
                          {make_attribute("axis", int64_t{1})}); },
               {"index 5", "size 5"});
}

TEST(ScatterND, SlicesWithMulReduction) {
  Tensor d = arange_i64({2, 3});
  Tensor idx = i64({2, 1}, {1, 1});
  Tensor upd = i64({2, 3}, {2, 2, 2, 3, 3, 3});
  expect_tensor<int64_t>(run1("ScatterND", 18, {d, idx, upd}, {make_attribute("reduction", "mul")}),
                         {2, 3}, {0, 1, 2, 18, 24, 30});
  expect_tensor<int64_t>(run1("ScatterND", 13, {d, i64({1, 2}, {0, -1}), i64({1}, {9})}), {2, 3},
                         {0, 1, 9, 3, 4, 5});
  expect_error([&] { run1("ScatterND", 13, {d, i64({1, 2}, {2, 0}), i64({1}, {9})}); },
               {"index 2", "size 2"});
}

TEST(Trilu, UpperLowerWithOffset) {
  Tensor x = arange_i64({3, 3});
  expect_tensor<int64_t>(run1("Trilu", 14, {x, Tensor::scalar<int64_t>(1)}), {3, 3},
                         {0, 1, 2, 0, 0, 5, 0, 0, 0});
  expect_tensor<int64_t>(run1("Trilu", 14, {x, Tensor::scalar<int64_t>(-1)},
                              {make_attribute("upper", int64_t{0})}),
                         {3, 3}, {0, 0, 0, 3, 0, 0, 6, 7, 0});
}

TEST(OneHot, AxisZeroNegativeAndOutOfRangeIndices) {
  Tensor idx = i64({3}, {0, -1, 5});
  Tensor values = Tensor::from_vector<float>({2}, {0, 1});
  expect_tensor<float>(run1("OneHot", 11, {idx, Tensor::scalar<int64_t>(3), values},
                            {make_attribute("axis", int64_t{0})}),
                       {3, 3}, {1, 0, 0, 0, 0, 0, 0, 1, 0});
}

TEST(NonZero, CoordinatesInRowMajorOrder) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 0, -0.0f, 3});
  expect_tensor<int64_t>(run1("NonZero", 13, {x}), {2, 2}, {0, 1, 0, 1});
}

TEST(Compress, WithAndWithoutAxis) {
  Tensor x = arange_i64({3, 2});
  Tensor cond = Tensor::from_vector<bool>({2}, {false, true});
  expect_tensor<int64_t>(run1("Compress", 11, {x, cond}, {make_attribute("axis", int64_t{0})}),
                         {1, 2}, {2, 3});
  expect_tensor<int64_t>(run1("Compress", 11, {x, cond}), {1}, {1});
  expect_error([&] { run1("Compress", 11, {x, Tensor::from_vector<bool>({4}, {1, 1, 1, 1})},
                          {make_attribute("axis", int64_t{1})}); },
               {"selects entry 2", "length 2"});
  // As numpy.compress: false entries past the axis are ignored.
  expect_tensor<int64_t>(run1("Compress", 11, {x, Tensor::from_vector<bool>({4}, {0, 1, 0, 0})},
                              {make_attribute("axis", int64_t{1})}),
                         {3, 1}, {1, 3, 5});
}

TEST(ReverseSequence, BatchAxisZero) {
  Tensor x = arange_i64({2, 4});
  expect_tensor<int64_t>(run1("ReverseSequence", 10, {x, ints({3, 1})},
                              {make_attribute("batch_axis", int64_t{0}),
                               make_attribute("time_axis", int64_t{1})}),
                         {2, 4}, {2, 1, 0, 3, 4, 5, 6, 7});
}

TEST(ZeroSized, CopyOpsAcceptEmptyTensors) {
  Tensor e(DataType::kFloat, {0, 3});
  EXPECT_EQ(run1("Transpose", 13, {e}).shape(), (Shape{3, 0}));
  EXPECT_EQ(run1("Gather", 13, {e, ints({})}, {make_attribute("axis", int64_t{0})}).shape(),
            (Shape{0, 3}));
  EXPECT_EQ(run1("Pad", 13, {e, ints({1, 0, 0, 0})}).shape(), (Shape{1, 3}));
  EXPECT_EQ(run1("Expand", 13, {e, ints({2, 1, 1})}).shape(), (Shape{2, 0, 3}));
  EXPECT_EQ(run1("NonZero", 13, {e}).shape(), (Shape{2, 0}));
}

}  // namespace
}  // namespace onyx::tensor_test

namespace onyx::tensor_test {
namespace {

TEST(Unique, SortedAndFirstOccurrenceOrders) {
  // numpy.unique([2, 1, 1, 3, 4, 3], return_index, return_inverse, return_counts)
  Tensor x = Tensor::from_vector<float>({6}, {2, 1, 1, 3, 4, 3});
  Node node = make_node("Unique", 1, 4);
  auto sorted = call_node_on_cpu(node, 11, {x});
  expect_tensor<float>(sorted[0].tensor(), {4}, {1, 2, 3, 4});
  expect_tensor<int64_t>(sorted[1].tensor(), {4}, {1, 0, 3, 4});
  expect_tensor<int64_t>(sorted[2].tensor(), {6}, {1, 0, 0, 2, 3, 2});
  expect_tensor<int64_t>(sorted[3].tensor(), {4}, {2, 1, 2, 1});
  node.attributes = {make_attribute("sorted", int64_t{0})};
  auto unsorted = call_node_on_cpu(node, 11, {x});
  expect_tensor<float>(unsorted[0].tensor(), {4}, {2, 1, 3, 4});
  expect_tensor<int64_t>(unsorted[2].tensor(), {6}, {0, 1, 1, 2, 3, 2});
}

TEST(Unique, RowsAlongAxisAndStrings) {
  Tensor x = i64({3, 2}, {1, 2, 0, 5, 1, 2});
  expect_tensor<int64_t>(run1("Unique", 11, {x}, {make_attribute("axis", int64_t{-2})}), {2, 2},
                         {0, 5, 1, 2});
  Tensor s = Tensor::from_vector<std::string>({3}, {"b", "a", "b"});
  expect_tensor<std::string>(run1("Unique", 11, {s}), {2}, {"a", "b"});
}

}  // namespace
}  // namespace onyx::tensor_test

namespace onyx::tensor_test {
namespace {

TEST(BitCast, ReinterpretsSameWidthAndRejectsOthers) {
  // 1.0f is 0x3f800000 = 1065353216.
  expect_tensor<int32_t>(run1("BitCast", 26, {f32({1}, {1.0f})}, {make_attribute("to", int64_t{6})}),
                         {1}, {1065353216});
  expect_error([] { run1("BitCast", 26, {f32({1}, {1.0f})}, {make_attribute("to", int64_t{7})}); },
               {"32 bits", "64 bits"});
}

TEST(TensorScatter, LinearAndCircularWrites) {
  // Cache [batch 2, seq 3, 1]; batch 0 writes at 1, batch 1 at 2 (wraps to 0 when circular).
  Tensor cache = arange_i64({2, 3, 1});
  Tensor update = i64({2, 2, 1}, {10, 11, 20, 21});
  Tensor where = ints({1, 2});
  expect_tensor<int64_t>(run1("TensorScatter", 24, {cache, update, ints({1, 0})}), {2, 3, 1},
                         {0, 10, 11, 20, 21, 5});
  expect_tensor<int64_t>(run1("TensorScatter", 24, {cache, update, where},
                              {make_attribute("mode", "circular")}),
                         {2, 3, 1}, {0, 10, 11, 21, 4, 20});
  expect_error([&] { run1("TensorScatter", 24, {cache, update, where}); }, {"index 3", "size 3"});
}

}  // namespace
}  // namespace onyx::tensor_test
