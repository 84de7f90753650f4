// Shared plumbing of the control-flow kernels: a compiled subgraph plus the positions, among
// the node's inputs, of the outer-scope values the subgraph reads.
#pragma once

#include <memory>
#include <vector>

#include "providers/kernel.h"
#include "runtime/session/execution_plan.h"

namespace onyx {

class SubgraphCall {
 public:
  // Compiles attribute `attribute` of the node (a graph) through the session's compiler;
  // `outputs_to_host` as SubgraphCompiler::compile takes it.
  SubgraphCall(const KernelInfo& info, const std::string& attribute, std::vector<bool> outputs_to_host = {});

  const ExecutionPlan& plan() const { return *plan_; }
  const Graph& graph() const { return *graph_; }
  size_t formal_input_count() const { return graph_->inputs.size(); }
  size_t input_count() const { return plan_->input_names().size(); }

  // Fills inputs [formal_input_count(), input_count()) with the outer values from `context`.
  void bind_outer_values(const KernelContext& context, std::vector<Value>& inputs) const;

 private:
  const Graph* graph_;
  std::unique_ptr<ExecutionPlan> plan_;
  std::vector<size_t> outer_value_inputs_;  // index into the node's inputs for each outer value
};

// Element i of a 1-element bool/int tensor as a bool (If's cond, Loop's cond).
bool scalar_truth(const Tensor& tensor, const char* what);

// Item `index` along `axis` of `tensor` (rank reduced by one), copied.
Tensor slice_along_axis(const Tensor& tensor, int64_t axis, int64_t index, int threads);
// Stacks equally shaped tensors along a new axis `axis`.
Tensor stack_along_axis(const std::vector<Tensor>& items, int64_t axis, Allocator& allocator, int threads);

}  // namespace onyx
