// How often each value of a graph is read: by its nodes' inputs, by the subgraphs they own
// (outer-scope reads), and by the graph's outputs. Rewrites use it to know whether a value
// they are about to absorb has other readers.
#pragma once

#include <map>
#include <string>

#include "runtime/ir/graph.h"

namespace onyx {

std::map<std::string, int> count_value_reads(const Graph& graph);

// The initializer named `name` when it is a constant: an initializer that a graph input of the
// same name may override at run time is not one. Null otherwise.
const Tensor* constant_initializer(const Graph& graph, const std::string& name);

}  // namespace onyx
