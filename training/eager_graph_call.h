// Runs an ONNX graph node by node through the eager dispatcher (runtime/eager/op_dispatch.h).
// The training module builds its losses, metrics and optimizer updates as graphs; calling such a
// graph here gives eager code the very same computation, op for op: each node is one eager call,
// so it records on a GradientTape (losses are differentiable) and, inside onyx::function, is
// traced into the enclosing graph (a traced training step contains the optimizer's update).
#pragma once

#include <map>
#include <string>

#include "runtime/ir/graph.h"
#include "runtime/tensor/value.h"

namespace onyx::training {

// Every graph input without an initializer must be in `inputs`. Returns the graph outputs by
// name. Nodes run in the graph's order (builders append them topologically); a node with graph
// attributes (Loop, If, Scan) is refused: the training graphs this serves have none.
std::map<std::string, Value> call_graph_eagerly(const Model& model, const std::map<std::string, Value>& inputs);

}  // namespace onyx::training
