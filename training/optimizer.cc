#include "training/optimizer.h"

#include <cstring>

#include "runtime/common/error.h"
#include "training/eager_graph_call.h"

namespace onyx::training {

namespace {

Tensor zero_tensor(DataType dtype, const Shape& shape) {
  Tensor tensor(dtype, shape);
  std::memset(tensor.mutable_raw_data(), 0, tensor.byte_size());
  return tensor;
}

}  // namespace

Optimizer::Optimizer(const std::vector<OptimizerParameter>& params, OptimizerConfig config, SessionOptions options)
    : config_(std::move(config)), graph_(build_optimizer_graph(params, config_)), session_options_(options) {
  base_values_ = graph_.groups;
  schedules_.resize(base_values_.size());
  for (const auto& scheduled : config_.schedules) set_schedule(scheduled.hyperparameter, scheduled.schedule, scheduled.group);
  for (const auto& param : graph_.params) {
    for (const std::string& state : graph_.state_names) {
      state_[state_value_name(state, param.name)] = zero_tensor(param.dtype, param.shape);
    }
  }
}

void Optimizer::ensure_features() {
  UpdateFeatures needed = graph_.features;
  for (size_t g = 0; g < base_values_.size(); ++g) {
    if (hyperparameter("weight_decay", g) != 0.0) needed.weight_decay = true;
    if (config_.kind == OptimizerKind::kSgd && hyperparameter("dampening", g) != 0.0) needed.dampening = true;
  }
  if (needed == graph_.features) return;
  graph_ = build_optimizer_graph(graph_.params, config_, needed);
  session_.reset();
  ++graph_version_;
}

size_t Optimizer::group_of(const std::string& param) const {
  for (size_t i = 0; i < graph_.params.size(); ++i) {
    if (graph_.params[i].name == param) return graph_.group_of_param[i];
  }
  throw_error(ErrorCode::kInvalidArgument, "optimizer: '", param, "' is not a parameter it updates");
}

void Optimizer::check_group(const std::string& name, std::optional<size_t> group) const {
  const auto& names = hyperparameter_names(config_.kind);
  ONYX_CHECK(std::find(names.begin(), names.end(), name) != names.end(), ErrorCode::kInvalidArgument, "optimizer ",
             optimizer_kind_name(config_.kind), " has no hyper-parameter '", name, "'");
  ONYX_CHECK(!group || *group < base_values_.size(), ErrorCode::kInvalidArgument, "optimizer: group ", group.value_or(0),
             " does not exist (", base_values_.size(), " groups)");
}

void Optimizer::set_step_count(int64_t steps) {
  ONYX_CHECK(steps >= 0, ErrorCode::kInvalidArgument, "optimizer: step count must be >= 0, got ", steps);
  step_count_ = steps;
}

double Optimizer::base_hyperparameter(const std::string& name, size_t group) const {
  check_group(name, group);
  return base_values_[group].at(name);
}

double Optimizer::hyperparameter(const std::string& name, size_t group) const {
  const double base = base_hyperparameter(name, group);
  auto found = schedules_[group].find(name);
  return found == schedules_[group].end() ? base : found->second->value(step_count_, base);
}

void Optimizer::set_hyperparameter(const std::string& name, double value, std::optional<size_t> group) {
  check_group(name, group);
  if (name == "momentum" && value != 0.0 && config_.kind == OptimizerKind::kSgd) {
    ONYX_CHECK(!graph_.state_names.empty(), ErrorCode::kInvalidArgument,
               "optimizer sgd: momentum was 0 in every group when the optimizer was built, so it has no momentum "
               "buffers; configure a nonzero momentum (or a momentum schedule) up front");
  }
  for (size_t g = 0; g < base_values_.size(); ++g) {
    if (!group || *group == g) base_values_[g][name] = value;
  }
}

void Optimizer::set_schedule(const std::string& name, std::shared_ptr<Schedule> schedule, std::optional<size_t> group) {
  check_group(name, group);
  ONYX_CHECK(schedule != nullptr, ErrorCode::kInvalidArgument, "optimizer: null schedule for '", name, "'");
  for (size_t g = 0; g < schedules_.size(); ++g) {
    if (!group || *group == g) schedules_[g][name] = schedule;
  }
}

void Optimizer::set_state(const std::map<std::string, Tensor>& state) {
  for (const auto& [name, tensor] : state) {
    auto found = state_.find(name);
    ONYX_CHECK(found != state_.end(), ErrorCode::kInvalidArgument, "optimizer: unknown state '", name, "'");
    ONYX_CHECK(found->second.dtype() == tensor.dtype() && found->second.shape() == tensor.shape(), ErrorCode::kInvalidArgument,
               "optimizer: state '", name, "' is ", dtype_name(tensor.dtype()), shape_to_string(tensor.shape()),
               ", expected ", dtype_name(found->second.dtype()), shape_to_string(found->second.shape()));
  }
  ONYX_CHECK(state.size() == state_.size(), ErrorCode::kInvalidArgument, "optimizer: ", state.size(), " state tensors given, ",
             state_.size(), " expected");
  for (const auto& [name, tensor] : state) state_[name] = tensor.clone();
}

std::map<std::string, Value> Optimizer::state_and_hyperparameter_feeds() {
  ensure_features();
  std::map<std::string, Value> feeds;
  for (const auto& [name, tensor] : state_) feeds[name] = tensor;
  for (size_t g = 0; g < base_values_.size(); ++g) {
    for (const std::string& name : hyperparameter_names(config_.kind)) {
      feeds[hyperparameter_input_name(name, g)] = Tensor::scalar<float>(static_cast<float>(hyperparameter(name, g)));
    }
  }
  feeds[kStepInput] = Tensor::scalar<float>(static_cast<float>(step_count_ + 1));
  if (config_.max_grad_norm) feeds[kMaxGradNormInput] = Tensor::scalar<float>(static_cast<float>(*config_.max_grad_norm));
  return feeds;
}

std::map<std::string, Value> Optimizer::update_feeds(const std::map<std::string, Tensor>& params,
                                                     const std::map<std::string, Tensor>& gradients) {
  std::map<std::string, Value> feeds = state_and_hyperparameter_feeds();
  for (const auto& param : graph_.params) {
    auto value = params.find(param.name);
    ONYX_CHECK(value != params.end(), ErrorCode::kInvalidArgument, "optimizer step: parameter '", param.name, "' not given");
    auto gradient = gradients.find(param.name);
    ONYX_CHECK(gradient != gradients.end(), ErrorCode::kInvalidArgument, "optimizer step: no gradient for '", param.name, "'");
    ONYX_CHECK(gradient->second.dtype() == param.dtype && gradient->second.shape() == param.shape,
               ErrorCode::kInvalidArgument, "optimizer step: the gradient of '", param.name, "' is ",
               dtype_name(gradient->second.dtype()), shape_to_string(gradient->second.shape()), ", the parameter ",
               dtype_name(param.dtype), shape_to_string(param.shape));
    feeds[param.name] = value->second;
    feeds[gradient_input_name(param.name)] = gradient->second;
  }
  return feeds;
}

void Optimizer::accept_update(const std::map<std::string, Value>& outputs, std::map<std::string, Tensor>& params) {
  const std::string prefix = updated_name("");
  for (const auto& [output_name, value] : outputs) {
    if (output_name == kGradNormOutput) {
      last_gradient_norm_ = value.tensor().element_as_double(0);
      continue;
    }
    const std::string name = output_name.substr(prefix.size());
    auto state = state_.find(name);
    if (state != state_.end()) {
      state->second = value.tensor();
    } else {
      params[name] = value.tensor();
    }
  }
  ++step_count_;
}

void Optimizer::step(std::map<std::string, Tensor>& params, const std::map<std::string, Tensor>& gradients) {
  std::map<std::string, Value> feeds = update_feeds(params, gradients);
  if (!session_) session_ = std::make_unique<InferenceSession>(graph_.model, session_options_);
  std::map<std::string, Value> outputs;
  for (NamedValue& output : session_->run(feeds)) outputs[output.name] = std::move(output.value);
  accept_update(outputs, params);
}

void Optimizer::step_eagerly(std::map<std::string, Tensor>& params, const std::map<std::string, Tensor>& gradients) {
  std::map<std::string, Value> feeds = update_feeds(params, gradients);
  accept_update(call_graph_eagerly(graph_.model, feeds), params);
}

}  // namespace onyx::training
