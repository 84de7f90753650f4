// The in-place Loop body (providers/cpu/control_flow/in_place_body.h) against the general body
// plan. Each case builds one Loop twice: with the body's loop-carried and scan values declared
// with static shapes (the body qualifies for the in-place path) and with the loop-carried
// values' shapes left unknown (it does not, so the general path runs). Both must give the same bytes, and plain
// C++ loops give the expected values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "providers/cpu/control_flow/in_place_body.h"
#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"

namespace onyx {
namespace {

using testing::make_model;
using testing::make_node;
using testing::tensor_value;

struct LoopCase {
  std::vector<Node> body_nodes;
  std::vector<ValueInfo> body_inputs;   // iteration number, condition, loop-carried values
  std::vector<ValueInfo> body_outputs;  // condition, loop-carried values, scan outputs
  std::map<std::string, Tensor> body_constants;
  std::vector<std::string> loop_inputs;  // trip count, condition, initial values ("" when omitted)
  std::vector<ValueInfo> feeds;
  std::map<std::string, Tensor> outer_constants;
};

// Values [first, end) with their shapes dropped.
std::vector<ValueInfo> without_shapes(std::vector<ValueInfo> values, size_t first, size_t end) {
  for (size_t i = first; i < end; ++i) values[i].type.shape.reset();
  return values;
}

Model build(const LoopCase& loop, bool static_shapes) {
  auto body = std::make_shared<Graph>();
  body->name = "body";
  body->nodes = loop.body_nodes;
  // Only the loop-carried values lose their shapes: a Loop that runs no iteration shapes its
  // empty scan outputs by the body's declared ones, on either path.
  const size_t carried = loop.body_inputs.size() - 2;
  body->inputs = static_shapes ? loop.body_inputs : without_shapes(loop.body_inputs, 2, 2 + carried);
  body->outputs = static_shapes ? loop.body_outputs : without_shapes(loop.body_outputs, 1, 1 + carried);
  for (const auto& [name, tensor] : loop.body_constants) body->set_initializer(name, tensor);
  Attribute attribute;
  attribute.name = "body";
  attribute.kind = Attribute::Kind::kGraph;
  attribute.g = body;
  std::vector<std::string> outputs;
  std::vector<ValueInfo> graph_outputs;
  for (size_t i = 1; i < loop.body_outputs.size(); ++i) {
    outputs.push_back("out_" + std::to_string(i));
    graph_outputs.push_back({outputs.back(), TypeInfo::tensor(loop.body_outputs[i].type.elem_type), ""});
  }
  Model model = make_model({make_node("Loop", loop.loop_inputs, outputs, {attribute})}, loop.feeds, graph_outputs);
  for (const auto& [name, tensor] : loop.outer_constants) model.graph.set_initializer(name, tensor);
  return model;
}

void expect_same_bytes(const Tensor& in_place, const Tensor& general, const std::string& what) {
  ASSERT_EQ(in_place.dtype(), general.dtype()) << what;
  ASSERT_EQ(in_place.shape(), general.shape()) << what;
  ASSERT_EQ(in_place.byte_size(), general.byte_size()) << what;
  EXPECT_EQ(std::memcmp(in_place.raw_data(), general.raw_data(), in_place.byte_size()), 0) << what;
}

// Runs `loop` on `feeds` both ways; checks they agree and that the in-place path ran (once)
// only for the static-shape body. Returns the in-place outputs.
std::vector<Tensor> run_both(const LoopCase& loop, const std::map<std::string, Value>& feeds) {
  InferenceSession in_place(build(loop, true));
  InferenceSession general(build(loop, false));
  int64_t before = InPlaceLoopBody::runs();
  auto general_outputs = general.run(feeds);
  EXPECT_EQ(InPlaceLoopBody::runs(), before) << "the general path ran in place";
  auto in_place_outputs = in_place.run(feeds);
  EXPECT_EQ(InPlaceLoopBody::runs(), before + 1) << "the static-shape body did not run in place";
  std::vector<Tensor> results;
  for (size_t i = 0; i < in_place_outputs.size(); ++i) {
    expect_same_bytes(in_place_outputs[i].value.tensor(), general_outputs[i].value.tensor(), in_place_outputs[i].name);
    results.push_back(in_place_outputs[i].value.tensor());
  }
  return results;
}

template <typename T>
std::vector<T> elements(const Tensor& tensor) {
  auto span = tensor.values<T>();
  return {span.begin(), span.end()};
}

Value trips(int64_t n) { return Tensor::scalar<int64_t>(n); }

// The eager seed's traced sum: s = s + i on an int64 scalar, the condition passed through;
// the model's initial s declared with `s0_dims`.
LoopCase scalar_sum_loop(std::vector<int64_t> s0_dims) {
  LoopCase loop;
  loop.body_nodes = {make_node("Add", {"s_in", "i"}, {"s_out"})};
  loop.body_inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
                      tensor_value("s_in", DataType::kInt64, {})};
  loop.body_outputs = {tensor_value("cond", DataType::kBool, {}), tensor_value("s_out", DataType::kInt64, {})};
  loop.loop_inputs = {"trips", "", "s0"};
  loop.feeds = {tensor_value("trips", DataType::kInt64, {}), tensor_value("s0", DataType::kInt64, std::move(s0_dims))};
  return loop;
}

TEST(LoopInPlace, Int64SumWithTheConditionPassedThrough) {
  LoopCase loop = scalar_sum_loop({});
  for (int64_t n : {0, 1, 2, 1000}) {
    auto outputs = run_both(loop, {{"trips", trips(n)}, {"s0", Tensor::scalar<int64_t>(5)}});
    EXPECT_EQ(elements<int64_t>(outputs[0]), std::vector<int64_t>{5 + n * (n - 1) / 2}) << n;
  }
}

// int32 state through Cast, Mul (by a body constant), Sub and Div (by an outer constant), with
// scan outputs of the state and of the cast iteration number.
TEST(LoopInPlace, Int32StateWithCastConstantsAndScans) {
  LoopCase loop;
  loop.body_nodes = {make_node("Cast", {"i"}, {"ci"}, {make_attribute("to", static_cast<int64_t>(DataType::kInt32))}),
                     make_node("Mul", {"x_in", "three"}, {"t"}), make_node("Sub", {"t", "ci"}, {"u"}),
                     make_node("Div", {"u", "two"}, {"x_out"})};
  loop.body_inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
                      tensor_value("x_in", DataType::kInt32, {})};
  loop.body_outputs = {tensor_value("cond", DataType::kBool, {}), tensor_value("x_out", DataType::kInt32, {}),
                       tensor_value("x_out", DataType::kInt32, {}), tensor_value("ci", DataType::kInt32, {})};
  loop.body_constants = {{"three", Tensor::scalar<int32_t>(3)}};
  loop.outer_constants = {{"two", Tensor::scalar<int32_t>(2)}};
  loop.loop_inputs = {"trips", "", "x0"};
  loop.feeds = {tensor_value("trips", DataType::kInt64, {}), tensor_value("x0", DataType::kInt32, {})};
  for (int64_t n : {0, 1, 30}) {
    auto outputs = run_both(loop, {{"trips", trips(n)}, {"x0", Tensor::scalar<int32_t>(7)}});
    int32_t x = 7;
    std::vector<int32_t> xs, is;
    for (int32_t i = 0; i < n; ++i) {
      x = (x * 3 - i) / 2;
      xs.push_back(x);
      is.push_back(i);
    }
    EXPECT_EQ(elements<int32_t>(outputs[0]), std::vector<int32_t>{x}) << n;
    EXPECT_EQ(outputs[1].shape(), Shape({n})) << n;
    EXPECT_EQ(elements<int32_t>(outputs[1]), xs) << n;
    EXPECT_EQ(elements<int32_t>(outputs[2]), is) << n;
  }
}

