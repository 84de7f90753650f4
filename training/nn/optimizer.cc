#include "training/nn/optimizer.h"

#include "runtime/common/error.h"
#include "runtime/eager/trace.h"

namespace onyx::nn {

namespace {

Named<Parameter*> trainable_parameters_of(Module& module) {
  ONYX_CHECK(module.is_built(), ErrorCode::kInvalidArgument, "optimizer: ", module.type_name(),
             " has lazy layers that have not seen an input yet (their parameters do not exist): call the model "
             "once on an example batch before creating the optimizer");
  Named<Parameter*> trainable;
  for (auto& [name, parameter] : module.named_parameters()) {
    if (parameter->trainable) trainable.emplace_back(name, parameter);
  }
  return trainable;
}

}  // namespace

Optimizer::Optimizer(Module& module, training::OptimizerConfig config)
    : Optimizer(trainable_parameters_of(module), std::move(config)) {}

Optimizer::Optimizer(Named<Parameter*> parameters, training::OptimizerConfig config) {
  ONYX_CHECK(!parameters.empty(), ErrorCode::kInvalidArgument, "optimizer: no trainable parameters");
  std::vector<training::OptimizerParameter> declared;
  for (auto& [name, parameter] : parameters) {
    ONYX_CHECK(parameter != nullptr, ErrorCode::kInvalidArgument, "optimizer: parameter '", name, "' is null");
    ONYX_CHECK(index_of_.emplace(parameter, parameters_.size()).second, ErrorCode::kInvalidArgument,
               "optimizer: parameter '", name, "' is listed twice");
    parameters_.push_back(parameter);
    names_.push_back(name);
    declared.push_back({name, parameter->value.dtype(), parameter->value.shape()});
  }
  core_ = std::make_unique<training::Optimizer>(declared, std::move(config));
}

std::vector<Tensor> Optimizer::tensors() const {
  std::vector<Tensor> result;
  for (const Parameter* parameter : parameters_) result.push_back(parameter->value);
  return result;
}

void Optimizer::apply_gradients(const std::vector<Tensor>& grads) { apply_gradients(grads, parameters_); }

void Optimizer::apply_gradients(const std::vector<Tensor>& grads, const std::vector<Parameter*>& params) {
  // State updated inside someone else's trace would be left holding symbolic tensors.
  ONYX_CHECK(eager::current_trace() == nullptr, ErrorCode::kInvalidArgument,
             "apply_gradients inside onyx::function: the optimizer's state would become graph values; trace the "
             "whole step with nn::TracedTrainStep, which carries parameters and optimizer state through the graph");
  ONYX_CHECK(grads.size() == params.size(), ErrorCode::kInvalidArgument, "apply_gradients: ", grads.size(),
             " gradients for ", params.size(), " parameters");
  ONYX_CHECK(params.size() == parameters_.size(), ErrorCode::kInvalidArgument, "apply_gradients: the optimizer updates ",
             parameters_.size(), " parameters, ", params.size(), " given");
  std::map<std::string, Tensor> values, gradients;
  for (size_t i = 0; i < params.size(); ++i) {
    auto found = index_of_.find(params[i]);
    ONYX_CHECK(found != index_of_.end(), ErrorCode::kInvalidArgument, "apply_gradients: parameter ", i,
               " is not one this optimizer updates");
    const std::string& name = names_[found->second];
    ONYX_CHECK(!gradients.count(name), ErrorCode::kInvalidArgument, "apply_gradients: '", name, "' is given twice");
    ONYX_CHECK(grads[i].defined(), ErrorCode::kInvalidArgument, "apply_gradients: no gradient for '", name, "'");
    values[name] = params[i]->value;
    gradients[name] = grads[i];
  }
  core_->step_eagerly(values, gradients);
  for (size_t i = 0; i < parameters_.size(); ++i) parameters_[i]->value = values.at(names_[i]);
}

}  // namespace onyx::nn
