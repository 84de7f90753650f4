// Whole-graph type and shape inference: walks the (sorted) nodes, runs each op's shape rule
// from onnx_ops/ on the types known so far, and merges the result with what the model
// declares. Ops without a rule leave their outputs unknown; the runtime then sizes them when
// they run.
#pragma once

#include <map>
#include <string>

#include "runtime/extensions/op_registry.h"
#include "runtime/ir/graph.h"

namespace onyx {

struct InferredTypes {
  std::map<std::string, TypeInfo> types;

  const TypeInfo* find(const std::string& name) const {
    auto it = types.find(name);
    return it == types.end() ? nullptr : &it->second;
  }
};

// `outer` holds the types visible from an enclosing graph (for subgraphs). Shape rules come
// from `ops` (a session's registry sees its custom ops).
InferredTypes infer_types(const Graph& graph, const Model& model, const InferredTypes* outer = nullptr,
                          const OpRegistry& ops = OpRegistry::global());

// Combines a declared and an inferred type: known facts from either win; a conflict between
// known facts throws kInvalidModel naming the value.
TypeInfo merge_types(const std::string& value_name, const TypeInfo& declared, const TypeInfo& inferred);

}  // namespace onyx
