// The vectorized logistic and SiLU loops against double-precision references.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "providers/cpu/activation/logistic_loops.h"

namespace onyx {
namespace {

double logistic_reference(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double silu_reference(double x) { return x / (1.0 + std::exp(-x)); }

// Values over [-120, 120], denser near 0, and a count that leaves a tail for the scalar loop.
std::vector<float> sweep() {
  std::vector<float> values;
  for (int i = -6000; i <= 6000; ++i) values.push_back(static_cast<float>(i) * 0.02f);
  for (int i = -120; i <= 120; ++i) values.push_back(static_cast<float>(i) + 0.37f);
  values.push_back(3.0e-8f);
  values.push_back(-3.0e-8f);
  return values;  // 12001 + 241 + 2: not a multiple of 16
}

template <typename Loop, typename Reference>
void expect_close(Loop loop, Reference reference, double relative, double absolute) {
  std::vector<float> x = sweep();
  ASSERT_NE(x.size() % 16, 0u);
  std::vector<float> y = x;
  loop(y.data(), static_cast<int64_t>(y.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double expected = reference(static_cast<double>(x[i]));
    ASSERT_NEAR(y[i], expected, absolute + relative * std::fabs(expected)) << "x = " << x[i];
  }
}

TEST(LogisticLoops, LogisticMatchesDoublePrecision) {
  expect_close(logistic_in_place, logistic_reference, 4e-7, 1e-36);  // absolute: where exp(-x) overflows float, 0
}

TEST(LogisticLoops, SiluMatchesDoublePrecision) {
  expect_close(silu_in_place, silu_reference, 4e-7, 1e-36);  // absolute: where exp(-x) overflows float, 0
}

// Special values behave as the formulas in float do, in the vector body and in the tail alike.
TEST(LogisticLoops, InfinitiesAndNaNs) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (size_t offset : {size_t{0}, size_t{16}}) {  // in a vector of 16, then in the tail
    std::vector<float> logistic(20, 0.f), silu(20, 0.f);
    const float special[3] = {inf, -inf, nan};
    for (size_t k = 0; k < 3; ++k) logistic[offset + k] = silu[offset + k] = special[k];
    logistic_in_place(logistic.data(), static_cast<int64_t>(logistic.size()));
    silu_in_place(silu.data(), static_cast<int64_t>(silu.size()));
    EXPECT_EQ(logistic[offset], 1.f);
    EXPECT_EQ(logistic[offset + 1], 0.f);
    EXPECT_TRUE(std::isnan(logistic[offset + 2]));
    EXPECT_EQ(silu[offset], inf);
    EXPECT_TRUE(std::isnan(silu[offset + 1]));  // -inf / (1 + inf)
    EXPECT_TRUE(std::isnan(silu[offset + 2]));
    EXPECT_EQ(logistic[offset + 3], 0.5f);  // the zeros beside them
    EXPECT_EQ(silu[offset + 3], 0.f);
  }
}

}  // namespace
}  // namespace onyx
