// Reproducible dropout for training. ONNX Dropout draws its mask from a generator the graph
// cannot set per run, so training graphs use com.onyx.training::SeededDropout(x, ratio, seed)
// -> (y, mask) instead: the seed is an int64 graph input that the TrainingSession draws from its
// own generator each step, so a run is reproducible and a checkpoint (which saves that
// generator) resumes with the same masks. Kernel, shape rule and gradient rule are in the .cc.
#pragma once

#include <string>

#include "providers/cpu/training_ops/onyx_training_ops.h"  // kTrainingDomain
#include "runtime/ir/graph.h"

namespace onyx::training {

inline constexpr const char* kDropoutSeedInput = "onyx_dropout_seed";

// Replaces every training-mode Dropout (opset 12+, training_mode a true constant) with
// SeededDropout reading the int64 scalar input kDropoutSeedInput (added when there is any).
// Returns whether it replaced one.
bool use_seeded_dropout(Model& model);

}  // namespace onyx::training
