// Export: a module's forward traced (in eval mode) into an ONNX inference model that `onyx run`
// and onnxruntime run, with every parameter and buffer an initializer named by its dotted path
// ("0.weight"), the names state_dict() uses. The same file is a trainable artifact: `onyx train`
// trains its float initializers (Dropout is exported as an ONNX Dropout, BatchNorm as
// BatchNormalization with its running statistics, so the trainer switches them to training
// mode itself), and export_trainable_model records the loss to train it with.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runtime/ir/graph.h"
#include "training/losses.h"
#include "training/nn/module.h"

namespace onyx::nn {

struct ExportOptions {
  std::vector<std::string> input_names;   // default "input_<k>"
  std::vector<std::string> output_names;  // default "output_<k>"
  bool dynamic_batch = true;              // dim 0 of every input a symbolic "batch" dim
};

// The model for inputs shaped like `examples` (their values are not used).
Model export_model(Module& module, const std::vector<Tensor>& examples, const ExportOptions& options = {});
// Writes it atomically.
void export_inference_model(Module& module, const std::vector<Tensor>& examples, const std::filesystem::path& path,
                            const ExportOptions& options = {});
// The same model with the loss named in its metadata ("onyx.nn.loss": the `onyx train --loss`
// name), for `onyx train FILE --loss <that name>`.
void export_trainable_model(Module& module, const std::vector<Tensor>& examples, training::LossKind loss,
                            const std::filesystem::path& path, const ExportOptions& options = {});

}  // namespace onyx::nn
