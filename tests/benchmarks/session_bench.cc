// Whole-model timings through InferenceSession: the shipped models (models/*.onnx) at batch 1
// and 8, session creation, and the executor's per-node overhead on a long chain of tiny nodes.
//
// The shipped models are found through $ONYX_MODELS_DIR, else <binary dir>/../models (build/ is
// beside models/), else ./models.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "runtime/common/error.h"
#include "runtime/ir/graph.h"
#include "runtime/session/inference_session.h"
#include "runtime/tensor/tensor.h"

namespace onyx {
namespace {

std::filesystem::path models_dir() {
  if (const char* dir = std::getenv("ONYX_MODELS_DIR")) return dir;
  std::error_code error;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    auto beside = exe.parent_path().parent_path() / "models";
    if (std::filesystem::exists(beside)) return beside;
  }
  return "models";
}

Tensor random_tensor(const Shape& shape, uint32_t seed) {
  Tensor tensor(DataType::kFloat, shape);
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  float* data = tensor.mutable_data<float>();
  for (int64_t i = 0; i < tensor.element_count(); ++i) data[i] = uniform(generator);
  return tensor;
}

SessionOptions options_with_threads(int threads) {
  SessionOptions options;
  options.intra_op_threads = threads;
  return options;
}

// Args: batch, threads. `shape_tail` follows the batch dimension of the model's one input.
void time_model(benchmark::State& state, const char* file, Shape shape_tail) {
  int64_t batch = state.range(0);
  int threads = static_cast<int>(state.range(1));
  Shape shape{batch};
  shape.insert(shape.end(), shape_tail.begin(), shape_tail.end());
  try {
    InferenceSession session(models_dir() / file, options_with_threads(threads));
    std::map<std::string, Value> feeds{{session.inputs().at(0).name, random_tensor(shape, 1)}};
    session.run(feeds);  // warm-up
    for (auto _ : state) {
      auto outputs = session.run(feeds);
      benchmark::DoNotOptimize(outputs);
    }
    state.SetItemsProcessed(state.iterations() * batch);
  } catch (const Error& e) {
    state.SkipWithError(e.what());
  }
}

void BM_Session_MlpMnist(benchmark::State& state) { time_model(state, "mlp_mnist.onnx", {784}); }
BENCHMARK(BM_Session_MlpMnist)->ArgNames({"batch", "threads"})
    ->Args({1, 1})->Args({8, 1})->Args({64, 1})->Args({64, 2})->UseRealTime();

void BM_Session_CnnSmall(benchmark::State& state) { time_model(state, "cnn_small.onnx", {1, 28, 28}); }
BENCHMARK(BM_Session_CnnSmall)->ArgNames({"batch", "threads"})
    ->Args({1, 1})->Args({8, 1})->Args({64, 1})->Args({64, 2})->UseRealTime();

// Session creation: load, infer, optimize, create kernels, plan memory.
void BM_SessionCreate_CnnSmall(benchmark::State& state) {
  try {
    for (auto _ : state) {
      InferenceSession session(models_dir() / "cnn_small.onnx", options_with_threads(1));
      benchmark::DoNotOptimize(session);
    }
  } catch (const Error& e) {
    state.SkipWithError(e.what());
  }
}
BENCHMARK(BM_SessionCreate_CnnSmall)->Unit(benchmark::kMillisecond)->UseRealTime();

// A chain of `nodes` Add nodes on 16 floats: the time per node is the executor's per-step cost.
Model add_chain_model(int64_t nodes) {
  Model model;
  model.ir_version = 8;
  model.opsets[""] = 17;
  Graph& graph = model.graph;
  graph.name = "add_chain";
  TypeInfo type = TypeInfo::tensor_of_shape(DataType::kFloat, {16});
  graph.inputs.push_back({"x", type, ""});
  graph.set_initializer("one", Tensor::from_vector<float>({16}, std::vector<float>(16, 1.0f)));
  std::string previous = "x";
  for (int64_t i = 0; i < nodes; ++i) {
    Node node;
    node.name = "add" + std::to_string(i);
    node.op_type = "Add";
    node.inputs = {previous, "one"};
    node.outputs = {i + 1 == nodes ? std::string("y") : "v" + std::to_string(i)};
    previous = node.outputs[0];
    graph.nodes.push_back(std::move(node));
  }
  graph.outputs.push_back({"y", type, ""});
  return model;
}

// Args: node count, profiling off (0) or on (1). Reports the time per node as "ns_per_node".
// Off, a run checks one pointer and takes no timestamps; on, every node is timed and recorded
// (the events stay in memory until end_profiling, hence the fixed iteration count below).
void BM_Session_AddChain(benchmark::State& state) {
  int64_t nodes = state.range(0);
  try {
    SessionOptions options = options_with_threads(1);
    options.optimization_level = 0;  // keep every node: constant folding must not collapse the chain
    options.enable_profiling = state.range(1) != 0;
    InferenceSession session(add_chain_model(nodes), options);
    std::map<std::string, Value> feeds{{"x", random_tensor({16}, 1)}};
    session.run(feeds);
    for (auto _ : state) {
      auto outputs = session.run(feeds);
      benchmark::DoNotOptimize(outputs);
    }
    state.counters["ns_per_node"] = benchmark::Counter(
        static_cast<double>(nodes) * 1e-9,
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  } catch (const Error& e) {
    state.SkipWithError(e.what());
  }
}
BENCHMARK(BM_Session_AddChain)->ArgNames({"nodes", "profiling"})->Args({10, 0})->Args({1000, 0})->UseRealTime();
BENCHMARK(BM_Session_AddChain)->ArgNames({"nodes", "profiling"})->Args({100, 0})->Args({100, 1})
    ->Iterations(20000)->UseRealTime();

}  // namespace
}  // namespace onyx
