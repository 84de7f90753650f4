// Control-flow cost, as ns_per_iteration: a Loop whose body is one Add on an int64 scalar (the
// eager seed's traced sum) or on 4 floats, run for N iterations. The time per iteration is the
// Loop's overhead plus one tiny kernel. Both bodies run in place (in_place_body.h: fixed
// buffers, the state copied back between iterations); BM_Loop_ScalarSum_GeneralPlan runs the
// sum through the general body plan (frame reused, state alternating between two buffers).
#include <benchmark/benchmark.h>

#include "runtime/ir/attribute_builders.h"
#include "runtime/session/inference_session.h"

namespace onyx {
namespace {

// Loop(trips, "", initial) -> final, running `body`.
Node loop_node(const std::string& initial, const std::string& final_value, std::shared_ptr<Graph> body) {
  Node loop;
  loop.name = "loop";
  loop.op_type = "Loop";
  loop.inputs = {"trips", "", initial};
  loop.outputs = {final_value};
  Attribute body_attribute;
  body_attribute.name = "body";
  body_attribute.kind = Attribute::Kind::kGraph;
  body_attribute.g = std::move(body);
  loop.attributes = {body_attribute};
  return loop;
}

Model loop_model() {
  auto body = std::make_shared<Graph>();
  body->name = "body";
  body->inputs = {{"iteration", TypeInfo::tensor_of_shape(DataType::kInt64, {}), ""},
                  {"cond_in", TypeInfo::tensor_of_shape(DataType::kBool, {}), ""},
                  {"x_in", TypeInfo::tensor_of_shape(DataType::kFloat, {4}), ""}};
  body->outputs = {{"cond_out", TypeInfo::tensor_of_shape(DataType::kBool, {}), ""},
                   {"x_out", TypeInfo::tensor_of_shape(DataType::kFloat, {4}), ""}};
  Node add;
  add.name = "add";
  add.op_type = "Add";
  add.inputs = {"x_in", "one"};  // "one" comes from the outer graph
  add.outputs = {"x_out"};
  Node pass;
  pass.name = "pass";
  pass.op_type = "Identity";
  pass.inputs = {"cond_in"};
  pass.outputs = {"cond_out"};
  body->nodes = {add, pass};

  Model model;
  model.ir_version = 8;
  model.opsets[""] = 17;
  Graph& graph = model.graph;
  graph.name = "loop";
  graph.inputs = {{"trips", TypeInfo::tensor_of_shape(DataType::kInt64, {}), ""},
                  {"x0", TypeInfo::tensor_of_shape(DataType::kFloat, {4}), ""}};
  graph.outputs = {{"x", TypeInfo::tensor_of_shape(DataType::kFloat, {4}), ""}};
  graph.set_initializer("one", Tensor::from_vector<float>({4}, {1, 1, 1, 1}));
  graph.nodes = {loop_node("x0", "x", body)};
  return model;
}

// The eager seed's traced sum: s = s + i on an int64 scalar, the condition passed through
// (the body's condition output is its condition input, as for_range traces it). With
// `static_state` false the state's shape is left undeclared, so the body does not qualify for
// the in-place path (in_place_body.h) and the general body plan runs.
Model scalar_sum_model(bool static_state = true) {
  auto body = std::make_shared<Graph>();
  body->name = "body";
  TypeInfo state = static_state ? TypeInfo::tensor_of_shape(DataType::kInt64, {}) : TypeInfo::tensor(DataType::kInt64);
  body->inputs = {{"iteration", TypeInfo::tensor_of_shape(DataType::kInt64, {}), ""},
                  {"cond", TypeInfo::tensor_of_shape(DataType::kBool, {}), ""},
                  {"s_in", state, ""}};
  body->outputs = {{"cond", TypeInfo::tensor_of_shape(DataType::kBool, {}), ""}, {"s_out", state, ""}};
  Node add;
  add.name = "add";
  add.op_type = "Add";
  add.inputs = {"s_in", "iteration"};
  add.outputs = {"s_out"};
  body->nodes = {add};

  Model model;
  model.ir_version = 8;
  model.opsets[""] = 17;
  Graph& graph = model.graph;
  graph.name = "sum";
  graph.inputs = {{"trips", TypeInfo::tensor_of_shape(DataType::kInt64, {}), ""}};
  graph.outputs = {{"s", TypeInfo::tensor_of_shape(DataType::kInt64, {}), ""}};
  graph.set_initializer("zero", Tensor::scalar<int64_t>(0));
  graph.nodes = {loop_node("zero", "s", body)};
  return model;
}

void run_scalar_sum(benchmark::State& state, bool static_state) {
  const int64_t trips = state.range(0);
  SessionOptions options;
  options.intra_op_threads = 1;
  InferenceSession session(scalar_sum_model(static_state), options);
  std::map<std::string, Value> feeds{{"trips", Tensor::scalar<int64_t>(trips)}};
  for (auto _ : state) {
    auto outputs = session.run(feeds);
    benchmark::DoNotOptimize(outputs);
  }
  auto sum = session.run(feeds)[0].value.tensor().values<int64_t>()[0];
  if (sum != trips * (trips - 1) / 2) state.SkipWithError("wrong sum");
  state.counters["ns_per_iteration"] = benchmark::Counter(
      static_cast<double>(trips) * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
void BM_Loop_ScalarSum(benchmark::State& state) { run_scalar_sum(state, true); }
BENCHMARK(BM_Loop_ScalarSum)->ArgName("trips")->Arg(1000)->Arg(100000);
void BM_Loop_ScalarSum_GeneralPlan(benchmark::State& state) { run_scalar_sum(state, false); }
BENCHMARK(BM_Loop_ScalarSum_GeneralPlan)->ArgName("trips")->Arg(1000)->Arg(100000);

void BM_Loop_PerIteration(benchmark::State& state) {
  const int64_t trips = state.range(0);
  SessionOptions options;
  options.intra_op_threads = 1;
  InferenceSession session(loop_model(), options);
  std::map<std::string, Value> feeds{{"trips", Tensor::scalar<int64_t>(trips)},
                                     {"x0", Tensor::from_vector<float>({4}, {0, 0, 0, 0})}};
  for (auto _ : state) {
    auto outputs = session.run(feeds);
    benchmark::DoNotOptimize(outputs);
  }
  state.counters["ns_per_iteration"] = benchmark::Counter(
      static_cast<double>(trips) * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Loop_PerIteration)->ArgName("trips")->Arg(1000)->Arg(100000);

}  // namespace
}  // namespace onyx
