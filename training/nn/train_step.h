// A training step over a module: forward, loss, gradients (GradientTape) and the optimizer's
// update. `eager_train_step` runs it op by op; TracedTrainStep traces the same code once into one
// graph (parameters, buffers, optimizer state, hyper-parameters and step as graph inputs, their
// updated values as outputs; onyx::function's tracing, run by an InferenceSession) and then
// only runs that graph, writing the results back into the module and the optimizer, so eager
// and traced steps can be mixed freely. The graph is traced again when the input types or
// shapes change or the optimizer rebuilds its update graph.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "runtime/session/inference_session.h"
#include "training/nn/module.h"
#include "training/nn/optimizer.h"

namespace onyx::nn {

// The loss of a batch from the model's outputs and the targets.
using LossFunction = std::function<Tensor(const std::vector<Tensor>& outputs, const std::vector<Tensor>& targets)>;

struct StepResult {
  Tensor loss;
  std::vector<Tensor> outputs;  // the model's outputs for the batch (before the update)
};

StepResult eager_train_step(Module& model, Optimizer& optimizer, const LossFunction& loss,
                            const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets);

class TracedTrainStep {
 public:
  TracedTrainStep(Module& model, Optimizer& optimizer, LossFunction loss, SessionOptions options = {});
  ~TracedTrainStep();

  StepResult operator()(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets);

  // The graph of the last trace (Netron, `onyx inspect`); throws before the first call.
  const Model& graph() const;
  size_t trace_count() const { return trace_count_; }

 private:
  struct Traced;
  void trace(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets);

  Module& model_;
  Optimizer& optimizer_;
  LossFunction loss_;
  SessionOptions options_;
  std::unique_ptr<Traced> traced_;
  size_t trace_count_ = 0;
};

}  // namespace onyx::nn
