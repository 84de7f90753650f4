#include "training/optimizers.h"

#include <algorithm>
#include <functional>

#include "runtime/common/error.h"
#include "providers/cpu/training_ops/onyx_training_ops.h"
#include "training/graph_writer.h"

namespace onyx::training {

namespace {

constexpr int64_t kOptimizerOpset = 17;

bool any_group_sets(const OptimizerConfig& config, const std::string& name) {
  auto sets = [&](const std::map<std::string, double>& values) {
    auto found = values.find(name);
    return found != values.end() && found->second != 0.0;
  };
  if (sets(config.defaults)) return true;
  for (const auto& group : config.groups) {
    if (sets(group.hyperparameters)) return true;
  }
  for (const auto& scheduled : config.schedules) {
    if (scheduled.hyperparameter == name) return true;
  }
  return false;
}

// Builds the nodes of one update graph.
class UpdateBuilder {
 public:
  UpdateBuilder(OptimizerGraph& result, const OptimizerConfig& config)
      : result_(result), config_(config), graph_(result.model.graph), writer_(graph_, "optimizer/") {}

  void build() {
    declare_inputs();
    std::vector<std::string> gradients = clipped_gradients();
    for (size_t i = 0; i < result_.params.size(); ++i) {
      if (config_.fused) {
        fused_update(i, gradients[i]);
        continue;
      }
      switch (config_.kind) {
        case OptimizerKind::kSgd: sgd_update(i, gradients[i]); break;
        case OptimizerKind::kAdam:
        case OptimizerKind::kAdamW: adam_update(i, gradients[i]); break;
      }
    }
    if (config_.fused) result_.model.opsets[kTrainingDomain] = 1;
  }

 private:
  const OptimizerParameter& param(size_t i) const { return result_.params[i]; }
  TypeInfo param_type(size_t i) const { return TypeInfo::tensor_of_shape(param(i).dtype, param(i).shape); }

  void declare_inputs() {
    for (size_t i = 0; i < result_.params.size(); ++i) {
      add_graph_input(graph_, param(i).name, param_type(i));
      add_graph_input(graph_, gradient_input_name(param(i).name), param_type(i));
      for (const std::string& state : result_.state_names) {
        add_graph_input(graph_, state_value_name(state, param(i).name), param_type(i));
      }
    }
    const TypeInfo scalar = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{});
    for (size_t g = 0; g < result_.groups.size(); ++g) {
      for (const std::string& name : hyperparameter_names(config_.kind)) {
        add_graph_input(graph_, hyperparameter_input_name(name, g), scalar);
      }
    }
    add_graph_input(graph_, kStepInput, scalar);
    if (config_.max_grad_norm) add_graph_input(graph_, kMaxGradNormInput, scalar);
  }

  // A group's hyper-parameter (or a value derived from it) in the element type of parameter i.
  std::string typed(const std::string& float_value, size_t i) {
    if (param(i).dtype == DataType::kFloat) return float_value;
    auto key = std::make_pair(float_value, param(i).dtype);
    auto found = casts_.find(key);
    if (found != casts_.end()) return found->second;
    std::string cast = writer_.add("Cast", {float_value}, {make_attribute("to", static_cast<int64_t>(param(i).dtype))});
    casts_[key] = cast;
    return cast;
  }
  std::string hyper(const std::string& name, size_t i) {
    return typed(hyperparameter_input_name(name, result_.group_of_param[i]), i);
  }
  // Per-group scalars computed once (bias corrections, 1 - beta, ...).
  std::string group_scalar(const std::string& key, size_t i, const std::function<std::string(size_t group)>& make) {
    const size_t group = result_.group_of_param[i];
    auto map_key = std::make_pair(key, group);
    auto found = group_scalars_.find(map_key);
    std::string value = found != group_scalars_.end() ? found->second : (group_scalars_[map_key] = make(group));
    return typed(value, i);
  }
  std::string one() { return one_.empty() ? (one_ = writer_.scalar(1.0f)) : one_; }
  std::string one_minus(const std::string& name, size_t i) {
    return group_scalar("1-" + name, i, [&](size_t g) {
      return writer_.add("Sub", {one(), hyperparameter_input_name(name, g)});
    });
  }

