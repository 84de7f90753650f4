// Cast and CastLike: numeric narrowing, strings both ways, float8 with and without saturation,
// packed int4 and E8M0. Expected values from NumPy/ml_dtypes as the ONNX reference computes.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

Tensor cast(const Tensor& x, DataType to, std::vector<Attribute> extra = {}) {
  Node node;
  node.op_type = "Cast";
  node.name = "cast";
  node.inputs = {"x"};
  node.outputs = {"y"};
  node.attributes = std::move(extra);
  node.attributes.push_back(make_attribute("to", int64_t{static_cast<int32_t>(to)}));
  return call_node_on_cpu(node, 25, {x})[0].tensor();
}

TEST(Cast, NarrowsNumbersAsNumPyDoes) {
  Tensor x = Tensor::from_vector<float>({4}, {1.9f, -1.9f, 300.0f, 0.0f});
  Tensor y = cast(x, DataType::kInt8);
  EXPECT_EQ(std::vector<int8_t>(y.values<int8_t>().begin(), y.values<int8_t>().end()),
            (std::vector<int8_t>{1, -1, 44, 0}));
  Tensor b = cast(x, DataType::kBool);
  EXPECT_EQ(std::vector<bool>(b.values<bool>().begin(), b.values<bool>().end()),
            (std::vector<bool>{true, true, true, false}));
  Tensor h = cast(Tensor::from_vector<double>({1}, {65520.0}), DataType::kFloat16);
  EXPECT_TRUE(std::isinf(static_cast<float>(h.data<Float16>()[0])));
}

TEST(Cast, ParsesAndFormatsStrings) {
  Tensor s = Tensor::from_vector<std::string>({4}, {"0.5", "-1.5e2", "INF", "NaN"});
  Tensor f = cast(s, DataType::kFloat);
  EXPECT_EQ(f.data<float>()[0], 0.5f);
  EXPECT_EQ(f.data<float>()[1], -150.0f);
  EXPECT_TRUE(std::isinf(f.data<float>()[2]));
  EXPECT_TRUE(std::isnan(f.data<float>()[3]));
  Tensor x = Tensor::from_vector<float>({4}, {0.5f, 1.0f, 1e-7f, 0.039187793f});
  Tensor t = cast(x, DataType::kString);
  EXPECT_EQ(t.data<std::string>()[0], "0.5");
  EXPECT_EQ(t.data<std::string>()[1], "1.0");
  EXPECT_EQ(t.data<std::string>()[2], "1e-07");
  EXPECT_EQ(t.data<std::string>()[3], "0.039187793");
  EXPECT_EQ(cast(Tensor::from_vector<int64_t>({1}, {-42}), DataType::kString).data<std::string>()[0],
            "-42");
}

TEST(Cast, Float8SaturatesOrOverflows) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = Tensor::from_vector<float>({4}, {0.47892547f, 1e6f, -1e6f, nan});
  Tensor sat = cast(x, DataType::kFloat8E4M3FN);
  const auto* bytes = static_cast<const uint8_t*>(sat.raw_data());
  EXPECT_EQ(bytes[0], 0x2F);  // 0.46875
  EXPECT_EQ(bytes[1], 0x7E);  // 448
  EXPECT_EQ(bytes[2], 0xFE);  // -448
  EXPECT_EQ(bytes[3] & 0x7F, 0x7F);
  Tensor back = cast(sat, DataType::kFloat);
  EXPECT_EQ(back.data<float>()[0], 0.46875f);
  EXPECT_EQ(back.data<float>()[2], -448.0f);
  EXPECT_TRUE(std::isnan(back.data<float>()[3]));
  Tensor wide = cast(x, DataType::kFloat8E5M2, {make_attribute("saturate", int64_t{0})});
  Tensor wide_back = cast(wide, DataType::kFloat);
  EXPECT_EQ(wide_back.data<float>()[0], 0.5f);
  EXPECT_TRUE(std::isinf(wide_back.data<float>()[1]) && wide_back.data<float>()[1] > 0);
  EXPECT_TRUE(std::isinf(wide_back.data<float>()[2]) && wide_back.data<float>()[2] < 0);
}

