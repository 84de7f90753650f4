// A single CPU kernel prepared the way a session prepares it, for benchmarks that time only
// `compute`: the kernel is created once, with chosen inputs handed over as constants so it may
// pre-pack them (call_node_on_cpu would also time kernel creation, which for oneDNN-backed
// kernels costs more than running them).
#pragma once

#include <benchmark/benchmark.h>

#include <omp.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "providers/cpu/cpu_provider.h"
#include "providers/kernel.h"
#include "runtime/common/error.h"
#include "runtime/ir/graph.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

// A float tensor of seeded values uniform in [-bound, bound].
inline Tensor uniform_tensor(const Shape& shape, uint32_t seed, float bound = 1.0f) {
  Tensor tensor(DataType::kFloat, shape);
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-bound, bound);
  float* data = tensor.mutable_data<float>();
  for (int64_t i = 0; i < tensor.element_count(); ++i) data[i] = uniform(generator);
  return tensor;
}

class PlainOutputs final : public OutputAllocator {
 public:
  Tensor allocate(int, DataType dtype, const Shape& shape) override { return Tensor(dtype, shape); }
};

// One node with its kernel created once; `run` computes it on the stored inputs.
class PreparedNode {
 public:
  // Inputs flagged in `constant` are handed to the kernel at creation, like initializers.
  PreparedNode(Node node, int64_t opset, std::vector<Tensor> inputs, std::vector<bool> constant,
               int threads)
      : node_(std::move(node)), threads_(threads) {
    const KernelDef* def = provider_.find_kernel(node_, opset);
    if (def == nullptr) {
      throw_error(ErrorCode::kNotImplemented, "no CPU kernel for ", node_.op_type, " at opset ", opset);
    }
    // Frame layout: inputs, then outputs. Sized before any pointer into it is taken.
    size_t input_count = inputs.size();
    for (Tensor& tensor : inputs) frame_.emplace_back(std::move(tensor));
    frame_.resize(input_count + node_.outputs.size());
    for (size_t i = 0; i < input_count; ++i) {
      types_.push_back(TypeInfo::tensor_of_shape(frame_[i].tensor().dtype(), frame_[i].tensor().shape()));
      input_slots_.push_back(static_cast<int>(i));
    }
    std::vector<const TypeInfo*> type_pointers;
    std::vector<const Tensor*> constants;
    for (size_t i = 0; i < input_count; ++i) {
      type_pointers.push_back(&types_[i]);
      constants.push_back(i < constant.size() && constant[i] ? &frame_[i].tensor() : nullptr);
    }
    for (size_t i = 0; i < node_.outputs.size(); ++i) {
      output_slots_.push_back(static_cast<int>(input_count + i));
    }
    KernelInfo info(node_, opset, type_pointers, {}, constants, provider_, threads_);
    kernel_ = def->factory(info);
  }

  void run() {
    // As a session's run does: oneDNN's regions take the OpenMP default, every core otherwise.
    omp_set_num_threads(threads_);
    KernelContext context(frame_.data(), input_slots_, output_slots_, outputs_, threads_);
    kernel_->compute(context);
  }

 private:
  Node node_;
  int threads_;
  CpuExecutionProvider provider_;
  PlainOutputs outputs_;
  std::vector<Value> frame_;
  std::vector<TypeInfo> types_;
  std::vector<int> input_slots_;
  std::vector<int> output_slots_;
  std::unique_ptr<Kernel> kernel_;
};

// Times node.run(); on a missing or failing kernel, marks the benchmark as errored.
template <typename MakeNode>
void time_node(benchmark::State& state, MakeNode make, double flops_per_run, double bytes_per_run) {
  std::unique_ptr<PreparedNode> node;
  try {
    node = make();
    node->run();  // warm-up: first-touch allocations, lazily created primitives
  } catch (const Error& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) node->run();
  if (flops_per_run > 0) {
    state.counters["GFLOP/s"] = benchmark::Counter(flops_per_run * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  }
  if (bytes_per_run > 0) {
    state.counters["GB/s"] = benchmark::Counter(bytes_per_run * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  }
}

}  // namespace onyx