  // Names the value as the graph output "updated/<name>" and returns its new name.
  std::string output(const std::string& value, const std::string& name, const TypeInfo& type) {
    const std::string renamed = writer_.rename_value(value, updated_name(name));
    add_graph_output(graph_, renamed, type);
    return renamed;
  }

  // torch.nn.utils.clip_grad_norm_: scale every gradient by min(1, max_norm / (norm + 1e-6)).
  std::vector<std::string> clipped_gradients() {
    std::vector<std::string> gradients;
    for (const auto& p : result_.params) gradients.push_back(gradient_input_name(p.name));
    if (!config_.max_grad_norm) return gradients;
    std::vector<std::string> squares;
    for (size_t i = 0; i < gradients.size(); ++i) {
      std::string square = writer_.add("ReduceSumSquare", {gradients[i]}, {make_attribute("keepdims", int64_t{0})});
      if (param(i).dtype != DataType::kFloat) {
        square = writer_.add("Cast", {square}, {make_attribute("to", static_cast<int64_t>(DataType::kFloat))});
      }
      squares.push_back(square);
    }
    std::string norm = writer_.add("Sqrt", {writer_.add("Sum", squares)});
    writer_.add_named("Identity", {norm}, kGradNormOutput);
    add_graph_output(graph_, kGradNormOutput, TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{}));
    std::string coefficient = writer_.add(
        "Min", {writer_.add("Div", {kMaxGradNormInput, writer_.add("Add", {norm, writer_.scalar(1e-6f)})}), one()});
    for (size_t i = 0; i < gradients.size(); ++i) gradients[i] = writer_.add("Mul", {gradients[i], typed(coefficient, i)});
    return gradients;
  }

  std::string maybe_negate(const std::string& gradient) {
    return config_.maximize ? writer_.add("Neg", {gradient}) : gradient;
  }

  // The whole update of parameter i as one AdamUpdate or SgdUpdate node (onyx_training_ops.h), fed
  // the group's float hyper-parameters directly (the kernel converts them).
  void fused_update(size_t i, const std::string& gradient) {
    const std::string& p = param(i).name;
    const size_t group = result_.group_of_param[i];
    auto hyper_input = [&](const char* name) { return hyperparameter_input_name(name, group); };
    std::vector<std::string> inputs{p, gradient};
    std::vector<std::string> states;
    for (const std::string& state : result_.state_names) states.push_back(state_value_name(state, p));
    std::vector<Attribute> attributes{make_attribute("maximize", int64_t{config_.maximize ? 1 : 0})};
    const char* op = kSgdUpdateOp;
    if (config_.kind == OptimizerKind::kSgd) {
      inputs.push_back(states.empty() ? std::string() : states[0]);
      for (const char* name : {"lr", "momentum", "dampening", "weight_decay"}) inputs.push_back(hyper_input(name));
      attributes.push_back(make_attribute("nesterov", int64_t{config_.nesterov ? 1 : 0}));
    } else {
      op = kAdamUpdateOp;
      inputs.insert(inputs.end(), states.begin(), states.end());
      if (!config_.amsgrad) inputs.push_back("");
      for (const char* name : {"lr", "beta1", "beta2", "eps", "weight_decay"}) inputs.push_back(hyper_input(name));
      attributes.push_back(make_attribute("decoupled", int64_t{config_.kind == OptimizerKind::kAdamW ? 1 : 0}));
      attributes.push_back(make_attribute("amsgrad", int64_t{config_.amsgrad ? 1 : 0}));
    }
    inputs.push_back(kStepInput);
    std::vector<std::string> made =
        writer_.add_node(op, std::move(inputs), 1 + states.size(), std::move(attributes), kTrainingDomain);
    output(made[0], p, param_type(i));
    for (size_t k = 0; k < states.size(); ++k) output(made[k + 1], states[k], param_type(i));
  }

