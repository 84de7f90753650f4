// Graphs built once per configuration and called eagerly (losses.cc, metrics.cc): the training
// module's builders append to a small model whose inputs have the call's element types and
// ranks (dims unknown, so one graph serves every batch size).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/ir/graph.h"
#include "runtime/tensor/tensor.h"

namespace onyx::nn {

// A model with graph inputs `names` typed like `tensors` (unknown dims) and ai.onnx at the
// eager default opset, so recorded nodes use the same forms as the other eager ops.
Model stub_model_for(const std::vector<std::string>& names, const std::vector<Tensor>& tensors);

// The model `build` makes for `key`, built at the first use of the key on this thread.
const Model& cached_graph(const std::string& key, const std::function<Model()>& build);

// Runs `model` with `inputs` fed to its graph inputs in order; returns its first output.
Tensor call_first_output(const Model& model, const std::vector<Tensor>& inputs);

// "<dtype>/<rank>" of each tensor, for cache keys.
std::string type_key(const std::vector<Tensor>& tensors);

}  // namespace onyx::nn
