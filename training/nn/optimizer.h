// Optimizers for modules: the training module's optimizer (training/optimizer.h: SGD, Adam,
// AdamW, parameter groups, schedules, gradient clipping; torch.optim's math) applied to a
// module's parameters. The update is the same update graph TrainingSession runs, executed node
// by node through the eager dispatcher (one fused AdamUpdate/SgdUpdate op per parameter by
// default), so it also traces inside onyx::function: one implementation for graph and eager.
//
//   nn::Optimizer optimizer(model, training::adam(1e-3));
//   auto grads = tape.gradient(loss, optimizer.tensors());
//   optimizer.apply_gradients(grads);            // or apply_gradients(grads, params)
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "training/nn/module.h"
#include "training/optimizer.h"

namespace onyx::nn {

class Optimizer {
 public:
  // The module's trainable parameters (it must be built: call a lazy model once first).
  Optimizer(Module& module, training::OptimizerConfig config);
  // Named parameters; group names in config.groups refer to these names.
  Optimizer(Named<Parameter*> parameters, training::OptimizerConfig config);

  // The parameters it updates, in order, and their current tensors (what to watch on a tape).
  const std::vector<Parameter*>& parameters() const { return parameters_; }
  std::vector<Tensor> tensors() const;
  const std::vector<std::string>& names() const { return names_; }

  // One update with `grads[i]` the gradient of parameters()[i].
  void apply_gradients(const std::vector<Tensor>& grads);
  // Keras' form: gradients paired with the parameters they belong to (any order, each of the
  // optimizer's parameters exactly once).
  void apply_gradients(const std::vector<Tensor>& grads, const std::vector<Parameter*>& params);
  void step(const std::vector<Tensor>& grads) { apply_gradients(grads); }

  // Hyper-parameters, schedules, state and step count: the training optimizer's.
  training::Optimizer& core() { return *core_; }
  const training::Optimizer& core() const { return *core_; }
  double learning_rate(size_t group = 0) const { return core_->learning_rate(group); }
  void set_learning_rate(double lr) { core_->set_learning_rate(lr); }
  int64_t step_count() const { return core_->step_count(); }

 private:
  std::vector<Parameter*> parameters_;
  std::vector<std::string> names_;
  std::map<const Parameter*, size_t> index_of_;
  std::unique_ptr<training::Optimizer> core_;
};

}  // namespace onyx::nn
