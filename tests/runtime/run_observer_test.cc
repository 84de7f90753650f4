// RunObserver (runtime/session/execution_plan.h): a run tells its observer of each output as
// soon as the step making it has run, before the later steps, and calls it between steps.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"

namespace onyx {
namespace {

using testing::make_model;
using testing::make_node;
using testing::tensor_value;

// early = Neg(x) is an output made by the first node; late = Abs(Neg(Abs(early))) by the last;
// x itself is also an output (no step makes it).
Model early_and_late_outputs() {
  return make_model({make_node("Neg", {"x"}, {"early"}), make_node("Abs", {"early"}, {"a"}),
                     make_node("Neg", {"a"}, {"b"}), make_node("Abs", {"b"}, {"late"})},
                    {tensor_value("x", DataType::kFloat, {2})},
                    {tensor_value("late", DataType::kFloat, {2}), tensor_value("early", DataType::kFloat, {2}),
                     tensor_value("x", DataType::kFloat, {2})});
}

struct Recorder final : RunObserver {
  std::vector<std::string> events;
  std::vector<float> early_first_value;
  void output_ready(size_t index, const Value& value) override {
    events.push_back("ready " + std::to_string(index));
    if (index == 1) early_first_value.push_back(value.tensor().data<float>()[0]);
  }
  void after_step() override { events.push_back("step"); }
};

TEST(RunObserver, HearsOfEachOutputWhenItsProducerHasRun) {
  SessionOptions options;
  options.optimization_level = 0;
  InferenceSession session(early_and_late_outputs(), options);
  const ExecutionPlan& plan = session.plan();
  ASSERT_EQ(plan.steps().size(), 4u);
  EXPECT_EQ(plan.output_ready_step(0), 3u);
  EXPECT_EQ(plan.output_ready_step(1), 0u);
  EXPECT_EQ(plan.output_ready_step(2), 4u);  // a feed passed through: after the last step

  Recorder recorder;
  RunOptions run_options;
  run_options.observer = &recorder;
  std::vector<NamedValue> outputs =
      session.run({{"x", Tensor::from_vector<float>({2}, {1.5f, -2.0f})}}, run_options);
  EXPECT_EQ(recorder.events, (std::vector<std::string>{"ready 1", "step", "step", "step", "ready 0", "step",
                                                       "ready 2"}));
  ASSERT_EQ(recorder.early_first_value.size(), 1u);
  EXPECT_EQ(recorder.early_first_value[0], -1.5f);
  EXPECT_EQ(outputs[1].value.tensor().data<float>()[0], -1.5f);
  EXPECT_EQ(outputs[0].value.tensor().data<float>()[1], 2.0f);

  // Without an observer the same plan runs as before.
  outputs = session.run({{"x", Tensor::from_vector<float>({2}, {3.0f, 4.0f})}});
  EXPECT_EQ(outputs[0].value.tensor().data<float>()[0], 3.0f);
  EXPECT_EQ(recorder.events.size(), 7u);
}

TEST(RunObserver, AnObserverErrorEndsTheRun) {
  struct Throwing final : RunObserver {
    void output_ready(size_t, const Value&) override { throw Error(ErrorCode::kRuntimeFailure, "observer says no"); }
  } throwing;
  InferenceSession session(early_and_late_outputs());
  RunOptions run_options;
  run_options.observer = &throwing;
  EXPECT_THROW(session.run({{"x", Tensor::from_vector<float>({2}, {1, 2})}}, run_options), Error);
  // The session still runs (the frame the run threw in was dropped).
  EXPECT_EQ(session.run({{"x", Tensor::from_vector<float>({2}, {1, 2})}})[0].value.tensor().data<float>()[0], 1.0f);
}

}  // namespace
}  // namespace onyx
