// The gradient builder: turns a forward model, a scalar loss output and a set of trainable
// values into one ONNX model that computes the loss and dLoss/d(each trainable value), using the
// per-op rules of gradient_rule.h. The result is a plain model: it can be saved, inspected and
// run by the inference session (and by onnxruntime where it has the ops).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "runtime/extensions/op_registry.h"
#include "runtime/ir/graph.h"

namespace onyx::training {

struct GradientGraphOptions {
  std::string loss{};  // name of a scalar (or one-element) float value of the forward graph
  // Initializers and graph inputs to differentiate with respect to. Empty: every
  // floating-point initializer that is not frozen and has a gradient path to the loss.
  std::vector<std::string> trainable{};
  std::vector<std::string> frozen{};  // never differentiated, even when listed in trainable
  // Training semantics: Dropout (opset 12+) gets training_mode = true, so it draws a mask, and
  // BatchNormalization (opset 14+) gets training_mode = 1, so it normalizes with the batch's
  // statistics and outputs updated running statistics (see GradientGraph::state_updates).
  // Older forms without the switch (Dropout 11, BatchNormalization 11-13) are rewritten into
  // primitive ops with the same meaning (training/training_mode.h).
  bool training_mode = true;
  // Where gradient and shape rules come from; null: the global registry (built-in ops and
  // globally registered custom ops). A session's ops() adds its own custom ops.
  const OpRegistry* ops = nullptr;
  // Whether rules may emit onyx's own training ops (com.onyx.training::ConvWeightGrad) where
  // the portable composition is slow. Only onyx runs such a graph: TrainingSession sets it;
  // `onyx gradient`, whose models other runtimes load, does not.
  bool onyx_ops = false;
  // Data-parallel training: nonzero (a distributed::register_communicator number) makes
  // training-mode BatchNormalization use the statistics of the batch over all ranks.
  int64_t sync_batch_norm_communicator = 0;
};

struct GradientGraph {
  // The forward graph plus backward nodes. Outputs: the forward outputs (plus the loss when it
  // is not one of them), then one gradient per trainable value in `gradients` order, then the
  // updated running statistics in `state_updates` order.
  Model model;
  std::vector<std::pair<std::string, std::string>> gradients;  // trainable value -> its gradient
  // Training-mode BatchNormalization: running mean/var initializer -> output with its new value
  // (what an optimizer step copies back into the initializer).
  std::vector<std::pair<std::string, std::string>> state_updates;
};

// With `trainable` empty, the trainable values are the floating-point initializers (not frozen)
// that the loss has a gradient path to: running statistics and other non-differentiable inputs
// are left out. A value listed in `trainable` that the loss does not depend on gets zeros.
// Throws onyx::Error naming the op (and node) when an op on the path from a trainable value to
// the loss has no gradient rule, and for models below ai.onnx opset 11 (kMinGradientOpset).
// Models at opset 14 or 15 come back declared at 16 (see docs/architecture.md).
GradientGraph build_gradient_graph(const Model& forward, const GradientGraphOptions& options);

}  // namespace onyx::training
