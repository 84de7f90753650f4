// Placement: which provider runs each node, and the copies between devices that follow.
//
// Each node goes to the first provider (in priority order) with a kernel for it that takes
// its inputs (KernelDef::supports), except shape computations: Shape and Size, and nodes that
// compute integer values only from such values and integer constants (Shape -> Gather ->
// Concat -> Reshape chains of models with dynamic dims), as long as their results are read only
// as shapes, stay on the host, where the device kernels that read them (Reshape's shape, Slice's
// starts, Expand's shape: onnx_ops/host_inputs.h and KernelDef::input_memory) want them; sending them to the
// device would cost a copy there and one back. A kernel's inputs are copied to where it reads
// them once per value and destination, however many nodes read the copy; graph outputs are
// brought to the host.
//
// Placement needs no device (kernels are only looked up, not created), so `onyx inspect
// --device cuda` shows it on a machine without a GPU.
#pragma once

#include <string>
#include <vector>

#include "providers/execution_provider.h"
#include "runtime/extensions/op_registry.h"
#include "runtime/ir/graph.h"
#include "runtime/session/type_inference.h"

namespace onyx {

struct PlannedCopy {
  std::string value;      // the value copied
  std::string copy_name;  // what its readers on `to` read: "<value>@<provider>"
  // Where the value is; null when only known at run time (a graph input, which a caller may
  // bind on a device): then the copy happens only if it is elsewhere than `to`.
  ExecutionProvider* from = nullptr;
  ExecutionProvider* to = nullptr;
  // A copy of an initializer: made once, when the session is created (weights are uploaded
  // once, not per run).
  bool of_constant = false;
};

struct NodePlacement {
  ExecutionProvider* provider = nullptr;
  const KernelDef* kernel = nullptr;
  // Why a node runs on the host although a device provider was asked for ("shape
  // computation", "no CUDA kernel for Op at opset N"); empty otherwise.
  std::string host_reason;
  int64_t opset = 0;
  // The node's inputs then its implicit (outer-scope) inputs, renamed to copies where made.
  std::vector<std::string> inputs;
  std::vector<PlannedCopy> copies_before;  // made just before the node runs
};

struct GraphPlacement {
  ExecutionProvider* host = nullptr;
  std::vector<NodePlacement> nodes;  // in graph.nodes order
  std::vector<std::string> outputs;  // where each graph output is read from (on the host)
  std::vector<PlannedCopy> output_copies;

  // Copies made on every run between two known devices inside the graph (not of graph inputs
  // or outputs, nor the one-time uploads of initializers).
  size_t inner_copy_count() const;
  size_t constant_upload_count() const;
};

// `outputs_to_host`: which graph outputs come back to the host (empty: all); the others stay
// where they are made.
GraphPlacement place_graph(const Graph& graph, const Model& model, const InferredTypes& types,
                           const std::vector<ExecutionProvider*>& providers,
                           const std::vector<std::string>& outer_inputs, const OpRegistry& ops,
                           const std::vector<bool>& outputs_to_host = {});

}  // namespace onyx
