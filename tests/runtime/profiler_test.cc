// The session profiler (runtime/session/profiler.h): every node of every run once, with a
// positive duration, Loop iterations as spans inside the Loop's span and the body's nodes inside
// those; session creation phases; end_profiling writes the file atomically and only once.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "runtime/common/error.h"
#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"

namespace onyx {
namespace {

using testing::make_model;
using testing::make_node;
using testing::tensor_value;

// x -> Add(x, x) -> Loop(trip) { s * s } -> Relu -> y, on float[2].
Model loop_model() {
  auto body = std::make_shared<Graph>();
  body->name = "body";
  body->nodes = {make_node("Identity", {"cond"}, {"cond_out"}, {}, "keep_going"),
                 make_node("Mul", {"s_in", "s_in"}, {"s_out"}, {}, "square")};
  body->inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
                  tensor_value("s_in", DataType::kFloat, {2})};
  body->outputs = {tensor_value("cond_out", DataType::kBool, {}), tensor_value("s_out", DataType::kFloat, {2})};
  Attribute attribute;
  attribute.name = "body";
  attribute.kind = Attribute::Kind::kGraph;
  attribute.g = body;
  return make_model({make_node("Add", {"x", "x"}, {"doubled"}, {}, "double"),
                     make_node("Loop", {"trip", "", "doubled"}, {"looped"}, {attribute}, "repeat"),
                     make_node("Relu", {"looped"}, {"y"}, {}, "relu")},
                    {tensor_value("x", DataType::kFloat, {2}), tensor_value("trip", DataType::kInt64, {})},
                    {tensor_value("y", DataType::kFloat, {2})});
}

std::map<std::string, Value> loop_feeds(int64_t trips) {
  return {{"x", Value(Tensor::from_vector<float>({2}, {0.5f, 1.0f}))},
          {"trip", Value(Tensor::from_vector<int64_t>({}, {trips}))}};
}

bool inside(const TraceEvent& inner, const TraceEvent& outer) {
  return inner.thread == outer.thread && inner.start_ns >= outer.start_ns &&
         inner.start_ns + inner.duration_ns <= outer.start_ns + outer.duration_ns;
}

std::vector<TraceEvent> named(const std::vector<TraceEvent>& events, const std::string& name) {
  std::vector<TraceEvent> out;
  for (const TraceEvent& event : events) {
    if (event.name == name) out.push_back(event);
  }
  return out;
}

TEST(Profiler, RecordsEveryNodeOncePerRunAndNestsLoopIterations) {
  SessionOptions options;
  options.enable_profiling = true;
  InferenceSession session(loop_model(), options);
  const int runs = 2;
  const int64_t trips = 3;
  for (int run = 0; run < runs; ++run) {
    auto outputs = session.run(loop_feeds(trips));
    EXPECT_FLOAT_EQ(outputs[0].value.tensor().values<float>()[0], 1.0f);  // (0.5 * 2)^8
  }
  ASSERT_NE(session.profiler(), nullptr);
  const std::vector<TraceEvent> events = session.profiler()->events();
  for (const char* node : {"double", "repeat", "relu"}) {
    const auto spans = named(events, node);
    ASSERT_EQ(spans.size(), static_cast<size_t>(runs)) << node;
    for (const TraceEvent& span : spans) {
      EXPECT_GT(span.duration_ns, 0) << node;
      EXPECT_EQ(span.depth, 0);
      EXPECT_EQ(span.category, "Node");
      EXPECT_FALSE(trace_arg_text(span, "provider").empty());
      EXPECT_EQ(trace_arg_text(span, "input_shapes").front(), '[');
    }
  }
  const auto loops = named(events, "repeat");
  const auto squares = named(events, "square");
  ASSERT_EQ(squares.size(), static_cast<size_t>(runs * trips));
  for (int64_t iteration = 0; iteration < trips; ++iteration) {
    const auto spans = named(events, "repeat iteration " + std::to_string(iteration));
    ASSERT_EQ(spans.size(), static_cast<size_t>(runs));
    for (const TraceEvent& span : spans) {
      EXPECT_EQ(span.category, "Subgraph");
      EXPECT_EQ(span.depth, 1);
      EXPECT_TRUE(inside(span, loops[0]) || inside(span, loops[1]));
    }
  }
  for (const TraceEvent& square : squares) {
    EXPECT_EQ(square.depth, 1);
    EXPECT_EQ(trace_arg_text(square, "parent"), "repeat");
    bool in_an_iteration = false;
    for (const TraceEvent& event : events) in_an_iteration = in_an_iteration || (event.category == "Subgraph" && inside(square, event));
    EXPECT_TRUE(in_an_iteration);
  }
  for (const char* phase : {"session creation", "optimize", "plan", "placement", "create kernel repeat"}) {
    EXPECT_FALSE(named(events, phase).empty()) << phase;
  }
  EXPECT_EQ(named(events, "run").size(), static_cast<size_t>(runs));
}

TEST(Profiler, EndProfilingWritesOnceAndStops) {
  const auto folder = std::filesystem::temp_directory_path() / ("onyx_profiler_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  SessionOptions options;
  options.enable_profiling = true;
  options.profile_file = folder / "trace.json";
  InferenceSession session(loop_model(), options);
  session.run(loop_feeds(2));
  EXPECT_EQ(session.end_profiling(), folder / "trace.json");
  EXPECT_EQ(session.profiler(), nullptr);
  EXPECT_TRUE(session.end_profiling().empty());
  std::ifstream file(folder / "trace.json");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.rfind("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", 0), 0u);
  EXPECT_NE(text.find("\"name\":\"square\""), std::string::npos);
  size_t leftovers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) leftovers += entry.path().filename() != "trace.json";
  EXPECT_EQ(leftovers, 0u);  // no temporary file left behind
  std::filesystem::remove_all(folder);
}

TEST(Profiler, AMissingFolderFailsWithItsName) {
  SessionOptions options;
  options.enable_profiling = true;
  options.profile_file = "/nonexistent_onyx_folder/trace.json";
  InferenceSession session(loop_model(), options);
  session.run(loop_feeds(1));
  try {
    session.end_profiling();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'/nonexistent_onyx_folder' does not exist"), std::string::npos) << error.what();
  }
}

TEST(Profiler, OffMeansNoProfiler) {
  InferenceSession session(loop_model());
  session.run(loop_feeds(2));
  EXPECT_EQ(session.profiler(), nullptr);
  EXPECT_TRUE(session.end_profiling().empty());
}

}  // namespace
}  // namespace onyx
