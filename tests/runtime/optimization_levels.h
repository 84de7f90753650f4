// Shared by the optimizer pass tests: run one model at optimization levels 1 and 2, expect the
// same outputs, and count the op types each plan ended up with.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

#include "runtime/session/inference_session.h"

namespace onyx::testing {

// A float tensor of seeded normal values with standard deviation `scale`.
inline Tensor random_tensor(const Shape& shape, uint32_t seed, float scale = 1.f) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.f, scale);
  Tensor tensor(DataType::kFloat, shape);
  float* data = tensor.mutable_data<float>();
  for (int64_t i = 0; i < tensor.element_count(); ++i) data[i] = normal(generator);
  return tensor;
}

inline std::map<std::string, int> op_counts(const InferenceSession& session) {
  std::map<std::string, int> counts;
  for (const PlanStep& step : session.plan().steps()) ++counts[step.node->op_type];
  return counts;
}

// One intra-op thread, so the comparison does not depend on the machine.
inline SessionOptions level(int optimization_level) {
  SessionOptions options;
  options.optimization_level = optimization_level;
  options.intra_op_threads = 1;
  return options;
}

struct LevelCounts {
  std::map<std::string, int> level1, level2;  // op types of each plan
};

// Runs `model` at levels 1 and 2 on `feeds` and expects the same float outputs (to 1e-5
// relative); returns both plans' op counts.
inline LevelCounts compare_levels(const Model& model, const std::map<std::string, Value>& feeds) {
  InferenceSession first(Model(model), level(1));
  InferenceSession last(Model(model), level(2));
  auto expected = first.run(feeds);
  auto actual = last.run(feeds);
  EXPECT_EQ(actual.size(), expected.size());
  for (size_t k = 0; k < expected.size() && k < actual.size(); ++k) {
    const Tensor& e = expected[k].value.tensor();
    const Tensor& a = actual[k].value.tensor();
    EXPECT_EQ(actual[k].name, expected[k].name);
    EXPECT_EQ(a.shape(), e.shape()) << expected[k].name;
    if (a.shape() != e.shape()) continue;
    int64_t mismatches = 0, first_mismatch = -1;
    for (int64_t i = 0; i < e.element_count(); ++i) {
      if (std::abs(a.data<float>()[i] - e.data<float>()[i]) > 1e-5f * (1.f + std::abs(e.data<float>()[i]))) {
        if (mismatches++ == 0) first_mismatch = i;
      }
    }
    EXPECT_EQ(mismatches, 0) << expected[k].name << ": first at element " << first_mismatch;
  }
  return {op_counts(first), op_counts(last)};
}

}  // namespace onyx::testing
