// Conv + BatchNormalization folding (optimization level 1): an inference BatchNormalization
// whose input is the only use of a Conv with constant float weights, and whose parameters are
// constant, becomes part of that Conv: W'[m] = W[m]·s[m], B'[m] = (B[m] − mean[m])·s[m] + bias[m]
// with s = scale / sqrt(var + epsilon). The Conv then writes the BatchNormalization's output.
// (PyTorch folds BN on export; models from other exporters often keep it, and an unfused BN
// also breaks a channels-last chain.)
#pragma once

#include "runtime/ir/graph.h"

namespace onyx {

// Returns the number of BatchNormalizations folded; the weights they replaced may become dead
// (remove_dead_nodes drops them).
int fold_conv_batch_norm(Graph& graph);

}  // namespace onyx