// A float[4] state v = v * c + w (c a body constant, w an outer feed), with scan outputs of the
// state before the update (an Identity: an output aliasing an input) and after it.
TEST(LoopInPlace, FloatTensorStateWithAnAliasedScanOutput) {
  LoopCase loop;
  loop.body_nodes = {make_node("Mul", {"v_in", "c"}, {"scaled"}), make_node("Add", {"scaled", "w"}, {"v_out"}),
                     make_node("Identity", {"v_in"}, {"v_before"})};
  loop.body_inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
                      tensor_value("v_in", DataType::kFloat, {4})};
  loop.body_outputs = {tensor_value("cond", DataType::kBool, {}), tensor_value("v_out", DataType::kFloat, {4}),
                       tensor_value("v_before", DataType::kFloat, {4}), tensor_value("v_out", DataType::kFloat, {4})};
  loop.body_constants = {{"c", Tensor::from_vector<float>({4}, {0.5f, -1.0f, 0.999f, 1.25f})}};
  loop.loop_inputs = {"trips", "", "v0"};
  loop.feeds = {tensor_value("trips", DataType::kInt64, {}), tensor_value("v0", DataType::kFloat, {4}),
                tensor_value("w", DataType::kFloat, {4})};
  const std::vector<float> c{0.5f, -1.0f, 0.999f, 1.25f}, w{1.0f, 0.25f, 1e-4f, -3.0f}, v0{2.0f, 3.0f, 4.0f, 5.0f};
  for (int64_t n : {0, 3, 17}) {
    auto outputs = run_both(loop, {{"trips", trips(n)}, {"v0", Tensor::from_vector<float>({4}, v0)},
                                   {"w", Tensor::from_vector<float>({4}, w)}});
    std::vector<float> v = v0, before, after;
    for (int64_t i = 0; i < n; ++i) {
      before.insert(before.end(), v.begin(), v.end());
      for (size_t j = 0; j < 4; ++j) {
        volatile float scaled = v[j] * c[j];  // rounded like the Mul node's output, not fused into the Add
        v[j] = scaled + w[j];
      }
      after.insert(after.end(), v.begin(), v.end());
    }
    EXPECT_EQ(elements<float>(outputs[0]), v) << n;
    EXPECT_EQ(outputs[1].shape(), Shape({n, 4})) << n;
    EXPECT_EQ(elements<float>(outputs[1]), before) << n;
    EXPECT_EQ(elements<float>(outputs[2]), after) << n;
  }
}

