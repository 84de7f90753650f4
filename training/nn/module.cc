#include "training/nn/module.h"

#include <set>

#include "runtime/common/error.h"
#include "training/checkpoint.h"

namespace onyx::nn {

namespace {

constexpr const char* kModuleTypeKey = "onyx.nn.module";

std::string joined_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

}  // namespace

std::vector<Tensor> Module::call(const std::vector<Tensor>& inputs) {
  throw_error(ErrorCode::kNotImplemented, type_name_,
              " has no generic call: override Module::call(inputs) to export it or trace its training step");
}

void Module::check_new_name(const std::string& name) const {
  ONYX_CHECK(!name.empty() && name.find('.') == std::string::npos, ErrorCode::kInvalidArgument, type_name_,
             ": a parameter, buffer or submodule name must be non-empty and without '.', got '", name, "'");
  auto taken = [&](const auto& named) {
    for (const auto& [existing, _] : named) {
      if (existing == name) return true;
    }
    return false;
  };
  ONYX_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), ErrorCode::kInvalidArgument, type_name_,
             ": the name '", name, "' is registered twice");
}

Parameter& Module::register_parameter(const std::string& name, Tensor value, bool trainable) {
  return register_parameter(name, std::make_shared<Parameter>(Parameter{std::move(value), trainable}));
}

Parameter& Module::register_parameter(const std::string& name, std::shared_ptr<Parameter> parameter) {
  check_new_name(name);
  ONYX_CHECK(parameter != nullptr && parameter->value.defined(), ErrorCode::kInvalidArgument, type_name_,
             ": parameter '", name, "' is undefined");
  parameters_.emplace_back(name, std::move(parameter));
  return *parameters_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  check_new_name(name);
  buffers_.emplace_back(name, std::make_shared<Tensor>(std::move(value)));
  return *buffers_.back().second;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name);
  ONYX_CHECK(module != nullptr, ErrorCode::kInvalidArgument, type_name_, ": submodule '", name, "' is null");
  module->train(training_);
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string& prefix, Named<Module*>& out) {
  out.emplace_back(prefix, this);
  for (auto& [name, child] : children_) child->collect(joined_name(prefix, name), out);
}

Named<Module*> Module::named_modules() {
  Named<Module*> modules;
  collect("", modules);
  return modules;
}

Named<Parameter*> Module::named_parameters() {
  Named<Parameter*> result;
  std::set<const Parameter*> seen;  // a module shared by two parents lists its parameters once
  for (auto& [path, module] : named_modules()) {
    for (auto& [name, parameter] : module->parameters_) {
      if (seen.insert(parameter.get()).second) result.emplace_back(joined_name(path, name), parameter.get());
    }
  }
  return result;
}

std::vector<Parameter*> Module::parameters() {
  std::vector<Parameter*> result;
  for (auto& [name, parameter] : named_parameters()) {
    if (parameter->trainable) result.push_back(parameter);
  }
  return result;
}

Named<Tensor*> Module::named_buffers() {
  Named<Tensor*> result;
  std::set<const Tensor*> seen;
  for (auto& [path, module] : named_modules()) {
    for (auto& [name, buffer] : module->buffers_) {
      if (seen.insert(buffer.get()).second) result.emplace_back(joined_name(path, name), buffer.get());
    }
  }
  return result;
}

int64_t Module::parameter_count() {
  int64_t count = 0;
  for (auto& [name, parameter] : named_parameters()) count += parameter->value.element_count();
  return count;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::set_trainable(bool trainable) {
  for (auto& [name, parameter] : named_parameters()) parameter->trainable = trainable;
}

bool Module::is_built() {
  for (auto& [path, module] : named_modules()) {
    if (!module->built_) return false;
  }
  return true;
}

std::map<std::string, Tensor> Module::state_dict() {
  std::map<std::string, Tensor> state;
  for (auto& [name, parameter] : named_parameters()) state[name] = parameter->value;
  for (auto& [name, buffer] : named_buffers()) state[name] = *buffer;
  return state;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  ONYX_CHECK(is_built(), ErrorCode::kInvalidArgument, type_name_,
             ": load_state_dict before the first call of a lazy layer (its shapes are not known yet): "
             "call the module once on an example input first");
  std::vector<std::pair<Tensor*, const Tensor*>> assignments;
  std::set<std::string> known;
  auto match = [&](const std::string& name, Tensor& slot) {
    known.insert(name);
    auto found = state.find(name);
    if (found == state.end()) {
      ONYX_CHECK(!strict, ErrorCode::kInvalidArgument, type_name_, ": load_state_dict: '", name,
                 "' is missing from the state dict");
      return;
    }
    const Tensor& value = found->second;
    ONYX_CHECK(value.dtype() == slot.dtype() && value.shape() == slot.shape(), ErrorCode::kInvalidArgument, type_name_,
               ": load_state_dict: '", name, "' is ", dtype_name(value.dtype()), shape_to_string(value.shape()),
               " in the state dict but ", dtype_name(slot.dtype()), shape_to_string(slot.shape()), " in the module");
    ONYX_CHECK(!value.is_symbolic(), ErrorCode::kInvalidArgument, type_name_, ": load_state_dict: '", name,
               "' is a symbolic (traced) tensor");
    assignments.emplace_back(&slot, &value);
  };
  for (auto& [name, parameter] : named_parameters()) match(name, parameter->value);
  for (auto& [name, buffer] : named_buffers()) match(name, *buffer);
  if (strict) {
    for (const auto& [name, value] : state) {
      ONYX_CHECK(known.count(name), ErrorCode::kInvalidArgument, type_name_, ": load_state_dict: '", name,
                 "' is not a parameter or buffer of the module");
    }
  }
  for (auto& [slot, value] : assignments) *slot = value->clone();
}

void Module::save(const std::filesystem::path& path) {
  ONYX_CHECK(is_built(), ErrorCode::kInvalidArgument, type_name_,
             ": save before the first call of a lazy layer: call the module once first");
  training::Checkpoint checkpoint;
  checkpoint.parameters = state_dict();
  checkpoint.metadata[kModuleTypeKey] = type_name_;
  training::save_checkpoint(checkpoint, path);
}

void Module::load(const std::filesystem::path& path) {
  training::Checkpoint checkpoint = training::load_checkpoint(path);
  auto type = checkpoint.metadata.find(kModuleTypeKey);
  ONYX_CHECK(type != checkpoint.metadata.end(), ErrorCode::kInvalidArgument, path.string(),
             " is a training checkpoint, not a saved module");
  ONYX_CHECK(type->second == type_name_, ErrorCode::kInvalidArgument, path.string(), " holds a ", type->second,
             ", not a ", type_name_);
  try {
    load_state_dict(checkpoint.parameters);
  } catch (const Error& error) {
    throw_error(ErrorCode::kInvalidArgument, "loading ", path.string(), ": ", error.what());
  }
}

Tensor Layer::operator()(const Tensor& x) {
  if (!own_built()) {
    build(x);
    set_built(true);
  }
  return forward(x);
}

std::vector<Tensor> Layer::call(const std::vector<Tensor>& inputs) {
  ONYX_CHECK(inputs.size() == 1, ErrorCode::kInvalidArgument, type_name(), " takes one input, got ", inputs.size());
  return {(*this)(inputs[0])};
}

}  // namespace onyx::nn
