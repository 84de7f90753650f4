#include "training/nn/train_step.h"

#include "runtime/common/error.h"
#include "runtime/eager/gradient_tape.h"
#include "runtime/eager/trace.h"
#include "training/eager_graph_call.h"
#include "training/nn/random_seeds.h"

namespace onyx::nn {

namespace {

Tensor checked_loss(const LossFunction& loss, const std::vector<Tensor>& outputs, const std::vector<Tensor>& targets) {
  Tensor value = loss(outputs, targets);
  ONYX_CHECK(value.defined() && value.element_count() == 1, ErrorCode::kInvalidArgument,
             "training step: the loss must be one number, got ", shape_to_string(value.shape()));
  return value;
}

using Signature = std::vector<std::pair<DataType, Shape>>;

Signature signature_of(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets) {
  Signature signature;
  for (const auto* list : {&inputs, &targets}) {
    for (const Tensor& tensor : *list) signature.emplace_back(tensor.dtype(), tensor.shape());
  }
  return signature;
}

// Points module slots at symbolic tensors while tracing; puts the concrete tensors back after.
class SlotSwap {
 public:
  void swap_in(Tensor& slot, Tensor traced) {
    saved_.emplace_back(&slot, slot);
    slot = std::move(traced);
  }
  ~SlotSwap() {
    for (auto& [slot, value] : saved_) *slot = value;
  }