LoopCase early_exit_loop(const std::string& trip_input) {
  LoopCase loop;
  loop.body_nodes = {make_node("Add", {"s_in", "i"}, {"s_out"}), make_node("Less", {"s_out", "limit"}, {"go_on"})};
  loop.body_inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
                      tensor_value("s_in", DataType::kInt64, {})};
  loop.body_outputs = {tensor_value("go_on", DataType::kBool, {}), tensor_value("s_out", DataType::kInt64, {}),
                       tensor_value("s_out", DataType::kInt64, {}), tensor_value("i", DataType::kInt64, {})};
  loop.outer_constants = {{"limit", Tensor::scalar<int64_t>(50)}};
  loop.loop_inputs = {trip_input, "keep_going", "s0"};
  loop.feeds = {tensor_value("keep_going", DataType::kBool, {}), tensor_value("s0", DataType::kInt64, {})};
  if (!trip_input.empty()) loop.feeds.push_back(tensor_value(trip_input, DataType::kInt64, {}));
  return loop;
}

// The condition computed by the body stops the loop: s = 0 + 0 + 1 + ... until s >= 50 (after
// i = 10: s = 55), with scans of s and of the iteration number itself.
TEST(LoopInPlace, EarlyExitThroughTheCondition) {
  for (const std::string& trip_input : {std::string("trips"), std::string("")}) {
    LoopCase loop = early_exit_loop(trip_input);
    std::map<std::string, Value> feeds{{"keep_going", Tensor::scalar<bool>(true)}, {"s0", Tensor::scalar<int64_t>(0)}};
    if (!trip_input.empty()) feeds["trips"] = trips(1000);
    auto outputs = run_both(loop, feeds);
    EXPECT_EQ(elements<int64_t>(outputs[0]), std::vector<int64_t>{55}) << trip_input;
    EXPECT_EQ(elements<int64_t>(outputs[1]), std::vector<int64_t>({0, 1, 3, 6, 10, 15, 21, 28, 36, 45, 55}));
    EXPECT_EQ(elements<int64_t>(outputs[2]), std::vector<int64_t>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  }
  // The trip count stops it first.
  LoopCase loop = early_exit_loop("trips");
  auto outputs = run_both(loop, {{"keep_going", Tensor::scalar<bool>(true)}, {"s0", Tensor::scalar<int64_t>(0)},
                                 {"trips", trips(4)}});
  EXPECT_EQ(elements<int64_t>(outputs[0]), std::vector<int64_t>{6});
}

// A false condition from the start runs no iteration: the initial state comes back and the scan
// outputs are empty, shaped like the body declares them.
TEST(LoopInPlace, NoIterationWhenTheConditionStartsFalse) {
  LoopCase loop = early_exit_loop("trips");
  auto outputs = run_both(loop, {{"keep_going", Tensor::scalar<bool>(false)}, {"s0", Tensor::scalar<int64_t>(9)},
                                 {"trips", trips(1000)}});
  EXPECT_EQ(elements<int64_t>(outputs[0]), std::vector<int64_t>{9});
  EXPECT_EQ(outputs[1].shape(), Shape({0}));
  EXPECT_EQ(outputs[2].shape(), Shape({0}));
}

// bool state, a = b with no node between (an output that is another loop-carried input) and
// b = a xor not b, a scan of Equal(a, b), an int64 state set to a body constant each iteration,
// and two int32 states swapped (each output the other's input: staged, or the second copy would
// read what the first wrote).
TEST(LoopInPlace, BoolStatesSwappedAndAConstantOutput) {
  LoopCase loop;
  loop.body_nodes = {make_node("Not", {"b_in"}, {"not_b"}), make_node("Xor", {"a_in", "not_b"}, {"b_out"}),
                     make_node("Equal", {"a_in", "b_in"}, {"same"}),
                     make_node("And", {"a_in", "b_in"}, {"both"})};
  loop.body_inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
                      tensor_value("a_in", DataType::kBool, {2}), tensor_value("b_in", DataType::kBool, {2}),
                      tensor_value("n_in", DataType::kInt64, {}), tensor_value("p_in", DataType::kInt32, {}),
                      tensor_value("q_in", DataType::kInt32, {})};
  loop.body_outputs = {tensor_value("cond", DataType::kBool, {}),  tensor_value("b_in", DataType::kBool, {2}),
                       tensor_value("b_out", DataType::kBool, {2}), tensor_value("seven", DataType::kInt64, {}),
                       tensor_value("q_in", DataType::kInt32, {}), tensor_value("p_in", DataType::kInt32, {}),
                       tensor_value("same", DataType::kBool, {2}), tensor_value("both", DataType::kBool, {2})};
  loop.body_constants = {{"seven", Tensor::scalar<int64_t>(7)}};
  loop.loop_inputs = {"trips", "", "a0", "b0", "n0", "p0", "q0"};
  loop.feeds = {tensor_value("trips", DataType::kInt64, {}), tensor_value("a0", DataType::kBool, {2}),
                tensor_value("b0", DataType::kBool, {2}), tensor_value("n0", DataType::kInt64, {}),
                tensor_value("p0", DataType::kInt32, {}), tensor_value("q0", DataType::kInt32, {})};
  for (int64_t n : {0, 1, 2, 9}) {
    auto bools = [](bool x, bool y) { return Tensor::from_vector<bool>({2}, {x, y}); };
    auto outputs = run_both(loop, {{"trips", trips(n)}, {"a0", bools(true, false)}, {"b0", bools(true, true)},
                                   {"n0", Tensor::scalar<int64_t>(-1)}, {"p0", Tensor::scalar<int32_t>(1)},
                                   {"q0", Tensor::scalar<int32_t>(2)}});
    std::vector<bool> a{true, false}, b{true, true}, same, both;
    for (int64_t i = 0; i < n; ++i) {
      std::vector<bool> next_b(2);
      for (size_t j = 0; j < 2; ++j) {
        same.push_back(a[j] == b[j]);
        both.push_back(a[j] && b[j]);
        next_b[j] = a[j] != !b[j];
      }
      a = b;
      b = next_b;
    }
    EXPECT_EQ(elements<bool>(outputs[0]), a) << n;
    EXPECT_EQ(elements<bool>(outputs[1]), b) << n;
    EXPECT_EQ(elements<int64_t>(outputs[2]), std::vector<int64_t>{n == 0 ? -1 : 7}) << n;
    EXPECT_EQ(elements<int32_t>(outputs[3]), std::vector<int32_t>{n % 2 ? 2 : 1}) << n;
    EXPECT_EQ(elements<int32_t>(outputs[4]), std::vector<int32_t>{n % 2 ? 1 : 2}) << n;
    EXPECT_EQ(elements<bool>(outputs[5]), same) << n;
    EXPECT_EQ(elements<bool>(outputs[6]), both) << n;
  }
}

