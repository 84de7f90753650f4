#include "training/training_session.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>

#include "runtime/common/error.h"
#include "runtime/extensions/custom_op_library.h"
#include "runtime/ir/model_loader.h"
#include "runtime/ir/model_saver.h"
#include "runtime/session/type_inference.h"
#include "training/checkpoint.h"
#include "training/distributed/all_reduce_op.h"
#include "training/gradient_builder.h"
#include "training/graph_writer.h"
#include "training/model_preparation.h"
#include "training/seeded_dropout.h"
#include "training/tensorboard_writer.h"

namespace onyx::training {

struct TrainingSession::CompiledGraph {
  Model model;  // what the session was built from (the gradient graph, for kGradient)
  std::unique_ptr<InferenceSession> session;
  std::vector<std::pair<std::string, std::string>> gradients;  // parameter -> gradient output
  std::vector<std::pair<std::string, std::string>> state_updates;  // buffer -> its new value
  bool needs_seed = false;  // reads kDropoutSeedInput
  std::set<std::string> inputs;  // the session's graph inputs
  // Data parallelism: per graph output, the gradient bucket place it fills (kGradient graphs;
  // made at the first overlapped pass).
  mutable std::vector<std::optional<distributed::OverlappedGradientReduction::Place>> bucket_places;

  void compile(const SessionOptions& options) {
    session = std::make_unique<InferenceSession>(model, options);
    for (const ValueInfo& input : session->inputs()) inputs.insert(input.name);
  }
};

namespace {

void add_into(Tensor& sum, const Tensor& addend, const std::string& name) {
  ONYX_CHECK(sum.dtype() == addend.dtype() && sum.shape() == addend.shape(), ErrorCode::kRuntimeFailure,
             "gradient of '", name, "' changed type or shape between backward calls");
  const int64_t n = sum.element_count();
  switch (sum.dtype()) {
    case DataType::kFloat: {
      float* out = sum.mutable_data<float>();
      const float* in = addend.data<float>();
      for (int64_t i = 0; i < n; ++i) out[i] += in[i];
      return;
    }
    case DataType::kDouble: {
      double* out = sum.mutable_data<double>();
      const double* in = addend.data<double>();
      for (int64_t i = 0; i < n; ++i) out[i] += in[i];
      return;
    }
    default:
      throw_error(ErrorCode::kNotImplemented, "accumulating ", dtype_name(sum.dtype()), " gradients of '", name,
                  "' over several backward calls (float and double are supported)");
  }
}

// Hands each gradient to its bucket as soon as the plan has made it, and lets the all-reduces in
// flight progress between the following nodes.
class GradientBucketFiller final : public RunObserver {
 public:
  using Place = distributed::OverlappedGradientReduction::Place;
  GradientBucketFiller(distributed::OverlappedGradientReduction& reduction,
                       const std::vector<std::optional<Place>>& places)
      : reduction_(reduction), places_(places) {}
  void output_ready(size_t index, const Value& value) override {
    if (index < places_.size() && places_[index]) reduction_.gradient_ready(*places_[index], value.tensor());
  }
  void after_step() override { reduction_.progress(); }

