// portable_random.h and the seeded ops that draw through it give the same values with every
// standard library. The expected values come from scripts/portable_random_reference.py, which
// recomputes them in Python from MT19937-64's definition (no C++ involved).
#include "runtime/common/portable_random.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

TEST(PortableRandom, EngineIsTheStandardsMersenneTwister) {
  portable_random::Engine engine;  // default seed 5489
  engine.discard(9999);
  EXPECT_EQ(engine(), 9981545732273789042ull);  // the value [rand.predef] requires
}

TEST(PortableRandom, PinnedDraws) {
  portable_random::Engine engine(42);
  EXPECT_EQ(portable_random::unit(engine), 0.755155532954539);  // exact: 53 bits times 2^-53
  EXPECT_EQ(portable_random::unit(engine), 0.6390313938546974);
  EXPECT_EQ(portable_random::unit(engine), 0.7521452007480266);

  engine.seed(42);
  // log and cos may differ in the last bit between C libraries.
  EXPECT_NEAR(portable_random::normal(engine, 1.5, 2.0), -0.654349088556577, 1e-13);
  EXPECT_NEAR(portable_random::normal(engine, 1.5, 2.0), 3.6890396970012214, 1e-13);
  EXPECT_NEAR(portable_random::normal(engine, 1.5, 2.0), 5.089463331590343, 1e-13);

  engine.seed(7);
  std::vector<uint64_t> indices;
  for (int i = 0; i < 10; ++i) indices.push_back(portable_random::index_below(engine, 10));
  EXPECT_EQ(indices, (std::vector<uint64_t>{5, 0, 8, 6, 1, 8, 9, 8, 1, 0}));
}

TEST(PortableRandom, SeededDropoutMaskIsPinned) {
  Node node = make_node("Dropout", 3, 2, {make_attribute("seed", int64_t{1234})});
  const std::vector<Value> outputs =
      call_node_on_cpu(node, 13, {f32({32}, std::vector<float>(32, 2.0f)), Tensor::scalar<float>(0.3f),
                                  Tensor::scalar<bool>(true)});
  const std::string expected_mask = "01001000100110101111101011111001";
  std::string mask;
  for (bool kept : outputs.at(1).tensor().values<bool>()) mask += kept ? '1' : '0';
  EXPECT_EQ(mask, expected_mask);
  const auto y = outputs.at(0).tensor().values<float>();
  for (size_t i = 0; i < expected_mask.size(); ++i) {
    EXPECT_FLOAT_EQ(y[i], expected_mask[i] == '1' ? 2.0f / 0.7f : 0.0f) << i;
  }
}

TEST(PortableRandom, SeededRandomNormalIsPinned) {
  Tensor y = run1("RandomNormal", 22, {}, {make_attribute("shape", std::vector<int64_t>{3}),
                                          make_attribute("mean", 1.5f), make_attribute("scale", 2.0f),
                                          make_attribute("seed", 42.0f)});
  const auto values = y.values<float>();
  EXPECT_FLOAT_EQ(values[0], -0.6543491f);
  EXPECT_FLOAT_EQ(values[1], 3.6890397f);
  EXPECT_FLOAT_EQ(values[2], 5.089463f);
}

}  // namespace
}  // namespace onyx::tensor_test