  // torch.optim.SGD (1.13, single tensor): d = g + wd p; buf = momentum buf + (1 - dampening) d,
  // with buf = d on the first step; d = nesterov ? d + momentum buf : buf; p -= lr d.
  void sgd_update(size_t i, std::string gradient) {
    const std::string& p = param(i).name;
    std::string d = maybe_negate(gradient);
    if (result_.features.weight_decay) d = writer_.add("Add", {d, writer_.add("Mul", {p, hyper("weight_decay", i)})});
    if (!result_.state_names.empty()) {
      const std::string buffer = state_value_name("momentum_buffer", p);
      std::string damped = d;
      if (result_.features.dampening) {
        // The buffer starts at zero, so dropping dampening on step 1 makes it exactly d there.
        std::string keep = group_scalar("sgd_keep", i, [&](size_t g) {
          std::string after_first = writer_.add("Min", {writer_.add("Sub", {kStepInput, one()}), one()});
          return writer_.add("Sub", {one(), writer_.add("Mul", {hyperparameter_input_name("dampening", g), after_first})});
        });
        damped = writer_.add("Mul", {d, keep});
      }
      std::string new_buffer = writer_.add("Add", {writer_.add("Mul", {buffer, hyper("momentum", i)}), damped});
      new_buffer = output(new_buffer, buffer, param_type(i));
      d = config_.nesterov ? writer_.add("Add", {d, writer_.add("Mul", {new_buffer, hyper("momentum", i)})})
                           : new_buffer;
    }
    output(writer_.add("Sub", {p, writer_.add("Mul", {d, hyper("lr", i)})}), p, param_type(i));
  }

  // torch.optim.Adam / AdamW (1.13, single tensor, not capturable).
  void adam_update(size_t i, std::string gradient) {
    const std::string& p = param(i).name;
    std::string g = maybe_negate(gradient);
    std::string current = p;
    if (config_.kind == OptimizerKind::kAdam && result_.features.weight_decay) {
      g = writer_.add("Add", {g, writer_.add("Mul", {p, hyper("weight_decay", i)})});
    } else if (config_.kind == OptimizerKind::kAdamW && result_.features.weight_decay) {
      std::string decay = group_scalar("adamw_decay", i, [&](size_t group) {
        return writer_.add("Sub", {one(), writer_.add("Mul", {hyperparameter_input_name("lr", group),
                                                             hyperparameter_input_name("weight_decay", group)})});
      });
      current = writer_.add("Mul", {p, decay});
    }
    const std::string exp_avg = state_value_name("exp_avg", p);
    const std::string exp_avg_sq = state_value_name("exp_avg_sq", p);
    std::string m = writer_.add("Add", {writer_.add("Mul", {exp_avg, hyper("beta1", i)}),
                                        writer_.add("Mul", {g, one_minus("beta1", i)})});
    std::string v = writer_.add("Add", {writer_.add("Mul", {exp_avg_sq, hyper("beta2", i)}),
                                        writer_.add("Mul", {writer_.add("Mul", {g, g}), one_minus("beta2", i)})});
    m = output(m, exp_avg, param_type(i));
    v = output(v, exp_avg_sq, param_type(i));
    if (config_.amsgrad) {
      const std::string max_sq = state_value_name("max_exp_avg_sq", p);
      v = output(writer_.add("Max", {max_sq, v}), max_sq, param_type(i));
    }
    std::string step_size = group_scalar("adam_step_size", i, [&](size_t group) {
      std::string correction1 = writer_.add(
          "Sub", {one(), writer_.add("Pow", {hyperparameter_input_name("beta1", group), kStepInput})});
      return writer_.add("Div", {hyperparameter_input_name("lr", group), correction1});
    });
    std::string correction2_sqrt = group_scalar("adam_correction2_sqrt", i, [&](size_t group) {
      return writer_.add("Sqrt", {writer_.add(
                                     "Sub", {one(), writer_.add("Pow", {hyperparameter_input_name("beta2", group),
                                                                        kStepInput})})});
    });
    std::string denominator =
        writer_.add("Add", {writer_.add("Div", {writer_.add("Sqrt", {v}), correction2_sqrt}), hyper("eps", i)});
    std::string delta = writer_.add("Mul", {writer_.add("Div", {m, denominator}), step_size});
    output(writer_.add("Sub", {current, delta}), p, param_type(i));
  }

