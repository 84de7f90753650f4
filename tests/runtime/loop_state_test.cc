// Loop and Scan bodies whose outputs alias one another, their inputs or outer values. The body
// frame recycles the buffers of its outputs from one iteration to the next (memory_plan.h): a
// block is written again only once nothing holds it, so each case here would read overwritten
// values if that check were wrong. Expected values are computed with plain C++ loops.
#include <gtest/gtest.h>

#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"

namespace onyx {
namespace {

using testing::make_model;
using testing::make_node;
using testing::tensor_value;

Attribute body_attribute(std::shared_ptr<Graph> body) {
  Attribute attribute;
  attribute.name = "body";
  attribute.kind = Attribute::Kind::kGraph;
  attribute.g = std::move(body);
  return attribute;
}

std::shared_ptr<Graph> make_body(std::vector<Node> nodes, std::vector<ValueInfo> inputs, std::vector<ValueInfo> outputs) {
  auto body = std::make_shared<Graph>();
  body->name = "body";
  body->nodes = std::move(nodes);
  body->inputs = std::move(inputs);
  body->outputs = std::move(outputs);
  return body;
}

std::vector<float> floats(const Value& value) {
  auto span = value.tensor().values<float>();
  return {span.begin(), span.end()};
}

Tensor vec(std::vector<float> values) {
  return Tensor::from_vector<float>({static_cast<int64_t>(values.size())}, values);
}

// Loop inputs (trip, "", a, b) over two float[2] states; the body's inputs are (i, cond, a_in, b_in).
std::vector<ValueInfo> two_state_inputs() {
  return {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
          tensor_value("a_in", DataType::kFloat, {2}), tensor_value("b_in", DataType::kFloat, {2})};
}

Model two_state_loop(std::shared_ptr<Graph> body, std::vector<ValueInfo> extra_outputs = {},
                     std::vector<std::string> extra_output_names = {}) {
  std::vector<std::string> outputs{"a", "b"};
  outputs.insert(outputs.end(), extra_output_names.begin(), extra_output_names.end());
  std::vector<ValueInfo> graph_outputs{tensor_value("a", DataType::kFloat, {2}), tensor_value("b", DataType::kFloat, {2})};
  graph_outputs.insert(graph_outputs.end(), extra_outputs.begin(), extra_outputs.end());
  return make_model({make_node("Loop", {"trip", "", "a0", "b0"}, outputs, {body_attribute(std::move(body))})},
                    {tensor_value("trip", DataType::kInt64, {}), tensor_value("a0", DataType::kFloat, {2}),
                     tensor_value("b0", DataType::kFloat, {2})},
                    graph_outputs);
}

std::vector<NamedValue> run_loop(const InferenceSession& session, int64_t trips, const Tensor& a0, const Tensor& b0) {
  return session.run({{"trip", Tensor::scalar<int64_t>(trips)}, {"a0", a0}, {"b0", b0}});
}

// a passes through untouched, b accumulates it: b = b0 + n a0.
TEST(LoopState, ABodyOutputtingItsInputUnchanged) {
  auto body = make_body({make_node("Add", {"b_in", "a_in"}, {"b_out"})}, two_state_inputs(),
                        {tensor_value("cond", DataType::kBool, {}), tensor_value("a_in", DataType::kFloat, {2}),
                         tensor_value("b_out", DataType::kFloat, {2})});
  InferenceSession session(two_state_loop(body));
  Tensor a0 = vec({1, 2}), b0 = vec({10, 20});
  for (int64_t trips : {0, 1, 2, 7}) {
    auto outputs = run_loop(session, trips, a0, b0);
    EXPECT_EQ(floats(outputs[0].value), std::vector<float>({1, 2})) << trips;
    EXPECT_EQ(floats(outputs[1].value), std::vector<float>({10.0f + trips, 20.0f + 2 * trips})) << trips;
  }
  EXPECT_EQ(floats(a0), std::vector<float>({1, 2}));  // the feeds are never written
  EXPECT_EQ(floats(b0), std::vector<float>({10, 20}));
}

// Both states take the same value t = a + b (once directly, once through Identity's view), so
// from the second iteration on both inputs share one buffer: t doubles each time.
TEST(LoopState, ABodyOutputtingOneValueTwice) {
  for (bool through_identity : {false, true}) {
    std::vector<Node> nodes{make_node("Add", {"a_in", "b_in"}, {"t"})};
    std::string second = "t";
    if (through_identity) {
      nodes.push_back(make_node("Identity", {"t"}, {"t_view"}));
      second = "t_view";
    }
    auto body = make_body(nodes, two_state_inputs(),
                          {tensor_value("cond", DataType::kBool, {}), tensor_value("t", DataType::kFloat, {2}),
                           tensor_value(second, DataType::kFloat, {2})});
    if (!through_identity) body->outputs[2] = body->outputs[1];
    InferenceSession session(two_state_loop(body));
    for (int64_t trips : {1, 2, 5}) {
      auto outputs = run_loop(session, trips, vec({1, 2}), vec({3, 5}));
      std::vector<float> a{1, 2}, b{3, 5};
      for (int64_t k = 0; k < trips; ++k) {
        for (int j = 0; j < 2; ++j) a[j] = b[j] = a[j] + b[j];
      }
      EXPECT_EQ(floats(outputs[0].value), a) << trips << " " << through_identity;
      EXPECT_EQ(floats(outputs[1].value), b) << trips << " " << through_identity;
    }
  }
}

// a becomes the outer value w (a graph input) and b adds a each iteration: after the first
// iteration both read w's buffer, which must never be written.
TEST(LoopState, ABodyReturningAnOuterScopeValue) {
  auto body = make_body({make_node("Add", {"b_in", "a_in"}, {"b_out"}), make_node("Identity", {"w"}, {"w_view"})},
                        two_state_inputs(),
                        {tensor_value("cond", DataType::kBool, {}), tensor_value("w_view", DataType::kFloat, {2}),
                         tensor_value("b_out", DataType::kFloat, {2})});
  Model model = two_state_loop(body);
  model.graph.inputs.push_back(tensor_value("w", DataType::kFloat, {2}));
  InferenceSession session(std::move(model));
  Tensor w = vec({100, 200});
  for (int64_t trips : {1, 4}) {
    auto outputs = session.run({{"trip", Tensor::scalar<int64_t>(trips)}, {"a0", vec({1, 2})},
                                {"b0", vec({0, 0})}, {"w", w}});
    EXPECT_EQ(floats(outputs[0].value), std::vector<float>({100, 200}));
    // b = a0 + (trips - 1) w
    EXPECT_EQ(floats(outputs[1].value), std::vector<float>({1.0f + 100 * (trips - 1), 2.0f + 200 * (trips - 1)}));
  }
  EXPECT_EQ(floats(w), std::vector<float>({100, 200}));
}

// The state is also emitted as a scan output (directly and as Identity's view): every stacked
// row must keep the value of its own iteration though the state moves on.
TEST(LoopState, ScanOutputsKeepEachIterationsValue) {
  auto body = make_body({make_node("Add", {"a_in", "b_in"}, {"a_out"}), make_node("Identity", {"a_out"}, {"a_seen"})},
                        two_state_inputs(),
                        {tensor_value("cond", DataType::kBool, {}), tensor_value("a_out", DataType::kFloat, {2}),
                         tensor_value("b_in", DataType::kFloat, {2}), tensor_value("a_seen", DataType::kFloat, {2}),
                         tensor_value("a_out", DataType::kFloat, {2})});
  InferenceSession session(two_state_loop(body, {tensor_value("seen", DataType::kFloat, {-1, 2}),
                                                 tensor_value("seen_too", DataType::kFloat, {-1, 2})},
                                          {"seen", "seen_too"}));
  auto outputs = run_loop(session, 4, vec({0, 1}), vec({1, 10}));
  std::vector<float> expected;
  for (int k = 1; k <= 4; ++k) expected.insert(expected.end(), {static_cast<float>(k), 1.0f + 10 * k});
  EXPECT_EQ(floats(outputs[0].value), std::vector<float>({4, 41}));
  EXPECT_EQ(floats(outputs[2].value), expected);
  EXPECT_EQ(floats(outputs[3].value), expected);
  EXPECT_EQ(outputs[2].value.tensor().shape(), Shape({4, 2}));

  auto none = run_loop(session, 0, vec({0, 1}), vec({1, 10}));  // zero iterations: the initial state
  EXPECT_EQ(floats(none[0].value), std::vector<float>({0, 1}));
  EXPECT_EQ(floats(none[1].value), std::vector<float>({1, 10}));
  EXPECT_EQ(none[2].value.tensor().shape(), Shape({0, 2}));
}

// The state grows by one element per iteration (Concat of the state and the iteration number),
// so no buffer of an earlier iteration is large enough for the next.
TEST(LoopState, AStateWhoseShapeChangesEveryIteration) {
  auto body = make_body({make_node("Cast", {"i"}, {"i_float"}, {make_attribute("to", static_cast<int64_t>(DataType::kFloat))}),
                         make_node("Unsqueeze", {"i_float", "zero"}, {"i_row"}),
                         make_node("Concat", {"s_in", "i_row"}, {"s_out"}, {make_attribute("axis", int64_t{0})})},
                        {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
                         tensor_value("s_in", DataType::kFloat, {-1})},
                        {tensor_value("cond", DataType::kBool, {}), tensor_value("s_out", DataType::kFloat, {-1})});
  body->set_initializer("zero", Tensor::from_vector<int64_t>({1}, {0}));
  InferenceSession session(make_model({make_node("Loop", {"trip", "", "s0"}, {"s"}, {body_attribute(body)})},
                                      {tensor_value("trip", DataType::kInt64, {}), tensor_value("s0", DataType::kFloat, {1})},
                                      {tensor_value("s", DataType::kFloat, {-1})}));
  auto outputs = session.run({{"trip", Tensor::scalar<int64_t>(6)}, {"s0", vec({-1})}});
  EXPECT_EQ(floats(outputs[0].value), std::vector<float>({-1, 0, 1, 2, 3, 4, 5}));
}

// The state shrinks (drops its first element) and then stays at one element: smaller shapes
// reuse the larger buffers.
TEST(LoopState, AStateThatShrinks) {
  auto body = make_body({make_node("Slice", {"s_in", "one", "end"}, {"tail"}),
                         make_node("Add", {"tail", "tail"}, {"s_out"})},
                        {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
                         tensor_value("s_in", DataType::kFloat, {-1})},
                        {tensor_value("cond", DataType::kBool, {}), tensor_value("s_out", DataType::kFloat, {-1})});
  body->set_initializer("one", Tensor::from_vector<int64_t>({1}, {1}));
  body->set_initializer("end", Tensor::from_vector<int64_t>({1}, {100}));
  // Slice of a one-element state is empty; stop before: five elements, four trips.
  InferenceSession session(make_model({make_node("Loop", {"trip", "", "s0"}, {"s"}, {body_attribute(body)})},
                                      {tensor_value("trip", DataType::kInt64, {}), tensor_value("s0", DataType::kFloat, {5})},
                                      {tensor_value("s", DataType::kFloat, {-1})}));
  auto outputs = session.run({{"trip", Tensor::scalar<int64_t>(4)}, {"s0", vec({1, 2, 3, 4, 5})}});
  EXPECT_EQ(floats(outputs[0].value), std::vector<float>({80}));  // 5 doubled four times
  auto three = session.run({{"trip", Tensor::scalar<int64_t>(3)}, {"s0", vec({1, 2, 3, 4, 5})}});
  EXPECT_EQ(floats(three[0].value), std::vector<float>({32, 40}));
}

// Results handed back by one run stay intact while later runs (and their loops) go on.
TEST(LoopState, ResultsKeptByTheCallerAreNotReused) {
  auto body = make_body({make_node("Add", {"a_in", "b_in"}, {"a_out"})}, two_state_inputs(),
                        {tensor_value("cond", DataType::kBool, {}), tensor_value("a_out", DataType::kFloat, {2}),
                         tensor_value("b_in", DataType::kFloat, {2})});
  InferenceSession session(two_state_loop(body));
  auto first = run_loop(session, 3, vec({0, 0}), vec({1, 2}));
  auto second = run_loop(session, 5, vec({0, 0}), vec({1, 2}));
  EXPECT_EQ(floats(first[0].value), std::vector<float>({3, 6}));
  EXPECT_EQ(floats(second[0].value), std::vector<float>({5, 10}));
}

// A loop inside a loop: the inner Loop's results are the outer body's outputs.
TEST(LoopState, NestedLoops) {
  auto inner = make_body({make_node("Add", {"x_in", "step"}, {"x_out"})},
                         {tensor_value("j", DataType::kInt64, {}), tensor_value("inner_cond", DataType::kBool, {}),
                          tensor_value("x_in", DataType::kFloat, {2})},
                         {tensor_value("inner_cond", DataType::kBool, {}), tensor_value("x_out", DataType::kFloat, {2})});
  // outer: a = inner loop (3 trips) of a += b; b stays.
  auto outer = make_body({make_node("Identity", {"b_in"}, {"step"}),
                          make_node("Loop", {"three", "", "a_in"}, {"a_out"}, {body_attribute(inner)})},
                         two_state_inputs(),
                         {tensor_value("cond", DataType::kBool, {}), tensor_value("a_out", DataType::kFloat, {2}),
                          tensor_value("b_in", DataType::kFloat, {2})});
  outer->set_initializer("three", Tensor::scalar<int64_t>(3));
  InferenceSession session(two_state_loop(outer));
  auto outputs = run_loop(session, 4, vec({0, 1}), vec({1, 2}));
  EXPECT_EQ(floats(outputs[0].value), std::vector<float>({12, 25}));
}

// Scan (opset 9+): the running sum is both the state and the emitted row.
TEST(LoopState, ScanEmittingItsState) {
  auto body = make_body({make_node("Add", {"sum_in", "row"}, {"sum_out"}), make_node("Identity", {"sum_out"}, {"emitted"})},
                        {tensor_value("sum_in", DataType::kFloat, {2}), tensor_value("row", DataType::kFloat, {2})},
                        {tensor_value("sum_out", DataType::kFloat, {2}), tensor_value("emitted", DataType::kFloat, {2})});
  Model model = make_model({make_node("Scan", {"initial", "x"}, {"sum", "sums"},
                                      {body_attribute(body), make_attribute("num_scan_inputs", int64_t{1})})},
                           {tensor_value("initial", DataType::kFloat, {2}), tensor_value("x", DataType::kFloat, {4, 2})},
                           {tensor_value("sum", DataType::kFloat, {2}), tensor_value("sums", DataType::kFloat, {4, 2})});
  InferenceSession session(std::move(model));
  auto outputs = session.run({{"initial", vec({0, 100})},
                              {"x", Tensor::from_vector<float>({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8})}});
  EXPECT_EQ(floats(outputs[0].value), std::vector<float>({16, 120}));
  EXPECT_EQ(floats(outputs[1].value), std::vector<float>({1, 102, 4, 106, 9, 112, 16, 120}));
}

}  // namespace
}  // namespace onyx
