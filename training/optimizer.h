// The optimizer at run time: the update graph (optimizers.h), the optimizer state, the step
// count and the hyper-parameter values (base values plus schedules). Parameters and gradients
// are handed in as tensors; updated parameters come back as new tensors that replace the old
// ones (no copies: the outputs are kept). The one update graph runs two ways: compiled as a
// session (`step`, what TrainingSession uses) or node by node through the eager dispatcher
// (`step_eagerly`, what onyx::nn uses: it records on tapes and traces inside onyx::function).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/session/inference_session.h"
#include "training/optimizers.h"

namespace onyx::training {

class Optimizer {
 public:
  Optimizer(const std::vector<OptimizerParameter>& params, OptimizerConfig config, SessionOptions options = {});

  // One update. Every parameter must have a gradient of its shape; `params` entries are
  // replaced by their updated values.
  void step(std::map<std::string, Tensor>& params, const std::map<std::string, Tensor>& gradients);
  // The same update, each node of the update graph one eager op call.
  void step_eagerly(std::map<std::string, Tensor>& params, const std::map<std::string, Tensor>& gradients);

  // The pieces of a step, for callers that run the update graph themselves (a traced training
  // step feeds these as graph inputs). The update graph's inputs other than parameters and
  // gradients: state, hyper-parameters for the next update, step and max_grad_norm. Rebuilds
  // the graph first when a hyper-parameter now needs a part it left out (graph_version counts).
  std::map<std::string, Value> state_and_hyperparameter_feeds();
  // Takes the update graph's outputs ("updated/<name>", "grad_norm"): state is kept, updated
  // parameters replace their `params` entries, and the step is counted.
  void accept_update(const std::map<std::string, Value>& outputs, std::map<std::string, Tensor>& params);
  size_t graph_version() const { return graph_version_; }

  const OptimizerConfig& config() const { return config_; }
  const OptimizerGraph& graph() const { return graph_; }
  size_t group_count() const { return base_values_.size(); }
  size_t group_of(const std::string& param) const;

  // Number of updates made so far; the next update is step_count() + 1 in torch's counting.
  int64_t step_count() const { return step_count_; }
  void set_step_count(int64_t steps);

  // The value the next update uses (the schedule applied to the base value).
  double hyperparameter(const std::string& name, size_t group = 0) const;
  double base_hyperparameter(const std::string& name, size_t group = 0) const;
  // Sets the base value in one group or, with no group, in every group.
  void set_hyperparameter(const std::string& name, double value, std::optional<size_t> group = std::nullopt);
  void set_schedule(const std::string& name, std::shared_ptr<Schedule> schedule,
                    std::optional<size_t> group = std::nullopt);
  double learning_rate(size_t group = 0) const { return hyperparameter("lr", group); }
  void set_learning_rate(double lr, std::optional<size_t> group = std::nullopt) { set_hyperparameter("lr", lr, group); }

  // State tensors by value name ("exp_avg/<param>", ...); zeros until the first update.
  const std::map<std::string, Tensor>& state() const { return state_; }
  // Replaces the state (checkpoint loading): names, types and shapes must match.
  void set_state(const std::map<std::string, Tensor>& state);
  // The gradients' global norm before clipping at the last update (clipping configured).
  std::optional<double> last_gradient_norm() const { return last_gradient_norm_; }

 private:
  void check_group(const std::string& name, std::optional<size_t> group) const;
  // Rebuilds the update graph when a hyper-parameter now needs a part it left out.
  void ensure_features();
  std::map<std::string, Value> update_feeds(const std::map<std::string, Tensor>& params,
                                            const std::map<std::string, Tensor>& gradients);

  OptimizerConfig config_;
  OptimizerGraph graph_;
  std::unique_ptr<InferenceSession> session_;  // compiled at the first `step`
  size_t graph_version_ = 0;
  SessionOptions session_options_;
  std::vector<std::map<std::string, double>> base_values_;  // per group
  // schedules_[group][hyper-parameter]
  std::vector<std::map<std::string, std::shared_ptr<Schedule>>> schedules_;
  std::map<std::string, Tensor> state_;
  int64_t step_count_ = 0;
  std::optional<double> last_gradient_norm_;
};

}  // namespace onyx::training
