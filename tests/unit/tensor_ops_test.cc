// Unit tests of the shape-only and generator tensor ops and of Transpose, Concat and Split.
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

std::vector<float> iota_f(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return v;
}

TEST(Reshape, CopiesZeroDimsAndInfersMinusOne) {
  Tensor x = f32({2, 3, 4}, iota_f(24));
  Tensor y = run1("Reshape", 14, {x, ints({0, -1, 2})});
  expect_tensor<float>(y, {2, 6, 2}, iota_f(24));
}

TEST(Reshape, AllowZeroMakesAnEmptyDim) {
  Tensor x(DataType::kFloat, {0, 3});
  Tensor y = run1("Reshape", 14, {x, ints({3, 0})}, {make_attribute("allowzero", int64_t{1})});
  EXPECT_EQ(y.shape(), (Shape{3, 0}));
}

TEST(Reshape, Opset1ReadsTheShapeAttribute) {
  Tensor y = run1("Reshape", 1, {f32({4}, {1, 2, 3, 4})},
                  {make_attribute("shape", std::vector<int64_t>{2, 2})});
  expect_tensor<float>(y, {2, 2}, {1, 2, 3, 4});
}

TEST(Reshape, WorksOnStrings) {
  Tensor s = Tensor::from_vector<std::string>({2}, {"a", "bc"});
  Tensor y = run1("Reshape", 13, {s, ints({2, 1})});
  expect_tensor<std::string>(y, {2, 1}, {"a", "bc"});
}

// Fuzz regression (model_mutate/reshape-huge-declared-dim): the product of the target dims
// overflowed int64 (2^62 * 4 wrapped to 0, UBSan); it is checked and named.
TEST(Reshape, TargetWhoseElementCountOverflowsIsRefused) {
  expect_error([] { run1("Reshape", 14, {f32({2, 3}, iota_f(6)), ints({int64_t{1} << 62, 4, -1})}); },
               {"Reshape", "more than 2^63 elements"});
}

TEST(Reshape, BadTargetNamesBothShapes) {
  expect_error([] { run1("Reshape", 14, {f32({2, 3}, iota_f(6)), ints({4, -1})}); },
               {"[2,3]", "[4,-1]"});
  expect_error([] { run1("Reshape", 14, {f32({2, 3}, iota_f(6)), ints({-1, -1})}); },
               {"more than one -1"});
}

TEST(Flatten, NegativeAxisAndAxisZero) {
  Tensor x = f32({2, 3, 4}, iota_f(24));
  EXPECT_EQ(run1("Flatten", 13, {x}, {make_attribute("axis", int64_t{-1})}).shape(),
            (Shape{6, 4}));
  EXPECT_EQ(run1("Flatten", 13, {x}, {make_attribute("axis", int64_t{0})}).shape(),
            (Shape{1, 24}));
  expect_error([&] { run1("Flatten", 13, {x}, {make_attribute("axis", int64_t{4})}); },
               {"attribute axis must be in [-3, 3], got 4"});
}

TEST(Squeeze, AxesAsAttributeAndAsInput) {
  Tensor x = f32({1, 3, 1}, {1, 2, 3});
  EXPECT_EQ(run1("Squeeze", 11, {x}, {make_attribute("axes", std::vector<int64_t>{-1})}).shape(),
            (Shape{1, 3}));
  EXPECT_EQ(run1("Squeeze", 13, {x, ints({0})}).shape(), (Shape{3, 1}));
  EXPECT_EQ(run1("Squeeze", 13, {x}).shape(), (Shape{3}));
  expect_error([&] { run1("Squeeze", 13, {x, ints({1})}); }, {"axis 1", "size 3"});
}

