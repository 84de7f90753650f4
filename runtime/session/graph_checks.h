// Structural validation of a graph before anything runs: every value a node reads is defined
// exactly once (graph input, initializer, an earlier node's output, or an outer scope for
// subgraphs), and nodes are put in topological order.
#pragma once

#include <set>
#include <string>

#include "runtime/ir/graph.h"

namespace onyx {

// Reorders graph.nodes topologically (stable where already ordered) and throws kInvalidModel
// naming the node and the value for a reference to an undefined value, a value defined twice,
// or a cycle. `outer_scope` names values visible from an enclosing graph.
void validate_and_sort_graph(Graph& graph, const std::set<std::string>& outer_scope = {});

}  // namespace onyx
