// Constant folding: a node whose inputs are all constant (initializers that no feed can
// override, or outputs of nodes already folded) is run once at session creation with the CPU
// kernel and replaced by an initializer. Shape and Size of statically shaped values fold too,
// which lets shape inference see through Shape -> Gather -> Concat -> Reshape chains.
#pragma once

#include "runtime/ir/graph.h"
#include "runtime/session/type_inference.h"

namespace onyx {

// Returns the number of nodes folded. Values they read may become dead: run
// remove_dead_nodes after it.
int fold_constants(Graph& graph, const Model& model, const InferredTypes& types);

// Removes nodes none of whose outputs reach a graph output (or a subgraph that reads them).
int remove_dead_nodes(Graph& graph);

}  // namespace onyx
