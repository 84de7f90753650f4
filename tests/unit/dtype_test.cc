#include <gtest/gtest.h>

#include "runtime/tensor/half.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

TEST(Float16, RoundTripsRepresentableValues) {
  for (float v : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f}) {
    EXPECT_EQ(static_cast<float>(Float16(v)), v) << v;
  }
}

TEST(Float16, RoundsToNearestEvenAndSaturatesToInfinity) {
  EXPECT_EQ(Float16(1.0f + 1.0f / 2048).bits, Float16(1.0f).bits);  // tie goes to even
  EXPECT_EQ(Float16(1.0f + 3.0f / 2048).bits, Float16(1.0f + 2.0f / 1024).bits);
  EXPECT_TRUE(std::isinf(static_cast<float>(Float16(1e6f))));
  EXPECT_TRUE(std::isnan(static_cast<float>(Float16(std::nanf("")))));
}

TEST(BFloat16, KeepsTheFloatExponentRange) {
  EXPECT_NEAR(static_cast<float>(BFloat16(1e30f)) / 1e30f, 1.0f, 1.0f / 128);
  EXPECT_EQ(static_cast<float>(BFloat16(3.0f)), 3.0f);
}

TEST(Tensor, ScalarsAndEmptyTensorsHaveTheRightCounts) {
  Tensor scalar = Tensor::scalar<int64_t>(7);
  EXPECT_EQ(scalar.rank(), 0u);
  EXPECT_EQ(scalar.element_count(), 1);
  EXPECT_EQ(scalar.data<int64_t>()[0], 7);
  Tensor empty(DataType::kFloat, {3, 0, 2});
  EXPECT_EQ(empty.element_count(), 0);
  EXPECT_EQ(empty.byte_size(), 0u);
}

TEST(Tensor, TypedAccessWithTheWrongTypeThrows) {
  Tensor t = Tensor::from_vector<float>({2}, {1, 2});
  EXPECT_THROW(t.data<int32_t>(), Error);
}

TEST(Tensor, StringsAreOwnedAndCloned) {
  Tensor t(DataType::kString, {2});
  t.mutable_data<std::string>()[0] = "hello";
  Tensor copy = t.clone();
  t.mutable_data<std::string>()[0] = "changed";
  EXPECT_EQ(copy.data<std::string>()[0], "hello");
}

TEST(DataType, PackedTypesRoundUpToWholeBytes) {
  EXPECT_EQ(dtype_storage_bytes(DataType::kInt4, 3), 2u);
  EXPECT_EQ(dtype_storage_bytes(DataType::kFloat16, 3), 6u);
  EXPECT_THROW(dtype_from_code(99), Error);
}

}  // namespace onyx
