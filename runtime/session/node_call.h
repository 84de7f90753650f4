// Runs one node on concrete inputs, outside any session plan: creates its kernel with input
// types taken from the values, computes, and returns the outputs. Constant folding, eager
// calls and kernel unit tests all go through this one path.
#pragma once

#include <vector>

#include "providers/execution_provider.h"
#include "runtime/extensions/op_registry.h"
#include "runtime/ir/graph.h"
#include "runtime/tensor/value.h"

namespace onyx {

// `opset` is the opset of the node's domain. Missing optional inputs are Values of kind none
// (or "" names in the node). Kernels come from `ops` (custom ops included). Throws onyx::Error
// when no kernel exists or the kernel fails.
std::vector<Value> call_node(const Node& node, int64_t opset, const std::vector<Value>& inputs,
                             ExecutionProvider& provider, int threads = 1,
                             const OpRegistry& ops = OpRegistry::global());

// Convenience for the CPU provider.
std::vector<Value> call_node_on_cpu(const Node& node, int64_t opset,
                                    const std::vector<Value>& inputs, int threads = 1,
                                    const OpRegistry& ops = OpRegistry::global());

// The error for a node no kernel serves, shared with the session's kernel resolution. For an
// op of a custom domain it lists the custom ops `ops` knows, so a library registered under the
// wrong domain or version shows at once.
[[noreturn]] void throw_missing_kernel(const Node& node, int64_t opset, const std::string& provider,
                                       const OpRegistry& ops = OpRegistry::global());

}  // namespace onyx
