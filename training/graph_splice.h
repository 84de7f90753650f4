// Splices one model's graph into another: used for user losses and user metrics given as ONNX
// graphs. Inputs are bound to values of the host graph or become new host inputs; every other
// name is prefixed so the pieces cannot clash.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/ir/graph.h"

namespace onyx::training {

struct SplicedGraph {
  std::vector<std::string> outputs;     // host names of the piece's outputs, in order
  std::vector<std::string> new_inputs;  // piece inputs that became host graph inputs
};

// Binding of a piece input: `bindings[input]` if given, else the host value of the same name
// (graph input, initializer or node output), else a new host input named like the piece input.
// Opsets are merged; the same domain at two different versions is an error (the piece's nodes
// would change meaning).
SplicedGraph splice_graph(Model& host, const Model& piece, const std::map<std::string, std::string>& bindings,
                          const std::string& prefix);

}  // namespace onyx::training
