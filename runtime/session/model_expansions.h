// Model expansions: rewrites that replace ops defined in terms of the rest of the model by
// plain nodes before a session validates the graph. The ONNX `Gradient` op
// (ai.onnx.preview.training) is one: training/gradient_op.cc registers the expansion that
// replaces it with the backward nodes of the enclosing graph. Kept as a registry so the
// session does not depend on the training module.
#pragma once

#include <functional>
#include <string>

#include "runtime/common/macros.h"
#include "runtime/ir/graph.h"

namespace onyx {

using ModelExpansion = std::function<void(Model&)>;

void register_model_expansion(const std::string& name, ModelExpansion expansion);
// Runs every registered expansion on the model (each returns at once when it finds nothing).
void apply_model_expansions(Model& model);

namespace detail {
struct ModelExpansionRegistrar {
  ModelExpansionRegistrar(const char* name, ModelExpansion expansion) {
    register_model_expansion(name, std::move(expansion));
  }
};
}  // namespace detail

}  // namespace onyx

#define ONYX_REGISTER_MODEL_EXPANSION(name, expansion)                                  \
  static const ::onyx::detail::ModelExpansionRegistrar ONYX_CONCAT(onyx_expansion_, \
                                                                   __COUNTER__)(name, expansion)