TEST(Unsqueeze, InsertsAtNegativeAndUnsortedAxes) {
  Tensor x = f32({3}, {1, 2, 3});
  EXPECT_EQ(run1("Unsqueeze", 13, {x, ints({-1, 0})}).shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(run1("Unsqueeze", 11, {x}, {make_attribute("axes", std::vector<int64_t>{1})}).shape(),
            (Shape{3, 1}));
  expect_error([&] { run1("Unsqueeze", 13, {x, ints({2})}); }, {"axis 2", "rank 2"});
}

TEST(Identity, CopiesTensorsAndPassesSequencesThrough) {
  Tensor b = Tensor::from_vector<bool>({2}, {true, false});
  expect_tensor<bool>(run1("Identity", 16, {b}), {2}, {true, false});
  Value seq = Value::sequence({Value(f32({1}, {5}))}, DataType::kFloat);
  Node node = make_node("Identity", 1, 1);
  Value out = call_node_on_cpu(node, 16, {seq}).at(0);
  ASSERT_TRUE(out.is_sequence());
  EXPECT_EQ(out.sequence_items().at(0).tensor().data<float>()[0], 5.0f);
}

TEST(Constant, EveryValueAttribute) {
  expect_tensor<float>(run1("Constant", 13, {}, {make_attribute("value_float", 2.5f)}), {},
                       {2.5f});
  expect_tensor<int64_t>(
      run1("Constant", 13, {}, {make_attribute("value_ints", std::vector<int64_t>{1, 2})}), {2},
      {1, 2});
  expect_tensor<std::string>(
      run1("Constant", 13, {}, {make_attribute("value_strings", std::vector<std::string>{"x"})}),
      {1}, {"x"});
  expect_tensor<int32_t>(
      run1("Constant", 13, {},
           {make_attribute("value", Tensor::from_vector<int32_t>({2, 1}, {7, 8}))}),
      {2, 1}, {7, 8});
  expect_error([] { run1("Constant", 13, {}); }, {"value"});
}

TEST(Shape, StartAndEndClamp) {
  Tensor x(DataType::kFloat, {2, 3, 4, 5});
  expect_tensor<int64_t>(run1("Shape", 15, {x}), {4}, {2, 3, 4, 5});
  expect_tensor<int64_t>(run1("Shape", 15, {x}, {make_attribute("start", int64_t{-3}),
                                                 make_attribute("end", int64_t{-1})}),
                         {2}, {3, 4});
  expect_tensor<int64_t>(run1("Shape", 15, {x}, {make_attribute("start", int64_t{10})}), {0}, {});
  expect_tensor<int64_t>(run1("Size", 13, {x}), {}, {120});
}

TEST(ConstantOfShape, DefaultsToFloatZeroAndTakesTheValueType) {
  expect_tensor<float>(run1("ConstantOfShape", 9, {ints({2})}), {2}, {0, 0});
  expect_tensor<int32_t>(
      run1("ConstantOfShape", 9, {ints({1, 2})},
           {make_attribute("value", Tensor::from_vector<int32_t>({1}, {4}))}),
      {1, 2}, {4, 4});
  EXPECT_EQ(run1("ConstantOfShape", 9, {ints({0, 3})}).element_count(), 0);
}

TEST(Range, IntegerAndFloatAndEmpty) {
  expect_tensor<int32_t>(run1("Range", 11, {Tensor::scalar<int32_t>(10), Tensor::scalar<int32_t>(4),
                                            Tensor::scalar<int32_t>(-3)}),
                         {2}, {10, 7});
  expect_tensor<float>(run1("Range", 11, {Tensor::scalar<float>(1), Tensor::scalar<float>(2),
                                          Tensor::scalar<float>(0.25f)}),
                       {4}, {1, 1.25f, 1.5f, 1.75f});
  EXPECT_EQ(run1("Range", 11, {Tensor::scalar<int64_t>(5), Tensor::scalar<int64_t>(1),
                               Tensor::scalar<int64_t>(1)})
                .element_count(),
            0);
}

TEST(EyeLike, OffsetDiagonalAndDtype) {
  Tensor x(DataType::kInt32, {3, 4});
  expect_tensor<double>(run1("EyeLike", 9, {x}, {make_attribute("k", int64_t{1}),
                                                 make_attribute("dtype", int64_t{11})}),
                        {3, 4}, {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
}

// Naive reference: out[i] = in[index mapped through perm].
std::vector<float> transpose_reference(const std::vector<float>& in, const Shape& shape,
                                       const std::vector<int64_t>& perm) {
  const size_t rank = shape.size();
  Shape out_shape(rank);
  for (size_t d = 0; d < rank; ++d) out_shape[d] = shape[perm[d]];
  std::vector<int64_t> in_strides(rank, 1);
  for (size_t d = rank; d-- > 1;) in_strides[d - 1] = in_strides[d] * shape[d];
  std::vector<float> out(in.size());
  std::vector<int64_t> idx(rank, 0);
  for (size_t o = 0; o < out.size(); ++o) {
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d) src += idx[d] * in_strides[perm[d]];
    out[o] = in[src];
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

TEST(Transpose, MatchesNaiveReferenceForManyPerms) {
  const Shape shape{3, 1, 37, 45};
  std::vector<float> values = iota_f(3 * 37 * 45);
  for (std::vector<int64_t> perm :
       {std::vector<int64_t>{0, 1, 3, 2}, {3, 2, 1, 0}, {2, 0, 1, 3}, {1, 0, 2, 3}, {0, 3, 1, 2}}) {
    Tensor y = run1("Transpose", 13, {f32(shape, values)}, {make_attribute("perm", perm)});
    Shape out_shape;
    for (int64_t p : perm) out_shape.push_back(shape[p]);
    expect_tensor<float>(y, out_shape, transpose_reference(values, shape, perm));
  }
}

// Two to four channels moved last (an image's colours going channels-last) take the
// interleaving loop; batches, odd sizes and two threads must match the naive reference.
TEST(Transpose, FewChannelsMovedLastInterleave) {
  for (int64_t channels : {2, 3, 4, 5}) {
    const Shape shape{2, channels, 13, 29};
    std::vector<float> values = iota_f(2 * channels * 13 * 29);
    for (int threads : {1, 2}) {
      Node node = make_node("Transpose", 1, 1);
      node.attributes.push_back(make_attribute("perm", std::vector<int64_t>{0, 2, 3, 1}));
      Tensor y = call_node_on_cpu(node, 13, {f32(shape, values)}, threads).at(0).tensor();
      expect_tensor<float>(y, {2, 13, 29, channels}, transpose_reference(values, shape, {0, 2, 3, 1}));
    }
  }
}

TEST(Transpose, LargeMatrixOnTwoThreadsAndDefaultPerm) {
  const Shape shape{130, 257};
  std::vector<float> values = iota_f(130 * 257);
  Node node = make_node("Transpose", 1, 1);
  Tensor y = call_node_on_cpu(node, 13, {f32(shape, values)}, 2).at(0).tensor();
  expect_tensor<float>(y, {257, 130}, transpose_reference(values, shape, {1, 0}));
}

TEST(Transpose, MovingOnlyUnitDimsIsAViewOfTheInput) {
  Tensor x = f32({2, 1, 3}, iota_f(6));
  Tensor y = run1("Transpose", 13, {x}, {make_attribute("perm", std::vector<int64_t>{1, 0, 2})});
  expect_tensor<float>(y, {1, 2, 3}, iota_f(6));
  EXPECT_EQ(y.data<float>(), x.data<float>());
  Tensor moved = run1("Transpose", 13, {x}, {make_attribute("perm", std::vector<int64_t>{2, 1, 0})});
  EXPECT_NE(moved.data<float>(), x.data<float>());  // a real transpose copies
}

TEST(Transpose, StringsAndBadPerm) {
  Tensor s = Tensor::from_vector<std::string>({2, 2}, {"a", "b", "c", "d"});
  expect_tensor<std::string>(run1("Transpose", 13, {s}), {2, 2}, {"a", "c", "b", "d"});
  expect_error([&] { run1("Transpose", 13, {s}, {make_attribute("perm", std::vector<int64_t>{0, 0})}); },
               {"attribute perm must be a permutation of 0..1, got 0 twice"});
}

TEST(DepthToSpace, DcrAndCrdModes) {
  // x[0, c, 0, 0] = c for 4 channels, blocksize 2: DCR puts channel (i*2+j) at (i, j);
  // CRD puts channel (i*2+j) of the single output channel at (i, j) too but groups differ.
  Tensor x = f32({1, 8, 1, 1}, iota_f(8));
  Tensor dcr = run1("DepthToSpace", 13, {x}, {make_attribute("blocksize", int64_t{2})});
  expect_tensor<float>(dcr, {1, 2, 2, 2}, {0, 2, 4, 6, 1, 3, 5, 7});
  Tensor crd = run1("DepthToSpace", 13, {x}, {make_attribute("blocksize", int64_t{2}),
                                              make_attribute("mode", "CRD")});
  expect_tensor<float>(crd, {1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
}

TEST(SpaceToDepth, InvertsDepthToSpaceDcr) {
  Tensor x = f32({1, 2, 2, 2}, {0, 2, 4, 6, 1, 3, 5, 7});
  expect_tensor<float>(run1("SpaceToDepth", 13, {x}, {make_attribute("blocksize", int64_t{2})}),
                       {1, 8, 1, 1}, iota_f(8));
  expect_error([&] { run1("SpaceToDepth", 13, {f32({1, 1, 3, 2}, iota_f(6))},
                          {make_attribute("blocksize", int64_t{2})}); },
               {"attribute blocksize (2) must divide the input's spatial dims, got height 3"});
}

TEST(Concat, NegativeAxisMixedSizesAndEmptyInput) {
  Tensor a = f32({2, 1}, {1, 2});
  Tensor b = f32({2, 2}, {3, 4, 5, 6});
  Tensor e(DataType::kFloat, {2, 0});
  Tensor y = run1("Concat", 13, {a, e, b}, {make_attribute("axis", int64_t{-1})});
  expect_tensor<float>(y, {2, 3}, {1, 3, 4, 2, 5, 6});
  expect_error([&] { run1("Concat", 13, {a, f32({3, 1}, {1, 2, 3})}, {make_attribute("axis", int64_t{1})}); },
               {"[2,1]", "[3,1]"});
}

TEST(Concat, Strings) {
  Tensor a = Tensor::from_vector<std::string>({1}, {"x"});
  Tensor b = Tensor::from_vector<std::string>({2}, {"y", "z"});
  expect_tensor<std::string>(run1("Concat", 13, {a, b}, {make_attribute("axis", int64_t{0})}),
                             {3}, {"x", "y", "z"});
}

std::vector<Tensor> run_split(int64_t opset, std::vector<Value> inputs, size_t outputs,
                              std::vector<Attribute> attrs) {
  Node node = make_node("Split", inputs.size(), outputs, std::move(attrs));
  std::vector<Tensor> result;
  for (const Value& v : call_node_on_cpu(node, opset, inputs)) result.push_back(v.tensor());
  return result;
}

TEST(Split, SizesFromAttributeInputAndNumOutputs) {
  Tensor x = f32({2, 5}, iota_f(10));
  auto a = run_split(11, {x}, 2, {make_attribute("axis", int64_t{-1}),
                                  make_attribute("split", std::vector<int64_t>{2, 3})});
  expect_tensor<float>(a[0], {2, 2}, {0, 1, 5, 6});
  expect_tensor<float>(a[1], {2, 3}, {2, 3, 4, 7, 8, 9});
  auto b = run_split(13, {x, ints({4, 1})}, 2, {make_attribute("axis", int64_t{1})});
  expect_tensor<float>(b[1], {2, 1}, {4, 9});
  // num_outputs 3 over 5: chunks of ceil(5/3) = 2, the last one smaller.
  auto c = run_split(18, {x}, 3, {make_attribute("axis", int64_t{1}),
                                  make_attribute("num_outputs", int64_t{3})});
  expect_tensor<float>(c[2], {2, 1}, {4, 9});
  expect_error([&] { run_split(13, {x}, 2, {make_attribute("axis", int64_t{1})}); },
               {"5", "2 equal outputs"});
  expect_error([&] { run_split(13, {x, ints({1, 1})}, 2, {make_attribute("axis", int64_t{1})}); },
               {"sum to 2", "length 5"});
}

}  // namespace
}  // namespace onyx::tensor_test
