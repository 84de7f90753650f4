// Turning a forward model into the models a training session runs: trainable initializers
// become graph inputs (fed every step, so updating them needs no recompilation and constant
// folding cannot bake them in), and ops whose behaviour depends on train/eval mode are set to
// the wanted mode.
#pragma once

#include <string>
#include <vector>

#include "runtime/ir/graph.h"

namespace onyx::training {

// Initializer names matching `patterns`: exact names, or shell-style patterns with '*' and '?'
// ("encoder.*", "*.bias"). Throws when a name is not an initializer or a pattern matches none;
// `what` ("trainable", "frozen") names the list in that error.
std::vector<std::string> expand_initializer_names(const Model& model, const std::vector<std::string>& patterns,
                                                  const char* what);

// The trainable parameters: `trainable` if given (names or patterns of floating-point
// initializers), else every floating-point initializer; those in `frozen` are left out.
std::vector<std::string> select_trainable(const Model& model, const std::vector<std::string>& trainable,
                                          const std::vector<std::string>& frozen);

// Moves the named initializers to graph inputs of the same name and type.
void initializers_to_inputs(Model& model, const std::vector<std::string>& names);

// torch.onnx.export shares equal initializers, so a fresh BatchNorm's running variance may be
// Identity(its weight) (both all ones). Running statistics must be initializers of their own to
// be updated: this turns each such Identity-of-an-initializer into a copy of the initializer.
void separate_running_statistics(Model& model);

// Whether the model has ops that behave differently in training: Dropout from opset 12 and
// BatchNormalization from opset 14.
bool has_mode_dependent_ops(const Model& model);
// Sets every Dropout's training_mode input and BatchNormalization's training_mode attribute
// (batch statistics in training). Running statistics are output and kept only by the gradient
// graph, where the gradient builder adds those outputs.
void set_training_mode(Model& model, bool training);

}  // namespace onyx::training