TEST(Cast, PacksInt4LowNibbleFirst) {
  Tensor x = Tensor::from_vector<float>({3}, {-8.0f, 1.0f, 7.0f});
  Tensor y = cast(x, DataType::kInt4);
  ASSERT_EQ(y.byte_size(), 2u);
  const auto* bytes = static_cast<const uint8_t*>(y.raw_data());
  EXPECT_EQ(bytes[0], 0x18);  // element 0 (-8 = 0b1000) in the low nibble, element 1 above it
  EXPECT_EQ(bytes[1] & 0x0F, 0x07);
  Tensor back = cast(y, DataType::kInt8);
  EXPECT_EQ(back.data<int8_t>()[0], -8);
  EXPECT_EQ(back.data<int8_t>()[1], 1);
  EXPECT_EQ(back.data<int8_t>()[2], 7);
}

// The Cast spec leaves a float outside a fixed-point type's range undefined. onyx keeps the low
// bits, as the spec's integer-to-integer rule does and as onnxruntime 1.32 does for these types
// (its outputs: -9 -> 7, 8 -> -8, 15 -> -1 for INT4; -3 -> 1, 2 -> -2 for INT2); the pytest
// test_cast_low_bit_matches_onnxruntime checks the same against onnxruntime itself.
TEST(Cast, OutOfRangeFloatsKeepTheLowBitsOfTheInteger) {
  Tensor x = Tensor::from_vector<float>({4}, {-9.0f, 8.0f, 15.0f, 16.0f});
  Tensor as_int4 = cast(cast(x, DataType::kInt4), DataType::kInt8);
  EXPECT_EQ(as_int4.data<int8_t>()[0], 7);
  EXPECT_EQ(as_int4.data<int8_t>()[1], -8);
  EXPECT_EQ(as_int4.data<int8_t>()[2], -1);
  EXPECT_EQ(as_int4.data<int8_t>()[3], 0);
  Tensor as_int2 = cast(cast(Tensor::from_vector<float>({2}, {-3.0f, 2.0f}), DataType::kInt2), DataType::kInt8);
  EXPECT_EQ(as_int2.data<int8_t>()[0], 1);
  EXPECT_EQ(as_int2.data<int8_t>()[1], -2);
}

TEST(Cast, E8M0RoundsUpByDefault) {
  Tensor x = Tensor::from_vector<float>({3}, {1.1f, 2.0f, 0.124f});
  Tensor y = cast(x, DataType::kFloat8E8M0);
  Tensor back = cast(y, DataType::kFloat);
  EXPECT_EQ(back.data<float>()[0], 2.0f);
  EXPECT_EQ(back.data<float>()[1], 2.0f);
  EXPECT_EQ(back.data<float>()[2], 0.125f);
}

TEST(CastLike, TakesTheTypeOfTheSecondInput) {
  Node node;
  node.op_type = "CastLike";
  node.inputs = {"x", "like"};
  node.outputs = {"y"};
  Tensor x = Tensor::from_vector<int32_t>({2}, {3, -4});
  auto out = call_node_on_cpu(node, 21, {x, Tensor::scalar<double>(0.0)});
  EXPECT_EQ(out[0].tensor().dtype(), DataType::kDouble);
  EXPECT_EQ(out[0].tensor().data<double>()[1], -4.0);
}

TEST(Cast, RejectsAnUnknownTargetType) {
  Tensor x = Tensor::from_vector<float>({1}, {1.0f});
  Node node;
  node.op_type = "Cast";
  node.inputs = {"x"};
  node.outputs = {"y"};
  node.attributes = {make_attribute("to", int64_t{99})};
  EXPECT_THROW(call_node_on_cpu(node, 25, {x}), Error);
}

}  // namespace
}  // namespace onyx
