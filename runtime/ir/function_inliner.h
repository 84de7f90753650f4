// Model-local functions (ModelProto.functions) are expanded in place at load time: a call
// node becomes the function's body with inputs, outputs and attribute references bound and
// internal values renamed apart, so the rest of the engine only ever sees plain graphs.
#pragma once

#include <filesystem>

#include "runtime/ir/graph.h"

namespace onnx {
class ModelProto;
}

namespace onyx {

void inline_model_functions(const onnx::ModelProto& proto, const std::filesystem::path& model_dir,
                            Model& model);

}  // namespace onyx
