// The kernel interface every provider implements. A kernel is created once per node at session
// creation (KernelInfo: attributes, opset, inferred input types, constant inputs, so it can
// validate and pre-pack then), and `compute` runs it on each execution (KernelContext: the
// input values and an allocator for outputs that uses the session's memory plan).
#pragma once

#include <memory>
#include <forward_list>
#include <span>
#include <vector>

#include "onnx_ops/node_attributes.h"
#include "providers/precision.h"
#include "runtime/ir/graph.h"
#include "runtime/tensor/memory_limit.h"
#include "runtime/tensor/value.h"

namespace onyx {

class DeviceRunState;
class ExecutionProvider;
class SubgraphCompiler;

class KernelInfo {
 public:
  KernelInfo(const Node& node, int64_t opset, std::vector<const TypeInfo*> input_types,
             std::vector<const TypeInfo*> output_types, std::vector<const Tensor*> constant_inputs,
             ExecutionProvider& provider, int threads)
      : node_(node), attributes_(node), opset_(opset), input_types_(std::move(input_types)),
        output_types_(std::move(output_types)), constant_inputs_(std::move(constant_inputs)),
        provider_(provider), threads_(threads) {}

  const Node& node() const { return node_; }
  const NodeAttributes& attributes() const { return attributes_; }
  int64_t opset() const { return opset_; }
  size_t input_count() const { return node_.inputs.size(); }
  size_t output_count() const { return node_.outputs.size(); }
  bool has_input(size_t i) const { return node_.has_input(i); }
  // Inferred types; an unknown TypeInfo when inference could not tell.
  const TypeInfo& input_type(size_t i) const;
  const TypeInfo& output_type(size_t i) const;
  // The input's value when it is a constant initializer, else nullptr. Kernels may pre-pack it.
  const Tensor* constant_input(size_t i) const {
    return i < constant_inputs_.size() ? constant_inputs_[i] : nullptr;
  }
  ExecutionProvider& provider() const { return provider_; }
  int threads() const { return threads_; }
  // The session's precision, already resolved against the CPU (providers/precision.h):
  // kernels that honour bf16 build their primitives for it, the rest ignore it.
  Precision precision() const { return precision_; }
  void set_precision(Precision precision) { precision_ = precision; }

  // For nodes with subgraphs: the compiler for them, and the outer-scope values they read,
  // which the plan appends to the node's inputs (KernelContext inputs input_count() onward).
  void set_subgraph_context(const SubgraphCompiler* compiler, std::vector<std::string> implicit_inputs) {
    subgraph_compiler_ = compiler;
    implicit_inputs_ = std::move(implicit_inputs);
  }
  const SubgraphCompiler& subgraph_compiler() const;
  const std::vector<std::string>& implicit_inputs() const { return implicit_inputs_; }

 private:
  const Node& node_;
  NodeAttributes attributes_;
  int64_t opset_;
  std::vector<const TypeInfo*> input_types_;
  std::vector<const TypeInfo*> output_types_;
  std::vector<const Tensor*> constant_inputs_;
  ExecutionProvider& provider_;
  int threads_;
  Precision precision_ = Precision::kFp32;
  const SubgraphCompiler* subgraph_compiler_ = nullptr;
  std::vector<std::string> implicit_inputs_;
};

// Hands out output buffers: the session's planner serves planned (static-shape) values from
// its arena and others from a pool; eager mode and tests use plain allocation.
class OutputAllocator {
 public:
  virtual ~OutputAllocator() = default;
  // `slot` identifies the value in the frame (-1 for an output nobody reads).
  virtual Tensor allocate(int slot, DataType dtype, const Shape& shape) = 0;
  // The most bytes one output may take (the session's memory limit); KernelContext::output
  // refuses larger outputs before allocating.
  size_t memory_limit() const { return memory_limit_; }
  void set_memory_limit(size_t bytes) { memory_limit_ = bytes; }

 private:
  size_t memory_limit_ = default_memory_limit();
};

class KernelContext {
 public:
  KernelContext(Value* frame, std::span<const int> input_slots, std::span<const int> output_slots,
                OutputAllocator& allocator, int threads)
      : frame_(frame), input_slots_(input_slots), output_slots_(output_slots),
        allocator_(allocator), threads_(threads) {}

  size_t input_count() const { return input_slots_.size(); }
  // True when input i was given and holds a value (not an omitted optional input).
  bool has_input(size_t i) const;
  const Tensor& input(size_t i) const;  // throws a clear error if input i is absent
  const Value& input_value(size_t i) const;

  size_t output_count() const { return output_slots_.size(); }
  // False for an optional output the model does not use: kernels may skip computing it.
  bool has_output(size_t i) const { return i < output_slots_.size() && output_slots_[i] >= 0; }
  // Allocates output i and returns it for the kernel to fill.
  Tensor& output(size_t i, DataType dtype, const Shape& shape);
  // Sets output i to a value built by the kernel (a sequence, an alias, an empty optional).
  void set_output(size_t i, Value value);
  // What output i holds (after compute; none for an unused output).
  const Value& output_value(size_t i) const;

  int threads() const { return threads_; }

  // The run's state on the step's device (a CUDA stream and library handles: a device
  // provider's kernels cast it to their own type); null on the CPU. `run_states` are the
  // run's states for every provider of the plan, which subgraph frames inherit.
  DeviceRunState* device_state() const { return device_state_; }
  const std::vector<std::shared_ptr<DeviceRunState>>* run_states() const { return run_states_; }
  void set_device_state(DeviceRunState* state, const std::vector<std::shared_ptr<DeviceRunState>>* run_states) {
    device_state_ = state;
    run_states_ = run_states;
  }

  // Work memory for this call only (oneDNN scratchpads, layout-conversion buffers), from the
  // run's allocator: a kernel serves concurrent runs, so a work buffer kept in the kernel would
  // be shared between them. 64-byte aligned; freed when the returned tensor goes.
  Tensor scratch(size_t bytes);

 private:
  Value* frame_;
  std::span<const int> input_slots_;
  std::span<const int> output_slots_;
  OutputAllocator& allocator_;
  int threads_;
  DeviceRunState* device_state_ = nullptr;
  const std::vector<std::shared_ptr<DeviceRunState>>* run_states_ = nullptr;
  // Outputs a kernel writes that nobody reads. A forward_list keeps references stable and,
  // unlike a deque, costs no allocation when a step has none.
  std::forward_list<Value> unused_outputs_;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void compute(KernelContext& context) = 0;
  // Which implementation this kernel chose when it was created, where an op has several that
  // differ in speed ("oneDNN int8" or "reference loops" for QLinearConv): `onyx bench
  // --profile` prints it beside the op type, and tests check that a fast path is taken.
  // Empty for kernels with one implementation.
  virtual std::string implementation() const { return {}; }
};

}  // namespace onyx
