// The training module's losses (training/losses.h: PyTorch's semantics) called on eager
// tensors. Each call runs the very graph `onyx train` appends to a model (built once per
// configuration and input type, then called node by node through the eager dispatcher), so it
// is differentiable on a GradientTape and traces inside onyx::function. A custom loss is just a
// function of eager tensors: see tools/examples/nn_custom_loss.cc.
#pragma once

#include <optional>

#include "runtime/tensor/tensor.h"
#include "training/losses.h"

namespace onyx::nn {

using training::Reduction;

// `spec.prediction`, `spec.target` and `spec.output` are ignored (the graph's own names).
Tensor loss(const training::LossSpec& spec, const Tensor& prediction, const Tensor& target);

Tensor mse_loss(const Tensor& prediction, const Tensor& target, Reduction reduction = Reduction::kMean);
Tensor l1_loss(const Tensor& prediction, const Tensor& target, Reduction reduction = Reduction::kMean);
Tensor huber_loss(const Tensor& prediction, const Tensor& target, float delta = 1.0f,
                  Reduction reduction = Reduction::kMean);
Tensor bce_with_logits_loss(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::kMean);

struct CrossEntropyOptions {
  Reduction reduction = Reduction::kMean;
  std::optional<int64_t> ignore_index;
  std::optional<Tensor> class_weights;
  float label_smoothing = 0.0f;
};
// logits [batch, classes, ...] against int64 class indices [batch, ...].
Tensor cross_entropy_loss(const Tensor& logits, const Tensor& labels, const CrossEntropyOptions& options = {});
// log-probabilities against class indices.
Tensor nll_loss(const Tensor& log_probabilities, const Tensor& labels, const CrossEntropyOptions& options = {});

}  // namespace onyx::nn
