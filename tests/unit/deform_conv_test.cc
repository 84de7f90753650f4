#include <gtest/gtest.h>

#include <random>

#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

Node node_of(const std::string& op, size_t inputs) {
  Node node;
  node.op_type = op;
  node.name = op;
  for (size_t i = 0; i < inputs; ++i) node.inputs.push_back("in" + std::to_string(i));
  node.outputs = {"y"};
  node.attributes = {make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1}),
                     make_attribute("strides", std::vector<int64_t>{2, 1})};
  return node;
}

Tensor random_tensor(Shape shape, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> values(static_cast<size_t>(shape_element_count(shape)));
  for (float& v : values) v = uniform(generator);
  return Tensor::from_vector<float>(shape, values);
}

TEST(DeformConv, WithZeroOffsetsAndUnitMaskIsAPlainConvolution) {
  Tensor x = random_tensor({2, 3, 7, 6}, 1);
  Tensor w = random_tensor({4, 3, 3, 3}, 2);
  Tensor b = random_tensor({4}, 3);
  // Output spatial size of a 3x3 conv, pads 1, strides (2, 1) on 7x6: 4x6.
  Tensor offset(DataType::kFloat, {2, 2 * 9, 4, 6});
  std::fill_n(offset.mutable_data<float>(), offset.element_count(), 0.0f);
  Tensor mask(DataType::kFloat, {2, 9, 4, 6});
  std::fill_n(mask.mutable_data<float>(), mask.element_count(), 1.0f);
  auto deformed = call_node_on_cpu(node_of("DeformConv", 5), 22, {x, w, offset, b, mask});
  auto plain = call_node_on_cpu(node_of("Conv", 3), 22, {x, w, b});
  const Tensor& a = deformed[0].tensor();
  const Tensor& e = plain[0].tensor();
  ASSERT_EQ(a.shape(), e.shape());
  for (int64_t i = 0; i < a.element_count(); ++i) EXPECT_NEAR(a.data<float>()[i], e.data<float>()[i], 1e-5) << i;
}

TEST(DeformConv, AHalfPixelOffsetAveragesNeighbours) {
  // 1x1 kernel on a 1x1x1x2 image [2, 4], sampled at x + 0.5 -> 3 then at 1.5 -> half of 4.
  Node node = node_of("DeformConv", 3);
  node.attributes = {};
  Tensor x = Tensor::from_vector<float>({1, 1, 1, 2}, {2, 4});
  Tensor w = Tensor::from_vector<float>({1, 1, 1, 1}, {1});
  Tensor offset = Tensor::from_vector<float>({1, 2, 1, 2}, {0, 0, 0.5f, 0.5f});
  auto y = call_node_on_cpu(node, 22, {x, w, offset});
  EXPECT_FLOAT_EQ(y[0].tensor().data<float>()[0], 3.0f);
  EXPECT_FLOAT_EQ(y[0].tensor().data<float>()[1], 2.0f);
}

TEST(DeformConv, OffsetsOfTheWrongShapeAreRejected) {
  Tensor x = random_tensor({1, 2, 4, 4}, 4);
  Tensor w = random_tensor({2, 2, 3, 3}, 5);
  Tensor offset(DataType::kFloat, {1, 9, 2, 4});  // needs 18 channels
  EXPECT_THROW(call_node_on_cpu(node_of("DeformConv", 3), 22, {x, w, offset}), Error);
}

}  // namespace
}  // namespace onyx
