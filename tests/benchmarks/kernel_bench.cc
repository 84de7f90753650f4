// Steady-state timings of single CPU kernels (MatMul, Gemm, Conv, NhwcConv, Add, Relu, Softmax) as a
// session runs them: the kernel is created once, with its weights as constant inputs so it may
// pre-pack them, and only `compute` is timed. (call_node_on_cpu would also time kernel
// creation, which for oneDNN-backed kernels costs more than running them.)
//
// Every benchmark's last argument is the thread count. A missing kernel reports an error for
// that benchmark instead of ending the run, so this builds and runs while kernels land.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "onnx_ops/op_schema.h"
#include "runtime/common/error.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/ir/graph.h"
#include "runtime/tensor/tensor.h"
#include "tests/benchmarks/prepared_node.h"

namespace onyx {
namespace {


Node make_node(const std::string& op, size_t inputs, std::vector<Attribute> attributes = {}) {
  Node node;
  node.name = op;
  node.op_type = op;
  for (size_t i = 0; i < inputs; ++i) node.inputs.push_back("in" + std::to_string(i));
  node.outputs = {"out"};
  node.attributes = std::move(attributes);
  return node;
}

// Args: M, K, N, threads. B is a constant weight, as in a model.
void BM_MatMul(benchmark::State& state) {
  int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  int threads = static_cast<int>(state.range(3));
  time_node(state, [&] {
    return std::make_unique<PreparedNode>(make_node("MatMul", 2), 13,
                                          std::vector<Tensor>{uniform_tensor({m, k}, 1), uniform_tensor({k, n}, 2)},
                                          std::vector<bool>{false, true}, threads);
  }, 2.0 * m * k * n, 0);
}
BENCHMARK(BM_MatMul)->ArgNames({"M", "K", "N", "threads"})
    ->Args({1, 784, 128, 1})->Args({8, 784, 128, 1})->Args({64, 512, 512, 1})
    ->Args({256, 1024, 1024, 1})->Args({256, 1024, 1024, 2})->UseRealTime();

// Args: M, K, N, threads. Y = X * W^T + b, the fully connected layer exporters write.
void BM_Gemm(benchmark::State& state) {
  int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  int threads = static_cast<int>(state.range(3));
  time_node(state, [&] {
    return std::make_unique<PreparedNode>(
        make_node("Gemm", 3, {make_attribute("transB", int64_t{1})}), 13,
        std::vector<Tensor>{uniform_tensor({m, k}, 1), uniform_tensor({n, k}, 2), uniform_tensor({n}, 3)},
        std::vector<bool>{false, true, true}, threads);
  }, 2.0 * m * k * n, 0);
}
BENCHMARK(BM_Gemm)->ArgNames({"M", "K", "N", "threads"})
    ->Args({1, 64, 128, 1})->Args({1, 1280, 1000, 1})->Args({1, 1280, 1000, 2})->Args({4, 64, 128, 1})->Args({8, 784, 128, 1})->Args({64, 1024, 1024, 1})
    ->Args({64, 1024, 1024, 2})->UseRealTime();

// Args: N, C, H(=W), M (output channels), kernel size, threads. Padding keeps H and W.
void BM_Conv(benchmark::State& state) {
  int64_t n = state.range(0), c = state.range(1), hw = state.range(2), m = state.range(3);
  int64_t kernel = state.range(4);
  int threads = static_cast<int>(state.range(5));
  int64_t pad = kernel / 2;
  time_node(state, [&] {
    return std::make_unique<PreparedNode>(
        make_node("Conv", 3, {make_attribute("kernel_shape", std::vector<int64_t>{kernel, kernel}),
                              make_attribute("pads", std::vector<int64_t>{pad, pad, pad, pad})}),
        11,
        std::vector<Tensor>{uniform_tensor({n, c, hw, hw}, 1), uniform_tensor({m, c, kernel, kernel}, 2),
                            uniform_tensor({m}, 3)},
        std::vector<bool>{false, true, true}, threads);
  }, 2.0 * n * m * hw * hw * c * kernel * kernel, 0);
}
BENCHMARK(BM_Conv)->ArgNames({"N", "C", "HW", "M", "k", "threads"})
    ->Args({8, 1, 28, 8, 3, 1})      // cnn_small's conv, batch 8
    ->Args({1, 1, 224, 64, 7, 1})    // a grey-image stem (BM_NhwcConv runs it direct)
    ->Args({1, 64, 56, 64, 3, 1})    // a ResNet stage-1 conv
    ->Args({1, 64, 56, 64, 3, 2})
    ->Args({1, 256, 14, 256, 3, 1})  // deeper: many channels, small image
    ->Args({1, 128, 28, 256, 1, 1})  // pointwise
    ->UseRealTime();

// Args: N, C, H(=W), M, kernel size, threads. The channels-last com.onyx NhwcConv the
// channels-last pass writes, with a fused Relu: C = 1 takes the few-channel direct kernel
// (providers/cpu/nn/few_channel_conv.h), more channels oneDNN's convolution.
void BM_NhwcConv(benchmark::State& state) {
  int64_t n = state.range(0), c = state.range(1), hw = state.range(2), m = state.range(3);
  int64_t kernel = state.range(4);
  int threads = static_cast<int>(state.range(5));
  int64_t pad = kernel / 2;
  time_node(state, [&] {
    Node node = make_node("NhwcConv", 3, {make_attribute("kernel_shape", std::vector<int64_t>{kernel, kernel}),
                                          make_attribute("pads", std::vector<int64_t>{pad, pad, pad, pad}),
                                          make_attribute("activation", std::string("Relu"))});
    node.domain = kOnyxDomain;
    return std::make_unique<PreparedNode>(
        std::move(node), 1,
        std::vector<Tensor>{uniform_tensor({n, hw, hw, c}, 1), uniform_tensor({m, c, kernel, kernel}, 2),
                            uniform_tensor({m}, 3)},
        std::vector<bool>{false, true, true}, threads);
  }, 2.0 * n * m * hw * hw * c * kernel * kernel, 0);
}
BENCHMARK(BM_NhwcConv)->ArgNames({"N", "C", "HW", "M", "k", "threads"})
    ->Args({8, 1, 28, 8, 3, 1})     // cnn_small's first layer, batch 8: direct
    ->Args({1, 1, 28, 16, 3, 1})    // cnn_fashion's first layer: direct
    ->Args({1, 1, 224, 64, 7, 1})   // a grey-image ResNet stem (stride 1 here): direct
    ->Args({1, 3, 224, 32, 3, 1})   // an RGB first layer: oneDNN
    ->Args({1, 16, 14, 32, 3, 1})   // cnn_fashion's second layer: oneDNN
    ->UseRealTime();

// Args: rows, cols, broadcast (0: same shapes, 1: second input is one row), threads.
void BM_Add(benchmark::State& state) {
  int64_t rows = state.range(0), cols = state.range(1);
  bool broadcast = state.range(2) != 0;
  int threads = static_cast<int>(state.range(3));
  Shape b_shape = broadcast ? Shape{cols} : Shape{rows, cols};
  double elements = static_cast<double>(rows * cols);
  time_node(state, [&] {
    return std::make_unique<PreparedNode>(make_node("Add", 2), 14,
                                          std::vector<Tensor>{uniform_tensor({rows, cols}, 1), uniform_tensor(b_shape, 2)},
                                          std::vector<bool>{false, false}, threads);
  }, 0, elements * 4 * (broadcast ? 2 : 3));
}
BENCHMARK(BM_Add)->ArgNames({"rows", "cols", "bcast", "threads"})
    ->Args({64, 1024, 0, 1})->Args({1024, 1024, 0, 1})->Args({1024, 1024, 0, 2})
    ->Args({1024, 1024, 1, 1})->UseRealTime();

// Args: elements, threads.
void BM_Relu(benchmark::State& state) {
  int64_t count = state.range(0);
  int threads = static_cast<int>(state.range(1));
  time_node(state, [&] {
    return std::make_unique<PreparedNode>(make_node("Relu", 1), 14,
                                          std::vector<Tensor>{uniform_tensor({count}, 1)},
                                          std::vector<bool>{false}, threads);
  }, 0, static_cast<double>(count) * 8);
}
BENCHMARK(BM_Relu)->ArgNames({"elements", "threads"})
    ->Args({1 << 16, 1})->Args({1 << 22, 1})->Args({1 << 22, 2})->UseRealTime();

// Args: rows, cols (the softmax axis), threads.
void BM_Softmax(benchmark::State& state) {
  int64_t rows = state.range(0), cols = state.range(1);
  int threads = static_cast<int>(state.range(2));
  time_node(state, [&] {
    return std::make_unique<PreparedNode>(make_node("Softmax", 1, {make_attribute("axis", int64_t{-1})}), 13,
                                          std::vector<Tensor>{uniform_tensor({rows, cols}, 1)},
                                          std::vector<bool>{false}, threads);
  }, 0, static_cast<double>(rows * cols) * 8);
}
BENCHMARK(BM_Softmax)->ArgNames({"rows", "cols", "threads"})
    ->Args({8, 10, 1})->Args({64, 1000, 1})->Args({256, 4096, 1})->Args({256, 4096, 2})->UseRealTime();

}  // namespace
}  // namespace onyx
