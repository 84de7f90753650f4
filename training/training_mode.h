// Training semantics for a forward model before it is differentiated: Dropout draws a mask and
// BatchNormalization normalizes with the batch's statistics and updates its running ones.
// Opset 12+ Dropout and 14+ BatchNormalization have switches for it; the older forms down to
// opset 11, the oldest differentiated (Dropout 11, BatchNormalization 11-13), are rewritten
// into the equivalent primitive ops.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "runtime/ir/graph.h"
#include "runtime/session/type_inference.h"
#include "training/backward_pass.h"

namespace onyx::training {

// Rewrites `model` (sorted, with `types` inferred) in place; returns the running statistics
// it updates: initializer -> value holding its new contents. A nonzero `sync_communicator` (a
// number from distributed::register_communicator) computes BatchNormalization's batch
// statistics over all its ranks.
std::vector<std::pair<std::string, std::string>> switch_to_training_mode(Model& model,
                                                                         const InferredTypes& types,
                                                                         NameSource& names,
                                                                         int64_t sync_communicator = 0);

}  // namespace onyx::training
