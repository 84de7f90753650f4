// Loss functions appended to a forward model: the built-in losses (PyTorch's semantics, written
// with standard ONNX ops so any runtime can run and differentiate them) and user losses given as
// an ONNX graph. Each adds a target graph input (where it needs one) and a scalar loss output.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/ir/graph.h"
#include "runtime/tensor/tensor.h"

namespace onyx::training {

enum class LossKind { kMse, kL1, kHuber, kCrossEntropy, kNll, kBceWithLogits };
enum class Reduction { kMean, kSum, kNone };

// "mse", "l1", "huber", "cross_entropy", "nll", "bce_with_logits" (the CLI's --loss names).
LossKind parse_loss_kind(std::string_view name);
std::string_view loss_kind_name(LossKind kind);
Reduction parse_reduction(std::string_view name);  // "mean", "sum", "none"

struct LossSpec {
  LossKind kind = LossKind::kMse;
  // Forward output the loss reads; empty: the model's first output.
  std::string prediction;
  // Name of the graph input the loss adds for the targets (class indices, int64, for
  // cross_entropy and nll; the prediction's type otherwise).
  std::string target = "target";
  Reduction reduction = Reduction::kMean;
  std::optional<int64_t> ignore_index;  // cross_entropy and nll
  // Per-class weights [classes] for cross_entropy and nll (torch's `weight`): the mean becomes
  // sum(w[c_i] l_i) / sum(w[c_i]).
  std::optional<Tensor> class_weights;
  // cross_entropy: mixes in the uniform distribution, (1 - e) CE + e mean_c(-log p_c)
  // (torch's label_smoothing; not combined with class weights).
  float label_smoothing = 0.0f;
  float huber_delta = 1.0f;
  // Name of the loss output the model gets.
  std::string output = "loss";
};

struct AppendedLoss {
  std::string loss;                  // the loss value (a graph output)
  std::vector<std::string> targets;  // graph inputs the loss added (fed with each batch)
};

// Appends the loss nodes, the target input and the loss output to `model`.
AppendedLoss append_loss(Model& model, const LossSpec& spec);

// Appends a user loss: `loss_model`'s first output is the loss. Each of its inputs is bound to
// the forward value named by `bindings[input]`, or to the forward value of the same name, or
// else becomes a new graph input (a target). Its nodes and initializers are renamed under
// "loss/" so they cannot clash with the forward graph; custom-domain nodes keep their domain
// (the gradient builder differentiates them through their registered gradient rule).
AppendedLoss append_loss_graph(Model& model, const Model& loss_model,
                               const std::map<std::string, std::string>& bindings = {},
                               const std::string& output = "loss");

}  // namespace onyx::training