 private:
  std::vector<std::pair<Tensor*, Tensor>> saved_;
};

}  // namespace

StepResult eager_train_step(Module& model, Optimizer& optimizer, const LossFunction& loss,
                            const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets) {
  std::vector<Tensor> params = optimizer.tensors();
  StepResult result;
  std::vector<Tensor> grads;
  {
    GradientTape tape;
    for (const Tensor& p : params) tape.watch(p);
    result.outputs = model.call(inputs);
    result.loss = checked_loss(loss, result.outputs, targets);
    grads = tape.gradient(result.loss, params);
  }
  optimizer.apply_gradients(grads);
  return result;
}

// One trace: the session and how its inputs and outputs map to the module and optimizer.
struct TracedTrainStep::Traced {
  Model model;
  std::unique_ptr<InferenceSession> session;
  Signature signature;
  size_t optimizer_graph_version = 0;
  std::vector<std::string> input_names, target_names;
  // Module slots fed as graph inputs (trainable and frozen parameters, buffers) by input name.
  std::vector<std::pair<std::string, Tensor*>> slots;
  std::vector<std::string> optimizer_inputs;  // state, hyper-parameters, step
  std::vector<TracedSeeds::Feed> seeds;
  size_t output_count = 0;                     // the model's outputs
  std::vector<std::string> buffer_outputs;     // "new/<slot input>", in `slots` order where a buffer
  std::vector<Tensor*> buffer_slots;
};

TracedTrainStep::TracedTrainStep(Module& model, Optimizer& optimizer, LossFunction loss, SessionOptions options)
    : model_(model), optimizer_(optimizer), loss_(std::move(loss)), options_(std::move(options)) {
  ONYX_CHECK(loss_ != nullptr, ErrorCode::kInvalidArgument, "TracedTrainStep: no loss function");
}

TracedTrainStep::~TracedTrainStep() = default;

const Model& TracedTrainStep::graph() const {
  ONYX_CHECK(traced_ != nullptr, ErrorCode::kInvalidArgument, "TracedTrainStep: not traced yet (call it once first)");
  return traced_->model;
}

void TracedTrainStep::trace(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets) {
  auto traced = std::make_unique<Traced>();
  traced->signature = signature_of(inputs, targets);
  std::map<std::string, Value> optimizer_feeds = optimizer_.core().state_and_hyperparameter_feeds();
  traced->optimizer_graph_version = optimizer_.core().graph_version();
  const training::OptimizerGraph& update = optimizer_.core().graph();

  eager::TraceContext trace;
  TracedSeeds seeds(trace);
  SlotSwap swap;
  auto symbolic_input = [&](const std::string& name, const Tensor& like) {
    return trace.add_input(name, TypeInfo::tensor_of_shape(like.dtype(), like.shape()));
  };
  std::vector<Tensor> symbolic_inputs, symbolic_targets;
  for (size_t i = 0; i < inputs.size(); ++i) {
    traced->input_names.push_back("input_" + std::to_string(i));
    symbolic_inputs.push_back(symbolic_input(traced->input_names.back(), inputs[i]));
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    traced->target_names.push_back("target_" + std::to_string(i));
    symbolic_targets.push_back(symbolic_input(traced->target_names.back(), targets[i]));
  }
  std::map<const Parameter*, std::string> trainable_names;
  for (size_t i = 0; i < optimizer_.parameters().size(); ++i) {
    trainable_names[optimizer_.parameters()[i]] = optimizer_.names()[i];
  }
  std::vector<Tensor> trainable(optimizer_.parameters().size());
  for (auto& [name, parameter] : model_.named_parameters()) {
    auto found = trainable_names.find(parameter);
    const std::string input = found != trainable_names.end() ? found->second : "frozen/" + name;
    traced->slots.emplace_back(input, &parameter->value);
    Tensor value = symbolic_input(input, parameter->value);
    if (found != trainable_names.end()) {
      for (size_t i = 0; i < optimizer_.parameters().size(); ++i) {
        if (optimizer_.parameters()[i] == parameter) trainable[i] = value;
      }
    }
    swap.swap_in(parameter->value, value);
  }
  for (const Tensor& value : trainable) {
    ONYX_CHECK(value.defined(), ErrorCode::kInvalidArgument,
               "TracedTrainStep: the optimizer updates a parameter that is not in the module");
  }
  std::vector<std::pair<Tensor*, Tensor>> buffers;
  for (auto& [name, buffer] : model_.named_buffers()) {
    const std::string input = "buffer/" + name;
    traced->slots.emplace_back(input, buffer);
    Tensor value = symbolic_input(input, *buffer);
    swap.swap_in(*buffer, value);
    buffers.emplace_back(buffer, value);
  }
  std::map<std::string, Value> update_feeds;
  for (const auto& [name, value] : optimizer_feeds) {
    traced->optimizer_inputs.push_back(name);
    update_feeds[name] = symbolic_input(name, value.tensor());
  }

  std::vector<Tensor> outputs, grads;
  Tensor loss;
  {
    GradientTape tape;
    for (const Tensor& p : trainable) tape.watch(p);
    outputs = model_.call(symbolic_inputs);
    loss = checked_loss(loss_, outputs, symbolic_targets);
    grads = tape.gradient(loss, trainable);
  }
  for (size_t i = 0; i < trainable.size(); ++i) {
    update_feeds[optimizer_.names()[i]] = trainable[i];
    update_feeds[training::gradient_input_name(optimizer_.names()[i])] = grads[i];
  }
  std::map<std::string, Value> updated = training::call_graph_eagerly(update.model, update_feeds);

  std::vector<Tensor> results{loss};
  std::vector<std::string> names{"loss"};
  for (size_t i = 0; i < outputs.size(); ++i) {
    results.push_back(outputs[i]);
    names.push_back("output_" + std::to_string(i));
  }
  traced->output_count = outputs.size();
  for (const auto& [name, value] : updated) {
    results.push_back(value.tensor());
    names.push_back(name);
  }
  // Buffers the forward replaced (BatchNorm's running statistics in training mode).
  for (auto& [slot, before] : buffers) {
    if (slot->symbolic_handle() == before.symbolic_handle()) continue;
    const std::string name = "new_buffer/" + std::to_string(traced->buffer_slots.size());
    results.push_back(*slot);
    names.push_back(name);
    traced->buffer_outputs.push_back(name);
    traced->buffer_slots.push_back(slot);
  }
  traced->seeds = seeds.feeds();
  traced->model = trace.finish(results, names);
  traced->model.graph.name = "train_step";
  traced->session = std::make_unique<InferenceSession>(traced->model, options_);
  traced_ = std::move(traced);
  ++trace_count_;
}

StepResult TracedTrainStep::operator()(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets) {
  ONYX_CHECK(eager::current_trace() == nullptr, ErrorCode::kInvalidArgument,
             "TracedTrainStep cannot be called inside onyx::function");
  // A changed hyper-parameter may make the optimizer rebuild its update graph: ask first.
  std::map<std::string, Value> optimizer_feeds = optimizer_.core().state_and_hyperparameter_feeds();
  if (!traced_ || traced_->signature != signature_of(inputs, targets) ||
      traced_->optimizer_graph_version != optimizer_.core().graph_version()) {
    trace(inputs, targets);
  }
  const Traced& traced = *traced_;
  std::map<std::string, Value> feeds;
  for (size_t i = 0; i < inputs.size(); ++i) feeds[traced.input_names[i]] = inputs[i];
  for (size_t i = 0; i < targets.size(); ++i) feeds[traced.target_names[i]] = targets[i];
  for (const auto& [name, slot] : traced.slots) feeds[name] = *slot;
  for (const std::string& name : traced.optimizer_inputs) feeds[name] = optimizer_feeds.at(name);
  for (const auto& seed : traced.seeds) feeds[seed.input] = draw_seed(*seed.engine);

  std::map<std::string, Value> update;
  for (NamedValue& output : traced.session->run(feeds)) update[output.name] = std::move(output.value);
  StepResult result;
  result.loss = update.at("loss").tensor();
  update.erase("loss");
  for (size_t i = 0; i < traced.output_count; ++i) {
    const std::string name = "output_" + std::to_string(i);
    result.outputs.push_back(update.at(name).tensor());
    update.erase(name);
  }
  for (size_t i = 0; i < traced.buffer_outputs.size(); ++i) {
    *traced.buffer_slots[i] = update.at(traced.buffer_outputs[i]).tensor();
    update.erase(traced.buffer_outputs[i]);
  }
  std::map<std::string, Tensor> params;
  optimizer_.core().accept_update(update, params);
  for (size_t i = 0; i < optimizer_.parameters().size(); ++i) {
    optimizer_.parameters()[i]->value = params.at(optimizer_.names()[i]);
  }
  return result;
}

}  // namespace onyx::nn
