// Arena layouts recorded for the input shapes of models with symbolic dimensions.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"

namespace onyx {
namespace {

using testing::make_model;
using testing::make_node;
using testing::tensor_value;

// Neg, Abs, ... over x of shape [N]: ends in |x| for an even length.
Model symbolic_chain(int length) { return testing::neg_abs_chain(length, {-1}); }

std::vector<float> ramp(int64_t count, float start) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = start + static_cast<float>(i);
  return values;
}

void expect_absolute_values(const InferenceSession& session, int64_t count, float start) {
  std::vector<float> x = ramp(count, start);
  auto outputs = session.run({{"x", Tensor::from_vector<float>({count}, x)}});
  ASSERT_EQ(outputs[0].value.tensor().shape(), Shape({count}));
  auto y = outputs[0].value.tensor().values<float>();
  for (int64_t i = 0; i < count; ++i) ASSERT_EQ(y[static_cast<size_t>(i)], std::abs(x[static_cast<size_t>(i)])) << i;
}

TEST(ShapeSpecializedMemory, TheFirstRunRecordsALayoutWithBufferReuse) {
  InferenceSession session(symbolic_chain(10));
  const ShapeSpecializedMemory& layouts = session.plan().memory_layouts();
  EXPECT_EQ(session.plan().memory_plan().planned_value_count(), 0u);  // nothing has a static size
  EXPECT_TRUE(layouts.enabled());
  EXPECT_EQ(layouts.layout_count(), 0u);
  expect_absolute_values(session, 256, -128);
  ASSERT_EQ(layouts.layout_count(), 1u);
  // Nine intermediates of 1 KiB, but only two alive at once: as a static model's plan.
  EXPECT_EQ(layouts.latest()->plan.planned_value_count(), 9u);
  EXPECT_LE(layouts.latest()->plan.arena_bytes(), 2u * 1024u);
  EXPECT_EQ(layouts.latest()->arenas.arenas_made(), 0u);
  for (int run = 0; run < 3; ++run) expect_absolute_values(session, 256, static_cast<float>(-100 * run));
  EXPECT_EQ(layouts.layout_count(), 1u);
  EXPECT_EQ(layouts.latest()->arenas.arenas_made(), 1u);  // the later runs ran in the layout's arena
}

TEST(ShapeSpecializedMemory, EachInputShapeGetsItsOwnLayout) {
  InferenceSession session(symbolic_chain(6));
  for (int round = 0; round < 3; ++round) {
    expect_absolute_values(session, 256, -50);
    expect_absolute_values(session, 4096, -3000);  // larger than the first layout's buffers
    expect_absolute_values(session, 16, -8);
  }
  EXPECT_EQ(session.plan().memory_layouts().layout_count(), 3u);
}

TEST(ShapeSpecializedMemory, StopsRecordingAtTheLimitAndStillRuns) {
  InferenceSession session(symbolic_chain(4));
  const size_t shapes = ShapeSpecializedMemory::kMaxLayouts + 4;
  for (size_t i = 0; i < shapes; ++i) expect_absolute_values(session, static_cast<int64_t>(8 + i), -4);
  EXPECT_EQ(session.plan().memory_layouts().layout_count(), ShapeSpecializedMemory::kMaxLayouts);
  for (size_t i = 0; i < shapes; ++i) expect_absolute_values(session, static_cast<int64_t>(8 + i), -6);
}

// NonZero's output size depends on the data, not on the input shape: a later run whose value
// is larger than the recorded one must not overflow its planned buffer.
TEST(ShapeSpecializedMemory, AValueLargerThanRecordedIsAllocatedApart) {
  Model model = make_model({make_node("NonZero", {"x"}, {"indices"}), make_node("Neg", {"indices"}, {"negated"}),
                            make_node("Neg", {"negated"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {-1})}, {tensor_value("y", DataType::kInt64, {1, -1})});
  InferenceSession session(std::move(model));
  auto run_with_nonzeros = [&](int64_t count, int64_t nonzeros) {
    std::vector<float> x(static_cast<size_t>(count), 0.f);
    for (int64_t i = 0; i < nonzeros; ++i) x[static_cast<size_t>(count - 1 - i)] = 1.f;
    auto outputs = session.run({{"x", Tensor::from_vector<float>({count}, x)}});
    const Tensor& y = outputs[0].value.tensor();
    ASSERT_EQ(y.shape(), Shape({1, nonzeros}));
    auto values = y.values<int64_t>();
    for (int64_t i = 0; i < nonzeros; ++i) ASSERT_EQ(values[static_cast<size_t>(i)], count - nonzeros + i);
  };
  run_with_nonzeros(1000, 3);  // records a 3-element layout
  ASSERT_EQ(session.plan().memory_layouts().layout_count(), 1u);
  run_with_nonzeros(1000, 900);
  run_with_nonzeros(1000, 1);
  run_with_nonzeros(1000, 1000);
}

// Reshape hands back a view of its input, which lies in the arena once a layout serves the run.
// The layout keeps the source's bytes while the view is read: Abs's output may not take them,
// since Add still reads the view afterwards.
TEST(ShapeSpecializedMemory, AViewKeepsItsSourceBytesUntilItsLastReader) {
  Model model = make_model({make_node("Neg", {"x"}, {"a"}), make_node("Reshape", {"a", "flat"}, {"b"}),
                            make_node("Abs", {"b"}, {"c"}), make_node("Add", {"b", "c"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {-1, 4})}, {tensor_value("y", DataType::kFloat, {-1})});
  model.graph.set_initializer("flat", Tensor::from_vector<int64_t>({1}, {-1}));
  InferenceSession session(std::move(model));
  for (int run = 0; run < 4; ++run) {
    std::vector<float> x = ramp(32, static_cast<float>(run * 10 - 20));
    auto outputs = session.run({{"x", Tensor::from_vector<float>({8, 4}, x)}});
    auto y = outputs[0].value.tensor().values<float>();
    ASSERT_EQ(y.size(), x.size());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(y[i], -x[i] + std::abs(x[i])) << "run " << run << " element " << i;
  }
  const auto layout = session.plan().memory_layouts().latest();
  ASSERT_NE(layout, nullptr);
  EXPECT_EQ(layout->plan.planned_value_count(), 2u);        // a and c; b is a's bytes
  EXPECT_GE(layout->plan.arena_bytes(), 2u * 32u * sizeof(float));  // a lives on as b next to c
}

TEST(ShapeSpecializedMemory, ConcurrentRunsOfTwoShapesKeepTheirValues) {
  InferenceSession session(symbolic_chain(8));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int run = 0; run < 50; ++run) {
        const int64_t count = t % 2 ? 1024 : 300;
        const float start = static_cast<float>(-t * 1000 - run);
        std::vector<float> x = ramp(count, start);
        auto outputs = session.run({{"x", Tensor::from_vector<float>({count}, x)}});
        auto y = outputs[0].value.tensor().values<float>();
        for (int64_t i = 0; i < count; ++i) {
          if (y[static_cast<size_t>(i)] != std::abs(x[static_cast<size_t>(i)])) ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(session.plan().memory_layouts().layout_count(), 2u);
}

// A model whose every size is static has nothing to record.
TEST(ShapeSpecializedMemory, StaticModelsRecordNothing) {
  Model model = make_model({make_node("Neg", {"x"}, {"t"}), make_node("Abs", {"t"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {4})}, {tensor_value("y", DataType::kFloat, {4})});
  InferenceSession session(std::move(model));
  EXPECT_FALSE(session.plan().memory_layouts().enabled());
  session.run({{"x", Tensor::from_vector<float>({4}, {1, -2, 3, -4})}});
  EXPECT_EQ(session.plan().memory_layouts().layout_count(), 0u);
}

}  // namespace
}  // namespace onyx
