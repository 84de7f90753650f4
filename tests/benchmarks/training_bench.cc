// Training throughput: the optimizer update graph alone (Adam and SGD with momentum over 1M
// parameters in four tensors, fused and as the standard-op composition) and a whole train_step
// of the shipped MLP (784-128-10, SGD with momentum) and Fashion-MNIST CNN (two Conv + Relu +
// MaxPool, two Gemm; Adam), cross entropy, batch 64. Counters: steps per second and, for the
// update, parameters per second.
#include <benchmark/benchmark.h>

#include <random>

#include "runtime/ir/model_loader.h"
#include "training/optimizer.h"
#include "training/training_session.h"

namespace onyx::training {
namespace {

Tensor random_tensor(const Shape& shape, uint32_t seed) {
  Tensor tensor(DataType::kFloat, shape);
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  for (float& v : std::span(tensor.mutable_data<float>(), tensor.element_count())) v = normal(generator);
  return tensor;
}

void run_update(benchmark::State& state, const OptimizerConfig& config) {
  std::vector<OptimizerParameter> params;
  std::map<std::string, Tensor> values, gradients;
  for (int i = 0; i < 4; ++i) {
    const std::string name = std::string(1, static_cast<char>('a' + i));  // (not "p" + to_string: GCC 12 -Wrestrict false positive)
    params.push_back({name, DataType::kFloat, {512, 512}});
    values[name] = random_tensor({512, 512}, i);
    gradients[name] = random_tensor({512, 512}, 100 + i);
  }
  SessionOptions options;
  options.intra_op_threads = 1;
  Optimizer optimizer(params, config, options);
  for (auto _ : state) optimizer.step(values, gradients);
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["params_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 4 * 512 * 512, benchmark::Counter::kIsRate);
}

OptimizerConfig composed(OptimizerConfig config) {
  config.fused = false;
  return config;
}

void BM_OptimizerUpdate_Adam(benchmark::State& state) { run_update(state, adam(1e-3)); }
void BM_OptimizerUpdate_AdamComposed(benchmark::State& state) { run_update(state, composed(adam(1e-3))); }
void BM_OptimizerUpdate_SgdMomentum(benchmark::State& state) { run_update(state, sgd(0.1, 0.9)); }
void BM_OptimizerUpdate_SgdMomentumComposed(benchmark::State& state) { run_update(state, composed(sgd(0.1, 0.9))); }
BENCHMARK(BM_OptimizerUpdate_Adam)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OptimizerUpdate_AdamComposed)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OptimizerUpdate_SgdMomentum)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OptimizerUpdate_SgdMomentumComposed)->Unit(benchmark::kMillisecond);

void BM_TrainStep_MlpMnist(benchmark::State& state) {
  // build/onyx_bench sits beside models/ (as in session_bench.cc).
  const auto exe = std::filesystem::read_symlink("/proc/self/exe");
  Model model = load_model(exe.parent_path().parent_path() / "models/mlp_mnist.onnx");
  // The shipped model ends in Softmax; train its logits (the Softmax's input).
  const Node& last = model.graph.nodes.back();
  TrainingOptions options;
  options.loss = LossSpec{};
  options.loss->kind = LossKind::kCrossEntropy;
  options.loss->prediction = last.op_type == "Softmax" ? last.inputs[0] : model.graph.outputs[0].name;
  options.optimizer = sgd(0.01, 0.9);
  options.session.intra_op_threads = 1;
  TrainingSession session(std::move(model), options);
  const int64_t batch = 64;
  std::vector<int64_t> labels(batch);
  for (int64_t i = 0; i < batch; ++i) labels[i] = i % 10;
  Feeds feeds{{"input", random_tensor({batch, 784}, 7)},
              {"target", Tensor::from_vector<int64_t>({batch}, labels)}};
  for (auto _ : state) benchmark::DoNotOptimize(session.train_step(feeds));
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrainStep_MlpMnist)->Unit(benchmark::kMillisecond);

void BM_TrainStep_CnnFashion(benchmark::State& state) {
  const auto exe = std::filesystem::read_symlink("/proc/self/exe");
  TrainingOptions options;
  options.loss = LossSpec{};
  options.loss->kind = LossKind::kCrossEntropy;
  options.optimizer = adam(1e-3);
  options.session.intra_op_threads = 1;
  TrainingSession session(exe.parent_path().parent_path() / "models/cnn_fashion_untrained.onnx", options);
  const int64_t batch = 64;
  std::vector<int64_t> labels(batch);
  for (int64_t i = 0; i < batch; ++i) labels[i] = i % 10;
  Feeds feeds{{"image", random_tensor({batch, 1, 28, 28}, 7)},
              {session.target_inputs().at(0), Tensor::from_vector<int64_t>({batch}, labels)}};
  for (auto _ : state) benchmark::DoNotOptimize(session.train_step(feeds));
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrainStep_CnnFashion)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace onyx::training