// Clip (bounds shape nothing), Where (broadcasts three inputs, takes the second's type),
// Neg and CastLike (the iteration number as the state's type) on a float[3] state:
// x = where(c > 0, c, -c) with c = clip(1.5 x - i, -4, 4).
TEST(LoopInPlace, ClipWhereAndCastLike) {
  LoopCase loop;
  loop.body_nodes = {make_node("CastLike", {"i", "x_in"}, {"fi"}), make_node("Mul", {"x_in", "factor"}, {"scaled"}),
                     make_node("Sub", {"scaled", "fi"}, {"shifted"}), make_node("Clip", {"shifted", "low", "high"}, {"c"}),
                     make_node("Greater", {"c", "zero"}, {"positive"}), make_node("Neg", {"c"}, {"minus_c"}),
                     make_node("Where", {"positive", "c", "minus_c"}, {"x_out"})};
  loop.body_inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
                      tensor_value("x_in", DataType::kFloat, {3})};
  loop.body_outputs = {tensor_value("cond", DataType::kBool, {}), tensor_value("x_out", DataType::kFloat, {3}),
                       tensor_value("fi", DataType::kFloat, {})};
  loop.body_constants = {{"factor", Tensor::scalar<float>(1.5f)}, {"low", Tensor::scalar<float>(-4.0f)},
                         {"high", Tensor::scalar<float>(4.0f)}, {"zero", Tensor::scalar<float>(0.0f)}};
  loop.loop_inputs = {"trips", "", "x0"};
  loop.feeds = {tensor_value("trips", DataType::kInt64, {}), tensor_value("x0", DataType::kFloat, {3})};
  const std::vector<float> x0{0.5f, -3.0f, 2.25f};
  for (int64_t n : {0, 1, 12}) {
    auto outputs = run_both(loop, {{"trips", trips(n)}, {"x0", Tensor::from_vector<float>({3}, x0)}});
    std::vector<float> x = x0, is;
    for (int64_t i = 0; i < n; ++i) {
      for (float& v : x) {
        volatile float scaled = v * 1.5f;
        float c = std::min(std::max(scaled - static_cast<float>(i), -4.0f), 4.0f);
        v = c > 0 ? c : -c;
      }
      is.push_back(static_cast<float>(i));
    }
    EXPECT_EQ(elements<float>(outputs[0]), x) << n;
    EXPECT_EQ(elements<float>(outputs[1]), is) << n;
  }
}

