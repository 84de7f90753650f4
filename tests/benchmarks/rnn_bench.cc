// Steady-state timings of the CPU LSTM and GRU kernels at the sizes of the exported
// architectures (scripts/export_architectures.py): a 2-layer bidirectional LSTM (input 16,
// hidden 32, batch 2, 7 steps; its second layer reads both directions, input 64) and a
// 2-layer GRU (input 16, hidden 32, batch 1, 32 steps). W, R and B are constant inputs, as
// in the models, so the kernel packs them once. The last argument is the thread count.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/ir/attribute_builders.h"
#include "runtime/ir/graph.h"
#include "runtime/tensor/tensor.h"
#include "tests/benchmarks/prepared_node.h"

namespace onyx {
namespace {

// Weights of a trained RNN's scale.
Tensor rnn_tensor(const Shape& shape, uint32_t seed) { return uniform_tensor(shape, seed, 0.3f); }

// Args: seq, batch, input, hidden, directions, threads. Inputs X, W, R, B (B constant too).
void time_recurrent(benchmark::State& state, const std::string& op, int64_t gates, std::vector<Attribute> extra) {
  const int64_t seq = state.range(0), batch = state.range(1), input = state.range(2);
  const int64_t hidden = state.range(3), dirs = state.range(4);
  const int threads = static_cast<int>(state.range(5));
  std::vector<Attribute> attributes = {make_attribute("hidden_size", hidden)};
  if (dirs == 2) attributes.push_back(make_attribute("direction", "bidirectional"));
  for (Attribute& a : extra) attributes.push_back(std::move(a));
  time_node(state, [&] {
    Node node;
    node.name = op;
    node.op_type = op;
    node.inputs = {"x", "w", "r", "b"};
    node.outputs = op == "LSTM" ? std::vector<std::string>{"y", "y_h", "y_c"} : std::vector<std::string>{"y", "y_h"};
    node.attributes = attributes;
    const int64_t gh = gates * hidden;
    return std::make_unique<PreparedNode>(
        std::move(node), 14,
        std::vector<Tensor>{rnn_tensor({seq, batch, input}, 1), rnn_tensor({dirs, gh, input}, 2),
                            rnn_tensor({dirs, gh, hidden}, 3), rnn_tensor({dirs, 2 * gh}, 4)},
        std::vector<bool>{false, true, true, true}, threads);
  }, 2.0 * dirs * seq * batch * gates * hidden * (input + hidden), 0);
}

void BM_Lstm(benchmark::State& state) { time_recurrent(state, "LSTM", 4, {}); }
BENCHMARK(BM_Lstm)->ArgNames({"seq", "batch", "input", "hidden", "dirs", "threads"})
    ->Args({7, 2, 16, 32, 2, 1})->Args({7, 2, 16, 32, 2, 2})   // the lstm model's first layer
    ->Args({7, 2, 64, 32, 2, 1})->Args({7, 2, 64, 32, 2, 2})   // its second layer
    ->Args({32, 16, 64, 128, 1, 1})->Args({32, 16, 64, 128, 1, 2})  // a larger batch: rows split
    ->Args({32, 16, 64, 128, 2, 1})->Args({32, 16, 64, 128, 2, 2})  // directions split
    ->UseRealTime();

void BM_Gru(benchmark::State& state) {
  time_recurrent(state, "GRU", 3, {make_attribute("linear_before_reset", int64_t{1})});
}
BENCHMARK(BM_Gru)->ArgNames({"seq", "batch", "input", "hidden", "dirs", "threads"})
    ->Args({32, 1, 16, 32, 1, 1})->Args({32, 1, 16, 32, 1, 2})  // the gru model's first layer
    ->Args({32, 1, 32, 32, 1, 1})                               // its second layer
    ->UseRealTime();

}  // namespace
}  // namespace onyx
