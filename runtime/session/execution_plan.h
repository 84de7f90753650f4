// A graph compiled for execution: values become numbered slots of a frame, nodes become a flat
// array of steps with their kernels created once, each step knows which slots to release after
// it, and static-shape values have arena offsets. run() only walks the steps.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "providers/execution_provider.h"
#include "runtime/ir/graph.h"
#include "runtime/session/memory_plan.h"
#include "runtime/session/type_inference.h"
#include "runtime/tensor/caching_allocator.h"

namespace onyx {

struct PlanStep {
  const Node* node = nullptr;  // null for a device-transfer step
  ExecutionProvider* provider = nullptr;
  std::unique_ptr<Kernel> kernel;
  std::vector<int> inputs;   // slots; -1 for an omitted optional input
  std::vector<int> outputs;  // slots; -1 for an omitted optional output
  std::vector<int> release_after;
  int64_t opset = 0;
};

class ExecutionPlan {
 public:
  // `providers` in priority order; each node goes to the first that has a kernel for it.
  ExecutionPlan(const Graph& graph, const Model& model, const InferredTypes& types,
                const std::vector<ExecutionProvider*>& providers, int threads);
  ExecutionPlan(const ExecutionPlan&) = delete;
  ExecutionPlan& operator=(const ExecutionPlan&) = delete;

  // `inputs` in the order of graph.inputs that are fed (see input_names()); thread-safe.
  // With `step_seconds` (sized to steps().size()), each step's wall time is added to it.
  std::vector<Value> run(std::vector<Value> inputs, std::vector<double>* step_seconds = nullptr) const;

  const std::vector<std::string>& input_names() const { return input_names_; }
  const std::vector<PlanStep>& steps() const { return steps_; }
  const MemoryPlan& memory_plan() const { return memory_; }

 private:
  int slot_of(const std::string& name);
  void add_transfers(const std::vector<ExecutionProvider*>& providers);
  void compute_lifetimes(const InferredTypes& types);

  const Graph& graph_;
  int threads_;
  std::vector<std::string> slot_names_;
  std::map<std::string, int> slots_;
  std::vector<std::pair<int, Value>> constants_;  // initializer slots filled before each run
  std::vector<std::string> input_names_;
  std::vector<int> input_slots_;
  std::vector<int> output_slots_;
  std::vector<PlanStep> steps_;
  MemoryPlan memory_;
  std::unique_ptr<ArenaPool> arenas_;
  std::unique_ptr<CachingAllocator> dynamic_memory_;  // values sized only at run time
  ExecutionProvider* host_provider_ = nullptr;
};

}  // namespace onyx
