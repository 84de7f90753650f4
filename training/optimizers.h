// Optimizers as ONNX graphs. An optimizer's update is built once as a graph whose inputs are the
// parameters, their gradients, the optimizer state and the hyper-parameters (one scalar input
// per hyper-parameter and parameter group), and whose outputs are the updated parameters and
// state. Hyper-parameters being inputs lets a schedule change any of them every step without
// rebuilding anything; the update being graph nodes lets it run on the provider that holds the
// parameters. The math follows torch.optim (1.13) step for step, so trajectories match PyTorch
// to float rounding.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/ir/graph.h"
#include "training/schedules.h"

namespace onyx::training {

enum class OptimizerKind { kSgd, kAdam, kAdamW };

std::string_view optimizer_kind_name(OptimizerKind kind);
// Hyper-parameters of a kind: SGD "lr", "momentum", "dampening", "weight_decay"; Adam and AdamW
// "lr", "beta1", "beta2", "eps", "weight_decay".
const std::vector<std::string>& hyperparameter_names(OptimizerKind kind);

struct ParamGroup {
  std::vector<std::string> params;
  std::map<std::string, double> hyperparameters;  // overrides of OptimizerConfig::defaults
};

struct ScheduledHyperparameter {
  std::string hyperparameter;  // "lr", "momentum", ...
  std::shared_ptr<Schedule> schedule;
  std::optional<size_t> group;  // nullopt: every group
};

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  std::map<std::string, double> defaults;  // every hyper-parameter of `kind`
  bool nesterov = false;                   // SGD
  bool amsgrad = false;                    // Adam, AdamW
  bool maximize = false;
  // Parameters not listed in any group form one more group with the defaults (last).
  std::vector<ParamGroup> groups;
  std::vector<ScheduledHyperparameter> schedules;
  // Clip the gradients' global L2 norm to this before the update (torch.nn.utils.clip_grad_norm_).
  std::optional<double> max_grad_norm;
  // One onyx node per parameter (com.onyx.training::AdamUpdate / SgdUpdate,
  // providers/cpu/training_ops/onyx_training_ops.h:
  // one pass, no intermediate tensors) instead of the standard-op composition other runtimes
  // can run. Same arithmetic either way.
  bool fused = true;
};

OptimizerConfig sgd(double lr, double momentum = 0.0, double dampening = 0.0, double weight_decay = 0.0,
                    bool nesterov = false);
OptimizerConfig adam(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                     double weight_decay = 0.0, bool amsgrad = false);
OptimizerConfig adamw(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                      double weight_decay = 1e-2, bool amsgrad = false);
// The CLI's --optimizer names: "sgd", "momentum" (SGD with momentum 0.9), "adam", "adamw".
OptimizerConfig optimizer_from_name(std::string_view name, double lr);

// Sets a hyper-parameter for every group that does not override it (the CLI's --lr,
// --weight-decay, --momentum ...); throws listing the kind's hyper-parameters for a wrong name.
void set_default_hyperparameter(OptimizerConfig& config, const std::string& name, double value);

struct OptimizerParameter {
  std::string name;
  DataType dtype = DataType::kFloat;
  Shape shape;
};

// Names of the update graph's values.
std::string gradient_input_name(const std::string& param);                       // "grad/<p>"
std::string state_value_name(const std::string& state, const std::string& param);  // "<state>/<p>"
std::string hyperparameter_input_name(const std::string& name, size_t group);      // "<name>/group<g>"
std::string updated_name(const std::string& value);                                // "updated/<value>"
inline constexpr const char* kStepInput = "step";  // 1-based index of the update being made
inline constexpr const char* kMaxGradNormInput = "max_grad_norm";
inline constexpr const char* kGradNormOutput = "grad_norm";  // before clipping, when clipping

// Optional parts of the update graph. Like torch, which skips weight decay and dampening when
// they are 0, the graph leaves them out when no group uses them (Optimizer rebuilds the graph
// if a later value or schedule needs them).
struct UpdateFeatures {
  bool weight_decay = true;
  bool dampening = true;  // SGD
  bool operator==(const UpdateFeatures&) const = default;
};
// The features the configured values and schedules need.
UpdateFeatures needed_features(const OptimizerConfig& config);

struct OptimizerGraph {
  UpdateFeatures features;
  Model model;
  std::vector<OptimizerParameter> params;
  std::vector<size_t> group_of_param;         // index into groups, per params entry
  std::vector<std::map<std::string, double>> groups;  // resolved hyper-parameters per group
  std::vector<std::string> state_names;       // per parameter: "momentum_buffer" or "exp_avg", ...
};

// Throws when a parameter is listed in two groups or a group names an unknown parameter or
// hyper-parameter.
OptimizerGraph build_optimizer_graph(const std::vector<OptimizerParameter>& params, const OptimizerConfig& config);
OptimizerGraph build_optimizer_graph(const std::vector<OptimizerParameter>& params, const OptimizerConfig& config,
                                     UpdateFeatures features);

}  // namespace onyx::training
