// How often each value of a graph is read: by its nodes' inputs, by the subgraphs they own
// (outer-scope reads), and by the graph's outputs. Rewrites use it to know whether a value
// they are about to absorb has other readers.
#pragma once

#include <map>
#include <string>

#include "runtime/ir/graph.h"

namespace onyx {

std::map<std::string, int> count_value_reads(const Graph& graph);

}  // namespace onyx
