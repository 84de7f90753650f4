// onyx::nn::Module: an object that owns named parameters (trainable or frozen), buffers
// (running statistics and other state that is not trained) and submodules, like torch.nn.Module
// and Keras layers. Layers compute with the eager ops (runtime/eager/ops.h), so a module runs
// the kernels the graph runtime runs, records on a GradientTape and traces inside
// onyx::function. Parameters are rebound, never written in place: an optimizer step replaces a
// Parameter's tensor with the updated one, so tensors a tape or a caller still holds stay valid.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/tensor/tensor.h"

namespace onyx::nn {

struct Parameter {
  Tensor value;
  bool trainable = true;  // false: frozen (kept out of parameters(), still in state_dict())
};

template <typename T>
using Named = std::vector<std::pair<std::string, T>>;

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // "Linear", "Sequential", ...: how messages name the module.
  const std::string& type_name() const { return type_name_; }

  // Every module can be called with a list of tensors: export and traced training steps use
  // this. The default throws; Layer (one input, one output) and multi-input models override it.
  virtual std::vector<Tensor> call(const std::vector<Tensor>& inputs);

  // Trainable parameters, the module's own first, then each submodule's in registration order.
  std::vector<Parameter*> parameters();
  // Every parameter, frozen ones included, named by dotted path ("encoder.0.weight").
  Named<Parameter*> named_parameters();
  Named<Tensor*> named_buffers();
  // This module ("") and every submodule below it, by dotted path.
  Named<Module*> named_modules();
  const Named<std::shared_ptr<Module>>& children() const { return children_; }
  int64_t parameter_count();  // elements of every parameter

  // Training mode (Dropout drops, BatchNorm uses batch statistics) for this module and below.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Freezes (false) or unfreezes every parameter of this module and below (Keras' trainable).
  void set_trainable(bool trainable);

  // False while some layer below still waits for its first call to learn its input shape.
  bool is_built();

  // Parameters and buffers by dotted name. The tensors share their buffers with the module's
  // (nothing writes them in place), so a state dict is a cheap snapshot.
  std::map<std::string, Tensor> state_dict();
  // Replaces parameters and buffers; with `strict`, the names must be exactly the module's.
  // Throws naming the first missing, unexpected or mis-shaped entry; nothing changes then.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);
  // The state dict as a checksummed file (training/checkpoint.h's format), written atomically;
  // loading refuses a missing, truncated or damaged file and one of another module.
  void save(const std::filesystem::path& path);
  void load(const std::filesystem::path& path);

 protected:
  Parameter& register_parameter(const std::string& name, Tensor value, bool trainable = true);
  // Registers a Parameter someone else also holds (the Python package's onyx.nn.Parameter,
  // made before it is assigned to a module): the module and its owner share it.
  Parameter& register_parameter(const std::string& name, std::shared_ptr<Parameter> parameter);
  Tensor& register_buffer(const std::string& name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // Lazy layers call this with false in their constructor and true once built.
  void set_built(bool built) { built_ = built; }
  bool own_built() const { return built_; }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, Named<Module*>& out);

  std::string type_name_;
  Named<std::shared_ptr<Parameter>> parameters_;  // pointers: addresses stay valid as more are added
  Named<std::shared_ptr<Tensor>> buffers_;
  Named<std::shared_ptr<Module>> children_;
  bool training_ = true;
  bool built_ = true;
};

// A module of one input and one output: the building block of Sequential. The first call
// builds a lazy layer (build(x)) before forward(x).
class Layer : public Module {
 public:
  using Module::Module;
  Tensor operator()(const Tensor& x);
  std::vector<Tensor> call(const std::vector<Tensor>& inputs) override;

 protected:
  virtual Tensor forward(const Tensor& x) = 0;
  // Creates the parameters once the input's shape is known (lazy layers only).
  virtual void build(const Tensor& x) {}
};

}  // namespace onyx::nn
