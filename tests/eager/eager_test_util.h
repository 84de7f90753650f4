// Helpers shared by the eager-mode tests.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "runtime/tensor/tensor.h"

namespace onyx::test {

inline void expect_floats_near(const Tensor& actual, const std::vector<float>& expected, float tolerance = 1e-5f) {
  ASSERT_EQ(actual.dtype(), DataType::kFloat);
  ASSERT_EQ(actual.element_count(), static_cast<int64_t>(expected.size()));
  auto values = actual.values<float>();
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(values[i], expected[i], tolerance) << "element " << i;
}

}  // namespace onyx::test