 private:
  distributed::OverlappedGradientReduction& reduction_;
  const std::vector<std::optional<Place>>& places_;
};

// The gradient builder names each gradient output with a node appended at the end of the graph
// (an Identity of the value the backward pass made, or zeros of its shape). The session's sort
// keeps the order it is given where it can, so those nodes would run last, and every gradient
// would be final only when the backward pass ends: each moves up to just after the last node it
// reads from, so that a gradient is an output as soon as it is made (and its bucket's
// all-reduce can start while the rest of the backward pass runs).
void move_gradient_outputs_up(Graph& graph, const std::vector<std::pair<std::string, std::string>>& gradients) {
  std::set<std::string> outputs;
  for (const auto& [param, output] : gradients) outputs.insert(output);
  std::vector<Node> kept, moved;
  for (Node& node : graph.nodes) {
    const bool names_gradient = node.outputs.size() == 1 && outputs.count(node.outputs[0]);
    (names_gradient ? moved : kept).push_back(std::move(node));
  }
  std::map<std::string, size_t> producer;  // in `kept`
  for (size_t i = 0; i < kept.size(); ++i) {
    for (const std::string& output : kept[i].outputs) producer[output] = i;
  }
  std::vector<std::vector<Node>> after(kept.size() + 1);  // after[i + 1]: moved nodes after kept[i]
  for (Node& node : moved) {
    size_t anchor = 0;
    for (const std::string& input : node.inputs) {
      auto found = producer.find(input);
      if (found != producer.end()) anchor = std::max(anchor, found->second + 1);
    }
    after[anchor].push_back(std::move(node));
  }
  graph.nodes.clear();
  for (size_t i = 0; i <= kept.size(); ++i) {
    if (i > 0) graph.nodes.push_back(std::move(kept[i - 1]));
    for (Node& node : after[i]) graph.nodes.push_back(std::move(node));
  }
}

// The input through which data-parallel gradient graphs get this rank's loss scale.
constexpr const char* kLossScaleInput = "onyx.data_parallel.loss_scale";

std::string default_prediction(const Model& model, const TrainingOptions& options) {
  if (options.loss && !options.loss->prediction.empty()) return options.loss->prediction;
  ONYX_CHECK(!model.graph.outputs.empty(), ErrorCode::kInvalidArgument, "the forward model has no outputs");
  return model.graph.outputs.front().name;
}

}  // namespace

TrainingSession::TrainingSession(const std::filesystem::path& model_path, TrainingOptions options)
    : TrainingSession(load_model(model_path), std::move(options)) {}

TrainingSession::~TrainingSession() {
  if (communicator_id_ != 0) distributed::unregister_communicator(communicator_id_);
}

TrainingSession::TrainingSession(Model forward, TrainingOptions options)
    : forward_(std::move(forward)), options_(std::move(options)), rng_(options_.seed) {
  // First, so that an unusable folder fails before the gradient graph is built; rank 0 only.
  if (!options_.tensorboard_dir.empty() && (!options_.communicator || options_.communicator->is_root())) {
    tensorboard_ = std::make_unique<TensorBoardWriter>(options_.tensorboard_dir);
  }
  ops_ = make_op_registry(options_.session.custom_ops, options_.session.custom_op_libraries);
  communicator_ = options_.communicator ? options_.communicator : distributed::single_process_communicator();
  if (communicator_->size() > 1) communicator_id_ = distributed::register_communicator(communicator_);
  for (const ValueInfo& input : forward_.graph.inputs) {
    if (!forward_.graph.initializers.count(input.name)) data_inputs_.push_back(input.name);
  }
  const int loss_sources = int(options_.loss.has_value()) + int(options_.loss_graph.has_value()) +
                           int(!options_.loss_output.empty());
  ONYX_CHECK(loss_sources == 1, ErrorCode::kInvalidArgument,
             "training needs exactly one loss: a built-in loss, a loss graph or the name of a loss output (got ",
             loss_sources, ")");

  separate_running_statistics(forward_);
  with_loss_ = forward_;
  if (options_.loss) {
    AppendedLoss appended = append_loss(with_loss_, *options_.loss);
    loss_name_ = appended.loss;
    targets_ = appended.targets;
    ONYX_CHECK(options_.loss->reduction != Reduction::kNone, ErrorCode::kInvalidArgument,
               "training needs a scalar loss: reduction 'none' is for evaluation only");
  } else if (options_.loss_graph) {
    AppendedLoss appended = append_loss_graph(with_loss_, options_.loss_graph->model, options_.loss_graph->bindings);
    loss_name_ = appended.loss;
    targets_ = appended.targets;
  } else {
    const auto& outputs = forward_.graph.outputs;
    ONYX_CHECK(std::any_of(outputs.begin(), outputs.end(),
                           [&](const ValueInfo& output) { return output.name == options_.loss_output; }),
               ErrorCode::kInvalidArgument, "the loss output '", options_.loss_output,
               "' is not an output of the model");
    loss_name_ = options_.loss_output;
  }

  with_metrics_ = with_loss_;
  if (!options_.metrics.empty()) {
    const std::string prediction =
        options_.metric_prediction.empty() ? default_prediction(forward_, options_) : options_.metric_prediction;
    std::string target = options_.metric_target;
    if (target.empty()) {
      ONYX_CHECK(targets_.size() == 1, ErrorCode::kInvalidArgument,
                 "metrics need a target: set metric_target (the loss adds ", targets_.size(), " target inputs)");
      target = targets_.front();
    }
    for (const MetricSpec& spec : options_.metrics) {
      metric_outputs_.emplace_back(metric_name(spec), append_metric(with_metrics_, spec, prediction, target));
    }
  }
  for (const UserGraph& metric : options_.metric_graphs) {
    metric_outputs_.emplace_back(metric.name, append_metric_graph(with_metrics_, metric.model, metric.name, metric.bindings));
  }
  // The training-mode gradient graph is built now: it decides the trainable set (by default the
  // float initializers the loss depends on) and the buffers (BatchNormalization running
  // statistics) that training updates.
  mode_dependent_ = has_mode_dependent_ops(forward_);
  if (communicator_id_ != 0) {
    const TypeInfo* loss_type = infer_types(with_loss_.graph, with_loss_, nullptr, *ops_).find(loss_name_);
    if (loss_type != nullptr && loss_type->is_tensor() && loss_type->elem_type != DataType::kUndefined) {
      loss_type_ = loss_type->elem_type;
    }
  }
  auto training_graph = std::make_unique<CompiledGraph>();
  training_graph->model = with_loss_;
  set_training_mode(training_graph->model, true);
  training_graph->needs_seed = use_seeded_dropout(training_graph->model);
  const std::vector<std::string> requested =
      options_.trainable.empty() ? std::vector<std::string>{}
                                 : select_trainable(forward_, options_.trainable, options_.frozen);
  // The loss's own constants (Huber's delta, ...) are never parameters.
  std::vector<std::string> frozen = expand_initializer_names(forward_, options_.frozen, "frozen");
  for (const auto& [name, value] : with_loss_.graph.initializers) {
    if (!forward_.graph.initializers.count(name)) frozen.push_back(name);
  }
  const std::string differentiated = communicator_id_ != 0 ? add_loss_scale(training_graph->model) : loss_name_;
  GradientGraph gradient = build_gradient_graph(
      training_graph->model, {differentiated, requested, frozen, true, ops_.get(), /*onyx_ops=*/true, communicator_id_});
  for (const auto& [param, gradient_name] : gradient.gradients) trainable_.push_back(param);
  ONYX_CHECK(!trainable_.empty(), ErrorCode::kInvalidArgument, "the loss depends on no trainable parameter");
  training_graph->model = std::move(gradient.model);
  training_graph->gradients = std::move(gradient.gradients);
  move_gradient_outputs_up(training_graph->model.graph, training_graph->gradients);
  training_graph->state_updates = std::move(gradient.state_updates);

  std::vector<OptimizerParameter> optimized;
  for (const std::string& name : trainable_) {
    const Tensor& value = forward_.graph.initializers.at(name);
    params_[name] = value.clone();
    optimized.push_back({name, value.dtype(), value.shape()});
  }
  for (const auto& [buffer, output] : training_graph->state_updates) {
    buffers_[buffer] = forward_.graph.initializers.at(buffer).clone();
  }
  optimizer_ = std::make_unique<Optimizer>(optimized, options_.optimizer, options_.session);
  prepare_inputs(training_graph->model);
  prepare_inputs(with_metrics_);
  training_graph->compile(options_.session);
  for (const ValueInfo& input : with_metrics_.graph.inputs) batch_inputs_.insert(input.name);
  compiled_[{GraphKind::kGradient, mode_dependent_}] = std::move(training_graph);
  if (communicator_id_ != 0) {
    start_in_step_with_rank_zero();
    plan_buckets();
  }
}

// Buckets in the order the training-mode plan makes the gradients (ties, and gradients made
// only at the end, in reverse parameter order), so that each bucket fills before the next and
// the first ones start while the backward pass has most of its work ahead.
void TrainingSession::plan_buckets() {
  const CompiledGraph& graph = *compiled_.at({GraphKind::kGradient, mode_dependent_});
  const ExecutionPlan& plan = graph.session->plan();
  std::map<std::string, size_t> output_index;
  for (size_t i = 0; i < graph.session->outputs().size(); ++i) output_index[graph.session->outputs()[i].name] = i;
  std::map<std::string, std::string> gradient_of(graph.gradients.begin(), graph.gradients.end());
  std::vector<std::pair<size_t, size_t>> order;  // (ready step, reverse parameter position)
  for (size_t p = 0; p < trainable_.size(); ++p) {
    const size_t reverse = trainable_.size() - 1 - p;
    order.emplace_back(plan.output_ready_step(output_index.at(gradient_of.at(trainable_[p]))), reverse);
  }
  std::sort(order.begin(), order.end());
  std::vector<distributed::BucketedTensor> in_backward_order;
  for (const auto& [step, reverse] : order) {
    const std::string& name = trainable_[trainable_.size() - 1 - reverse];
    const Tensor& value = params_.at(name);
    in_backward_order.push_back({name, value.dtype(), static_cast<size_t>(value.element_count())});
  }
  buckets_ = distributed::plan_gradient_buckets(in_backward_order, options_.gradient_bucket_bytes);
  reduction_ = std::make_unique<distributed::OverlappedGradientReduction>(*communicator_, buckets_);
}

std::string TrainingSession::add_loss_scale(Model& model) const {
  add_graph_input(model.graph, kLossScaleInput, TypeInfo::tensor(loss_type_, std::vector<Dim>{}));
  return GraphWriter(model.graph, "data_parallel/").add("Mul", {loss_name_, kLossScaleInput});
}

// Like DDP, every rank starts from rank 0's parameters and buffers, whatever it loaded.
void TrainingSession::start_in_step_with_rank_zero() {
  std::vector<Tensor*> values;
  double bytes = 0;
  for (auto* group : {&params_, &buffers_}) {
    for (auto& [name, value] : *group) values.push_back(&value), bytes += static_cast<double>(value.byte_size());
  }
  std::vector<double> layout{static_cast<double>(values.size()), bytes};
  const std::vector<double> mine = layout;
  communicator_->all_reduce_sum(layout);
  const double ranks = communicator_->size();
  ONYX_CHECK(layout[0] == mine[0] * ranks && layout[1] == mine[1] * ranks, ErrorCode::kInvalidArgument,
             communicator_->describe_rank(), " has ", values.size(), " parameters and buffers of ", bytes,
             " bytes, other ranks have a different model (every rank must train the same one)");
  for (Tensor* value : values) communicator_->broadcast(value->mutable_raw_data(), value->byte_size(), 0);
}

int64_t TrainingSession::batch_samples(const Feeds& feeds) const {
  for (const std::string& name : data_inputs_) {
    auto found = feeds.find(name);
    if (found != feeds.end() && found->second.is_tensor() && found->second.tensor().rank() > 0) {
      return found->second.tensor().dim(0);
    }
  }
  throw_error(ErrorCode::kInvalidArgument, "data-parallel training weights each rank by its batch size, but the ",
              "feeds hold none of the model's inputs with a batch dimension");
}

size_t TrainingSession::gradient_bytes_per_step() const {
  size_t bytes = 0;
  for (const distributed::GradientBucket& bucket : buckets_) {
    bytes += dtype_storage_bytes(bucket.type, static_cast<int64_t>(bucket.elements));
  }
  return bytes;
}

void TrainingSession::prepare_inputs(Model& model) const {
  std::vector<std::string> names = trainable_;
  for (const auto& [buffer, value] : buffers_) names.push_back(buffer);
  initializers_to_inputs(model, names);
}

const TrainingSession::CompiledGraph& TrainingSession::compiled(GraphKind kind, bool training) const {
  // Without mode-dependent ops both modes run the same graph: compile it once.
  const std::pair<GraphKind, bool> key{kind, mode_dependent_ ? training : false};
  auto found = compiled_.find(key);
  if (found != compiled_.end()) return *found->second;
  // (The training-mode gradient graph was compiled by the constructor.)
  auto graph = std::make_unique<CompiledGraph>();
  if (kind == GraphKind::kGradient) {
    graph->model = with_loss_;
    set_training_mode(graph->model, false);
    const std::string differentiated = communicator_id_ != 0 ? add_loss_scale(graph->model) : loss_name_;
    GradientGraph gradient = build_gradient_graph(
        graph->model, {differentiated, trainable_, {}, /*training_mode=*/false, ops_.get(), /*onyx_ops=*/true});
    graph->model = std::move(gradient.model);
    graph->gradients = std::move(gradient.gradients);
    move_gradient_outputs_up(graph->model.graph, graph->gradients);
    prepare_inputs(graph->model);
  } else {
    if (kind == GraphKind::kForward) {
      graph->model = forward_;
      prepare_inputs(graph->model);
    } else {
      graph->model = with_metrics_;
    }
    set_training_mode(graph->model, key.second);
    if (key.second) graph->needs_seed = use_seeded_dropout(graph->model);
  }
  graph->compile(options_.session);
  return *(compiled_[key] = std::move(graph));
}

Feeds TrainingSession::feeds_for(const CompiledGraph& graph, const Feeds& feeds) const {
  Feeds all;
  for (const auto& [name, value] : feeds) {
    ONYX_CHECK(!params_.count(name) && !buffers_.count(name), ErrorCode::kInvalidArgument, "feed '", name,
               "' is a parameter the session feeds itself (use set_parameter to change it)");
    // One batch serves every graph: targets and metric inputs are dropped where unused. Names
    // no graph knows still reach the session, which reports them.
    if (graph.inputs.count(name) || !batch_inputs_.count(name)) all.emplace(name, value);
  }
  // One draw per run that has dropout: the masks follow the session's generator.
  // (Ranks draw the same numbers, their generators in step, and mix in their rank: masks differ.)
  if (graph.needs_seed) {
    all[kDropoutSeedInput] =
        Tensor::scalar<int64_t>(static_cast<int64_t>(rng_() >> 1) ^ (int64_t{communicator_->rank()} << 48));
  }
  if (graph.inputs.count(kLossScaleInput)) {
    all[kLossScaleInput] = loss_type_ == DataType::kDouble ? Tensor::scalar<double>(loss_scale_)
                                                           : Tensor::scalar<float>(static_cast<float>(loss_scale_));
  }
  for (const auto* values : {&params_, &buffers_}) {
    for (const auto& [name, value] : *values) {
      if (graph.inputs.count(name)) all.emplace(name, value);
    }
  }
  return all;
}

double TrainingSession::loss_from(const std::vector<NamedValue>& outputs) const {
  for (const NamedValue& output : outputs) {
    if (output.name != loss_name_) continue;
    const Tensor& loss = output.value.tensor();
    ONYX_CHECK(loss.element_count() == 1, ErrorCode::kInvalidArgument, "the loss '", loss_name_,
               "' must be a scalar, got shape ", shape_to_string(loss.shape()));
    return loss.element_as_double(0);
  }
  throw_error(ErrorCode::kRuntimeFailure, "the loss '", loss_name_, "' is not among the graph outputs");
}

namespace {

bool loss_is_summed(const TrainingOptions& options) {
  return options.loss && options.loss->reduction == Reduction::kSum;
}

}  // namespace

double TrainingSession::run_backward(const Feeds& feeds, bool training, bool step_follows) {
  // Reductions still in flight from a pass whose gradients were then accumulated further or
  // dropped (zero_grad) are of no use any more: every rank waits for them at the same point.
  if (reduction_ && reduction_->in_flight()) reduction_->discard();
  ++backwards_since_step_;
  buckets_started_in_backward_ = 0;
  const bool overlap = reduction_ && options_.overlap_gradient_all_reduce && gradients_.empty() &&
                       (step_follows || !accumulated_last_step_);
  const CompiledGraph& graph = compiled(GraphKind::kGradient, training);
  if (communicator_id_ != 0) {
    // The whole batch's loss is the samples-weighted mean of the ranks' (or their sum): this
    // rank's share scales what it differentiates.
    local_samples_ = batch_samples(feeds);
    std::vector<double> samples{static_cast<double>(local_samples_)};
    communicator_->all_reduce_sum(samples);
    global_samples_ = static_cast<int64_t>(samples[0]);
    ONYX_CHECK(global_samples_ > 0, ErrorCode::kInvalidArgument, "a data-parallel step with no samples on any rank");
    const double ranks = communicator_->size();
    loss_scale_ = loss_is_summed(options_) ? ranks : static_cast<double>(local_samples_) * ranks / global_samples_;
    gradients_averaged_ = false;
  }
  RunOptions run_options;
  std::optional<GradientBucketFiller> filler;
  if (overlap) {
    auto& places = graph.bucket_places;
    if (places.empty()) {
      std::map<std::string, std::string> param_of;
      for (const auto& [param, gradient_name] : graph.gradients) param_of[gradient_name] = param;
      for (const ValueInfo& output : graph.session->outputs()) {
        auto param = param_of.find(output.name);
        places.push_back(param == param_of.end() ? std::nullopt : reduction_->locate(param->second));
      }
    }
    reduction_->begin();
    filler.emplace(*reduction_, places);
    run_options.observer = &*filler;
  }
  std::vector<NamedValue> outputs = graph.session->run(feeds_for(graph, feeds), run_options);
  if (overlap) buckets_started_in_backward_ = reduction_->started();
  std::map<std::string, const Tensor*> by_name;
  for (const NamedValue& output : outputs) by_name[output.name] = &output.value.tensor();
  for (const auto& [param, gradient_name] : graph.gradients) {
    const Tensor& gradient = *by_name.at(gradient_name);
    auto accumulated = gradients_.find(param);
    if (accumulated == gradients_.end()) {
      gradients_.emplace(param, gradient);
    } else {
      add_into(accumulated->second, gradient, param);
    }
  }
  // Running statistics move on with every training-mode forward pass, as in PyTorch.
  for (const auto& [buffer, output] : graph.state_updates) buffers_[buffer] = *by_name.at(output);
  return loss_from(outputs);
}

double TrainingSession::train_step(const Feeds& feeds) {
  zero_grad();
  const double learning_rate_used = learning_rate();
  const double loss = run_backward(feeds, true, /*step_follows=*/true);
  optimizer_step();
  double whole_batch_loss = loss;
  if (communicator_id_ != 0) {
    std::vector<double> whole_batch{loss_is_summed(options_) ? loss
                                                             : loss * static_cast<double>(local_samples_) / global_samples_};
    communicator_->all_reduce_sum(whole_batch);
    whole_batch_loss = whole_batch[0];
  }
  if (tensorboard_) {
    tensorboard_->write_scalars({{"step/loss", whole_batch_loss}, {"step/learning_rate", learning_rate_used}}, step());
  }
  return whole_batch_loss;
}

double TrainingSession::backward(const Feeds& feeds) { return run_backward(feeds, training_, false); }

void TrainingSession::optimizer_step() {
  ONYX_CHECK(!gradients_.empty(), ErrorCode::kInvalidArgument, "optimizer_step: no gradients (call backward first)");
  if (communicator_id_ != 0 && !gradients_averaged_) {
    // Started during the (single) backward pass since the last step, or all now.
    const auto start = std::chrono::steady_clock::now();
    if (!reduction_->in_flight()) reduction_->start_all(gradients_);
    reduction_->finish(gradients_, 1.0 / communicator_->size());
    gradient_wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    gradients_averaged_ = true;
  }
  accumulated_last_step_ = backwards_since_step_ > 1;
  backwards_since_step_ = 0;
  optimizer_->step(params_, gradients_);
  // The update made new tensors; gradients_ may still hold session outputs, which stay valid.
}

std::vector<NamedValue> TrainingSession::forward(const Feeds& feeds) const {
  const CompiledGraph& graph = compiled(GraphKind::kForward, training_);
  return graph.session->run(feeds_for(graph, feeds));
}

double TrainingSession::compute_loss(const Feeds& feeds) const {
  const CompiledGraph& graph = compiled(GraphKind::kLoss, training_);
  return loss_from(graph.session->run(feeds_for(graph, feeds)));
}

EvalResult TrainingSession::eval_step(const Feeds& feeds) const {
  const CompiledGraph& graph = compiled(GraphKind::kLoss, false);
  std::vector<NamedValue> outputs = graph.session->run(feeds_for(graph, feeds));
  EvalResult result;
  result.loss = loss_from(outputs);
  for (const auto& [name, output] : metric_outputs_) {
    for (const NamedValue& value : outputs) {
      if (value.name == output) result.metrics[name] = value.value.tensor().element_as_double(0);
    }
  }
  const size_t forward_outputs = forward_.graph.outputs.size();
  outputs.resize(std::min(outputs.size(), forward_outputs));
  if (!outputs.empty() && outputs[0].value.is_tensor() && outputs[0].value.tensor().rank() > 0) {
    result.batch_size = outputs[0].value.tensor().dim(0);
  }
  result.outputs = std::move(outputs);
  return result;
}

void TrainingSession::set_parameter(const std::string& name, const Tensor& value) {
  // Buffers (running statistics) too, like a state_dict.
  std::map<std::string, Tensor>& values = params_.count(name) ? params_ : buffers_;
  auto found = values.find(name);
  ONYX_CHECK(found != values.end(), ErrorCode::kInvalidArgument, "set_parameter: '", name,
             "' is not a trainable parameter or buffer");
  ONYX_CHECK(found->second.dtype() == value.dtype() && found->second.shape() == value.shape(),
             ErrorCode::kInvalidArgument, "set_parameter: '", name, "' is ", dtype_name(found->second.dtype()),
             shape_to_string(found->second.shape()), ", got ", dtype_name(value.dtype()), shape_to_string(value.shape()));
  found->second = value.clone();
}

const Model& TrainingSession::gradient_model() const { return compiled(GraphKind::kGradient, training_).model; }

Model TrainingSession::inference_model() const {
  Model model = forward_;
  for (const auto* values : {&params_, &buffers_}) {
    for (const auto& [name, value] : *values) model.graph.set_initializer(name, value.clone());
  }
  return model;
}

void TrainingSession::export_inference_model(const std::filesystem::path& path) const {
  save_model(inference_model(), path);
}

void TrainingSession::save_checkpoint(const std::filesystem::path& path) const {
  Checkpoint checkpoint;
  checkpoint.parameters = params_;
  checkpoint.parameters.insert(buffers_.begin(), buffers_.end());
  checkpoint.optimizer_state = optimizer_->state();
  checkpoint.step = optimizer_->step_count();
  for (size_t g = 0; g < optimizer_->group_count(); ++g) {
    for (const std::string& name : hyperparameter_names(optimizer_->config().kind)) {
      checkpoint.hyperparameters[hyperparameter_input_name(name, g)] = optimizer_->base_hyperparameter(name, g);
    }
  }
  std::ostringstream rng;
  rng << rng_;
  checkpoint.rng_state = rng.str();
  checkpoint.metadata["optimizer"] = std::string(optimizer_kind_name(optimizer_->config().kind));
  if (communicator_->size() > 1) checkpoint.metadata["world_size"] = std::to_string(communicator_->size());
  training::save_checkpoint(checkpoint, path);
}

void TrainingSession::load_checkpoint(const std::filesystem::path& path) {
  Checkpoint checkpoint = training::load_checkpoint(path);
  const std::string kind(optimizer_kind_name(optimizer_->config().kind));
  ONYX_CHECK(checkpoint.metadata["optimizer"] == kind, ErrorCode::kInvalidArgument, "checkpoint ", path,
             " was written by optimizer '", checkpoint.metadata["optimizer"], "', this session uses '", kind, "'");
  const auto world_size = checkpoint.metadata.find("world_size");
  const std::string saved_ranks = world_size == checkpoint.metadata.end() ? "1" : world_size->second;
  ONYX_CHECK(saved_ranks == std::to_string(communicator_->size()), ErrorCode::kInvalidArgument, "checkpoint ", path,
             " was written by a run of ", saved_ranks, " rank(s); this run has ", communicator_->size(),
             " (resume with the same number of processes)");
  const size_t expected_count = params_.size() + buffers_.size();
  ONYX_CHECK(checkpoint.parameters.size() == expected_count, ErrorCode::kInvalidArgument, "checkpoint ", path, " has ",
             checkpoint.parameters.size(), " parameters and buffers, the session has ", expected_count);
  for (const auto* values : {&params_, &buffers_}) {
    for (const auto& [name, value] : *values) {
      auto saved = checkpoint.parameters.find(name);
      ONYX_CHECK(saved != checkpoint.parameters.end(), ErrorCode::kInvalidArgument, "checkpoint ", path,
                 " has no parameter '", name, "'");
      ONYX_CHECK(saved->second.dtype() == value.dtype() && saved->second.shape() == value.shape(),
                 ErrorCode::kInvalidArgument, "checkpoint ", path, ": parameter '", name, "' is ",
                 dtype_name(saved->second.dtype()), shape_to_string(saved->second.shape()), ", the model has ",
                 dtype_name(value.dtype()), shape_to_string(value.shape()));
    }
  }
  for (size_t g = 0; g < optimizer_->group_count(); ++g) {
    for (const std::string& name : hyperparameter_names(optimizer_->config().kind)) {
      auto saved = checkpoint.hyperparameters.find(hyperparameter_input_name(name, g));
      ONYX_CHECK(saved != checkpoint.hyperparameters.end(), ErrorCode::kInvalidArgument, "checkpoint ", path,
                 " has no value of '", name, "' for parameter group ", g);
    }
  }
  optimizer_->set_state(checkpoint.optimizer_state);  // checks names and shapes first
  for (size_t g = 0; g < optimizer_->group_count(); ++g) {
    for (const std::string& name : hyperparameter_names(optimizer_->config().kind)) {
      optimizer_->set_hyperparameter(name, checkpoint.hyperparameters.at(hyperparameter_input_name(name, g)), g);
    }
  }
  optimizer_->set_step_count(checkpoint.step);
  for (auto* values : {&params_, &buffers_}) {
    for (auto& [name, value] : *values) value = checkpoint.parameters.at(name);
  }
  std::istringstream rng(checkpoint.rng_state);
  rng >> rng_;
  ONYX_CHECK(!rng.fail(), ErrorCode::kInvalidArgument, "checkpoint ", path, ": unreadable random generator state");
  zero_grad();
}

}  // namespace onyx::training
