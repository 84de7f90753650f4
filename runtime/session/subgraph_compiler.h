// What a control-flow kernel (If, Loop, Scan) needs to compile its subgraphs once, at session
// creation, into plans of their own: the model (for opsets), the enclosing graph's inferred
// types (outer-scope values), the providers and the thread count.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/ir/graph.h"

namespace onyx {

class ExecutionPlan;

class SubgraphCompiler {
 public:
  virtual ~SubgraphCompiler() = default;
  // Compiles `graph` into a plan whose inputs are the graph's own inputs followed by the
  // outer-scope values it reads, in the order `outer_inputs` returns for it. Outputs come back
  // to the host, except those `outputs_to_host` marks false (empty: all to the host), which
  // stay where they were made: a Loop's state stays on the device between iterations.
  virtual std::unique_ptr<ExecutionPlan> compile(const Graph& graph, std::vector<bool> outputs_to_host = {}) const = 0;
};

// Names a subgraph (and its nested subgraphs) reads from enclosing scopes, sorted.
std::vector<std::string> outer_scope_reads(const Graph& graph);
// Same for all subgraphs of a node: the node's implicit inputs.
std::vector<std::string> implicit_inputs(const Node& node);

}  // namespace onyx
