// Runs one node on concrete inputs, outside any session plan: creates its kernel with input
// types taken from the values, computes, and returns the outputs. Constant folding, eager
// calls and kernel unit tests all go through this one path.
#pragma once

#include <vector>

#include "providers/execution_provider.h"
#include "runtime/ir/graph.h"
#include "runtime/tensor/value.h"

namespace onyx {

// `opset` is the opset of the node's domain. Missing optional inputs are Values of kind none
// (or "" names in the node). Throws onyx::Error when no kernel exists or the kernel fails.
std::vector<Value> call_node(const Node& node, int64_t opset, const std::vector<Value>& inputs,
                             ExecutionProvider& provider, int threads = 1);

// Convenience for the CPU provider.
std::vector<Value> call_node_on_cpu(const Node& node, int64_t opset,
                                    const std::vector<Value>& inputs, int threads = 1);

// The error for a node no kernel serves, shared with the session's kernel resolution.
[[noreturn]] void throw_missing_kernel(const Node& node, int64_t opset, const std::string& provider);

}  // namespace onyx