// Ops outside the elementwise set (here ReduceSum) leave the body to the general path, whose
// output shapes come from the kernels rather than from type inference.
TEST(LoopInPlace, ABodyWithAReductionTakesTheGeneralPath) {
  LoopCase loop;
  loop.body_nodes = {make_node("ReduceSum", {"v"}, {"total"}), make_node("Add", {"s_in", "total"}, {"s_out"})};
  loop.body_inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond", DataType::kBool, {}),
                      tensor_value("s_in", DataType::kFloat, {1})};
  loop.body_outputs = {tensor_value("cond", DataType::kBool, {}), tensor_value("s_out", DataType::kFloat, {1})};
  loop.outer_constants = {{"v", Tensor::from_vector<float>({3}, {1.0f, 2.0f, 4.0f})}};
  loop.loop_inputs = {"trips", "", "s0"};
  loop.feeds = {tensor_value("trips", DataType::kInt64, {}), tensor_value("s0", DataType::kFloat, {1})};
  InferenceSession session(build(loop, true));
  int64_t before = InPlaceLoopBody::runs();
  auto outputs = session.run({{"trips", trips(5)}, {"s0", Tensor::from_vector<float>({1}, {0.5f})}});
  EXPECT_EQ(InPlaceLoopBody::runs(), before);
  EXPECT_EQ(elements<float>(outputs[0].value.tensor()), std::vector<float>{35.5f});
}

// Initial values other than the body declares (here: a feed of another shape than the body's
// input) are not the in-place path's: the general path runs and says what is wrong, or works.
TEST(LoopInPlace, InitialValuesOfAnotherShapeTakeTheGeneralPath) {
  LoopCase loop = scalar_sum_loop({-1});
  InferenceSession session(build(loop, true));
  int64_t before = InPlaceLoopBody::runs();
  auto outputs = session.run({{"trips", trips(3)}, {"s0", Tensor::from_vector<int64_t>({2}, {10, 20})}});
  EXPECT_EQ(InPlaceLoopBody::runs(), before);
  EXPECT_EQ(elements<int64_t>(outputs[0].value.tensor()), std::vector<int64_t>({13, 23}));
}

}  // namespace
}  // namespace onyx