  OptimizerGraph& result_;
  const OptimizerConfig& config_;
  Graph& graph_;
  GraphWriter writer_;
  std::string one_;
  std::map<std::pair<std::string, DataType>, std::string> casts_;
  std::map<std::pair<std::string, size_t>, std::string> group_scalars_;
};

}  // namespace

std::string_view optimizer_kind_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd: return "sgd";
    case OptimizerKind::kAdam: return "adam";
    case OptimizerKind::kAdamW: return "adamw";
  }
  return "?";
}

const std::vector<std::string>& hyperparameter_names(OptimizerKind kind) {
  static const std::vector<std::string> sgd_names{"lr", "momentum", "dampening", "weight_decay"};
  static const std::vector<std::string> adam_names{"lr", "beta1", "beta2", "eps", "weight_decay"};
  return kind == OptimizerKind::kSgd ? sgd_names : adam_names;
}

OptimizerConfig sgd(double lr, double momentum, double dampening, double weight_decay, bool nesterov) {
  OptimizerConfig config;
  config.kind = OptimizerKind::kSgd;
  config.defaults = {{"lr", lr}, {"momentum", momentum}, {"dampening", dampening}, {"weight_decay", weight_decay}};
  config.nesterov = nesterov;
  return config;
}

namespace {
OptimizerConfig adam_family(OptimizerKind kind, double lr, double beta1, double beta2, double eps,
                            double weight_decay, bool amsgrad) {
  OptimizerConfig config;
  config.kind = kind;
  config.defaults = {{"lr", lr}, {"beta1", beta1}, {"beta2", beta2}, {"eps", eps}, {"weight_decay", weight_decay}};
  config.amsgrad = amsgrad;
  return config;
}
}  // namespace

OptimizerConfig adam(double lr, double beta1, double beta2, double eps, double weight_decay, bool amsgrad) {
  return adam_family(OptimizerKind::kAdam, lr, beta1, beta2, eps, weight_decay, amsgrad);
}

OptimizerConfig adamw(double lr, double beta1, double beta2, double eps, double weight_decay, bool amsgrad) {
  return adam_family(OptimizerKind::kAdamW, lr, beta1, beta2, eps, weight_decay, amsgrad);
}

OptimizerConfig optimizer_from_name(std::string_view name, double lr) {
  if (name == "sgd") return sgd(lr);
  if (name == "momentum") return sgd(lr, 0.9);
  if (name == "adam") return adam(lr);
  if (name == "adamw") return adamw(lr);
  throw_error(ErrorCode::kInvalidArgument, "unknown optimizer '", name, "' (expected sgd, momentum, adam or adamw)");
}

void set_default_hyperparameter(OptimizerConfig& config, const std::string& name, double value) {
  const auto& names = hyperparameter_names(config.kind);
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    throw_error(ErrorCode::kInvalidArgument, "optimizer ", optimizer_kind_name(config.kind),
                " has no hyper-parameter '", name, "' (it has ", known, ")");
  }
  config.defaults[name] = value;
}

std::string gradient_input_name(const std::string& param) { return "grad/" + param; }
std::string state_value_name(const std::string& state, const std::string& param) { return state + "/" + param; }
std::string hyperparameter_input_name(const std::string& name, size_t group) {
  return name + "/group" + std::to_string(group);
}
std::string updated_name(const std::string& value) { return "updated/" + value; }

UpdateFeatures needed_features(const OptimizerConfig& config) {
  return {any_group_sets(config, "weight_decay"), any_group_sets(config, "dampening")};
}

OptimizerGraph build_optimizer_graph(const std::vector<OptimizerParameter>& params, const OptimizerConfig& config) {
  return build_optimizer_graph(params, config, needed_features(config));
}

OptimizerGraph build_optimizer_graph(const std::vector<OptimizerParameter>& params, const OptimizerConfig& config,
                                     UpdateFeatures features) {
  ONYX_CHECK(!params.empty(), ErrorCode::kInvalidArgument, "optimizer: no parameters to update");
  const auto& names = hyperparameter_names(config.kind);
  for (const std::string& name : names) {
    ONYX_CHECK(config.defaults.count(name), ErrorCode::kInvalidArgument, "optimizer ", optimizer_kind_name(config.kind),
               ": no default for hyper-parameter '", name, "'");
  }
  OptimizerGraph result;
  result.features = features;
  result.params = params;
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < params.size(); ++i) {
    ONYX_CHECK(index_of.emplace(params[i].name, i).second, ErrorCode::kInvalidArgument, "optimizer: parameter '",
               params[i].name, "' given twice");
    ONYX_CHECK(params[i].dtype == DataType::kFloat || params[i].dtype == DataType::kDouble ||
                   params[i].dtype == DataType::kFloat16 || params[i].dtype == DataType::kBFloat16,
               ErrorCode::kInvalidArgument, "optimizer: parameter '", params[i].name, "' is ", dtype_name(params[i].dtype),
               ", not a floating-point tensor");
  }
  result.group_of_param.assign(params.size(), config.groups.size());
  std::vector<bool> grouped(params.size(), false);
  for (size_t g = 0; g < config.groups.size(); ++g) {
    std::map<std::string, double> values = config.defaults;
    for (const auto& [name, value] : config.groups[g].hyperparameters) {
      ONYX_CHECK(values.count(name), ErrorCode::kInvalidArgument, "optimizer ", optimizer_kind_name(config.kind), ": group ", g,
                 " sets unknown hyper-parameter '", name, "'");
      values[name] = value;
    }
    result.groups.push_back(values);
    for (const std::string& name : config.groups[g].params) {
      auto found = index_of.find(name);
      ONYX_CHECK(found != index_of.end(), ErrorCode::kInvalidArgument, "optimizer: group ", g, " lists '", name,
                 "', which is not a trainable parameter");
      ONYX_CHECK(!grouped[found->second], ErrorCode::kInvalidArgument, "optimizer: parameter '", name,
                 "' is in two parameter groups");
      grouped[found->second] = true;
      result.group_of_param[found->second] = g;
    }
  }
  if (std::find(grouped.begin(), grouped.end(), false) != grouped.end()) result.groups.push_back(config.defaults);
  for (const auto& scheduled : config.schedules) {
    ONYX_CHECK(std::find(names.begin(), names.end(), scheduled.hyperparameter) != names.end(), ErrorCode::kInvalidArgument,
               "optimizer ", optimizer_kind_name(config.kind), ": cannot schedule unknown hyper-parameter '",
               scheduled.hyperparameter, "'");
    ONYX_CHECK(scheduled.schedule != nullptr, ErrorCode::kInvalidArgument, "optimizer: null schedule for '",
               scheduled.hyperparameter, "'");
    ONYX_CHECK(!scheduled.group || *scheduled.group < result.groups.size(), ErrorCode::kInvalidArgument,
               "optimizer: schedule for '", scheduled.hyperparameter, "' names group ", scheduled.group.value_or(0),
               " of ", result.groups.size());
  }
  switch (config.kind) {
    case OptimizerKind::kSgd:
      // Like torch, momentum buffers exist only when some group uses momentum.
      if (any_group_sets(config, "momentum")) result.state_names = {"momentum_buffer"};
      ONYX_CHECK(!config.nesterov || !result.state_names.empty(), ErrorCode::kInvalidArgument,
                 "optimizer sgd: nesterov needs a nonzero momentum");
      break;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW:
      result.state_names = {"exp_avg", "exp_avg_sq"};
      if (config.amsgrad) result.state_names.push_back("max_exp_avg_sq");
      break;
  }
  result.model.ir_version = 8;
  result.model.producer_name = "onyx";
  result.model.opsets[""] = kOptimizerOpset;
  result.model.graph.name = std::string(optimizer_kind_name(config.kind)) + "_update";
  UpdateBuilder(result, config).build();
  return result;
}

}  // namespace onyx::training
