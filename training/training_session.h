// TrainingSession: trains a forward ONNX model. It appends a loss (and metrics) to the model,
// builds the gradient graph once, compiles one inference session per graph it needs (gradient,
// loss/metrics, forward; per train/eval mode when the model has mode-dependent ops) and an
// optimizer update graph, then runs them step after step with the parameters as feeds.
//
// train_step() is the whole step; the pieces of a custom loop are separate: backward()
// (forward + loss + gradients, accumulated like PyTorch's .grad), gradients(), zero_grad(),
// optimizer_step(), parameters()/set_parameter(), learning_rate()/set_learning_rate().
// Not thread-safe: one training loop per session.
//
// Data-parallel training (TrainingOptions::communicator with more than one rank, e.g.
// distributed::world_communicator() under mpirun): every rank runs the same calls on its own
// part of each batch. Parameters and buffers start as rank 0's; BatchNormalization uses the
// statistics of the batch over all ranks; the gradients are averaged over ranks (in buckets)
// before the update, each rank weighted by its share of the samples, so N ranks take the step
// one process would take on their batches together. Each bucket's all-reduce starts inside the
// backward pass, as soon as its gradients are made (train_step, and a backward() that is the
// first since the last step, unless the last step accumulated several); optimizer_step waits for
// them. Gradient accumulation over several backward() calls all-reduces their sum once, in
// optimizer_step. train_step returns the loss of the whole batch. Collectives run inside
// backward and optimizer_step, so every rank must call them equally often.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "runtime/session/inference_session.h"
#include "training/losses.h"
#include "training/distributed/communicator.h"
#include "training/distributed/gradient_buckets.h"
#include "training/metrics.h"
#include "training/optimizer.h"

namespace onyx::training {

using Feeds = std::map<std::string, Value>;

struct UserGraph {
  std::string name;
  Model model;
  std::map<std::string, std::string> bindings;  // graph input -> forward value
};

struct TrainingOptions {
  // The loss: exactly one of a built-in loss, a user loss graph, or an output the forward model
  // already computes.
  std::optional<LossSpec> loss;
  std::optional<UserGraph> loss_graph;
  std::string loss_output;

  // Initializer names or shell-style patterns ("encoder.*", "*.bias"). Empty trainable: every
  // floating-point initializer the loss depends on.
  std::vector<std::string> trainable;
  std::vector<std::string> frozen;
  OptimizerConfig optimizer = sgd(0.01);

  // Computed by eval_step. They compare `metric_prediction` (default: the built-in loss's
  // prediction) with `metric_target` (default: the built-in loss's target).
  std::vector<MetricSpec> metrics;
  std::vector<UserGraph> metric_graphs;
  std::string metric_prediction;
  std::string metric_target;

  // The session's random generator: dropout masks (one draw per training-mode run) and the
  // caller's data shuffling (rng()); saved in checkpoints.
  uint64_t seed = 0;
  SessionOptions session;

  // Data-parallel training over these ranks; null: this process alone.
  std::shared_ptr<distributed::Communicator> communicator;
  // Gradients are averaged in all-reduces of about this size (PyTorch DDP's default: 25 MiB).
  // A bucket starts when its last gradient is made, so a model whose gradients fit in one
  // bucket gets no overlap: smaller buckets start earlier, at a latency per all-reduce.
  size_t gradient_bucket_bytes = size_t{25} << 20;
  // Start each bucket's all-reduce during the backward pass (false: all after it, as for
  // gradient accumulation).
  bool overlap_gradient_all_reduce = true;

  // TensorBoard event files (training/tensorboard_writer.h) in this folder, made when missing:
  // train_step() writes step/loss (the whole global batch's) and step/learning_rate; a training
  // loop adds its epoch scalars through tensorboard(). Empty: none. Under data-parallel
  // training only rank 0 writes them.
  std::filesystem::path tensorboard_dir;
};

class TensorBoardWriter;

struct EvalResult {
  double loss = 0;
  std::map<std::string, double> metrics;  // by metric name ("accuracy", "top5_accuracy", ...)
  std::vector<NamedValue> outputs;        // the forward model's outputs
  // Samples in the batch (dim 0 of the first output): the weight for MetricAverage.
  int64_t batch_size = 1;
};

class TrainingSession {
 public:
  TrainingSession(Model forward, TrainingOptions options);
  TrainingSession(const std::filesystem::path& model_path, TrainingOptions options);
  ~TrainingSession();

  // One optimizer step on one batch in training mode: zero_grad, backward, optimizer_step.
  // Returns the batch loss (before the update).
  double train_step(const Feeds& feeds);
  // Loss, metrics and outputs in eval mode; parameters and gradients are untouched.
  EvalResult eval_step(const Feeds& feeds) const;

  // --- pieces of a custom loop (all in the current mode)
  // The forward model's outputs; targets are not needed.
  std::vector<NamedValue> forward(const Feeds& feeds) const;
  double compute_loss(const Feeds& feeds) const;
  // Forward, loss and gradients; the gradients are added to gradients(). Returns the loss (of
  // this rank's batch).
  double backward(const Feeds& feeds);
  // dLoss/dparameter accumulated since zero_grad(), by parameter name (empty after zero_grad).
  // With several ranks: this rank's part until optimizer_step averages them.
  const std::map<std::string, Tensor>& gradients() const { return gradients_; }
  void zero_grad() {
    gradients_.clear();
    gradients_averaged_ = false;
    backwards_since_step_ = 0;
  }
  // One update from gradients() (averaged over ranks first); they are kept (call zero_grad
  // before the next backward).
  void optimizer_step();

  // --- data parallelism
  distributed::Communicator& communicator() const { return *communicator_; }
  // Bytes of gradients one optimizer step all-reduces, and in how many buckets (in the order
  // the training-mode backward pass completes them).
  size_t gradient_bytes_per_step() const;
  const std::vector<distributed::GradientBucket>& gradient_buckets() const { return buckets_; }
  // Buckets whose all-reduce the last backward pass started before it ended (0 when it did
  // not overlap: one rank, accumulation, overlap_gradient_all_reduce off).
  size_t buckets_started_in_backward() const { return buckets_started_in_backward_; }
  // Seconds optimizer_step has spent so far on the gradients' all-reduces since the session was
  // made: packing and starting those the backward pass did not start, waiting for all, and
  // unpacking the means (what the overlap did not hide).
  double gradient_wait_seconds() const { return gradient_wait_seconds_; }

  // --- parameters and hyper-parameters
  const std::vector<std::string>& trainable_names() const { return trainable_; }
  const std::map<std::string, Tensor>& parameters() const { return params_; }
  // Non-trainable state updated by training-mode steps (BatchNormalization running statistics).
  const std::map<std::string, Tensor>& buffers() const { return buffers_; }
  // A trainable parameter or a buffer (restoring a snapshot of parameters() and buffers()).
  void set_parameter(const std::string& name, const Tensor& value);
  double learning_rate(size_t group = 0) const { return optimizer_->learning_rate(group); }
  void set_learning_rate(double lr, std::optional<size_t> group = std::nullopt) {
    optimizer_->set_learning_rate(lr, group);
  }
  Optimizer& optimizer() { return *optimizer_; }
  const Optimizer& optimizer() const { return *optimizer_; }
  int64_t step() const { return optimizer_->step_count(); }
  // Graph inputs the loss added (targets), fed with each batch.
  const std::vector<std::string>& target_inputs() const { return targets_; }
  std::mt19937_64& rng() { return rng_; }
  // The event-file writer of TrainingOptions::tensorboard_dir; null without one.
  TensorBoardWriter* tensorboard() const { return tensorboard_.get(); }

  // --- mode: decides Dropout's behaviour in forward, compute_loss and backward
  void train() { training_ = true; }
  void eval() { training_ = false; }
  bool is_training() const { return training_; }

  // The forward model (no loss, inference mode) with the current parameter values.
  Model inference_model() const;
  void export_inference_model(const std::filesystem::path& path) const;

  void save_checkpoint(const std::filesystem::path& path) const;
  // Restores parameters, optimizer state, step, hyper-parameters and the random generator;
  // throws when the checkpoint's parameters or optimizer do not match this session's.
  void load_checkpoint(const std::filesystem::path& path);

  // The gradient graph (forward + loss + backward) used in the current mode, for inspection.
  const Model& gradient_model() const;

 private:
  enum class GraphKind { kForward, kLoss, kGradient };
  struct CompiledGraph;
  const CompiledGraph& compiled(GraphKind kind, bool training) const;
  // `step_follows`: train_step's pass, which optimizer_step follows at once.
  double run_backward(const Feeds& feeds, bool training, bool step_follows);
  void plan_buckets();
  // The user's batch for one graph: inputs it does not read are dropped, parameters, buffers
  // and the dropout seed added.
  Feeds feeds_for(const CompiledGraph& graph, const Feeds& feeds) const;
  // Turns the trainable parameters and buffers of `model` into inputs fed each run.
  void prepare_inputs(Model& model) const;
  double loss_from(const std::vector<NamedValue>& outputs) const;
  // Data parallelism: the value differentiated is loss * this rank's share (the loss-scale
  // input), so that averaging the gradients over ranks gives the whole batch's gradient.
  std::string add_loss_scale(Model& model) const;
  void start_in_step_with_rank_zero();
  int64_t batch_samples(const Feeds& feeds) const;

  Model forward_;            // as given: the source of inference_model()
  Model with_loss_;          // forward + loss (parameters still initializers: the builder's input)
  Model with_metrics_;       // forward + loss + metrics, trainable parameters as inputs
  TrainingOptions options_;
  // The custom ops of options_.session, for the gradient builder (the sessions build their own).
  std::shared_ptr<OpRegistry> ops_;
  std::vector<std::string> trainable_;
  std::vector<std::string> targets_;
  std::set<std::string> batch_inputs_;  // inputs of the loss/metrics graph (data, targets, ...)
  std::string loss_name_;
  std::vector<std::pair<std::string, std::string>> metric_outputs_;  // metric name -> output
  bool mode_dependent_ = false;
  bool training_ = true;
  std::map<std::string, Tensor> params_;
  std::map<std::string, Tensor> buffers_;  // running statistics that training-mode steps update
  std::map<std::string, Tensor> gradients_;
  std::unique_ptr<Optimizer> optimizer_;
  mutable std::mt19937_64 rng_;  // also seeds each training-mode run's dropout masks
  mutable std::map<std::pair<GraphKind, bool>, std::unique_ptr<CompiledGraph>> compiled_;

  std::shared_ptr<distributed::Communicator> communicator_;
  int64_t communicator_id_ = 0;  // registered for the graphs' AllReduceSum nodes (0: one rank)
  std::vector<distributed::GradientBucket> buckets_;
  std::vector<std::string> data_inputs_;  // the forward model's inputs: their dim 0 counts samples
  DataType loss_type_ = DataType::kFloat;
  double loss_scale_ = 1;
  int64_t local_samples_ = 0, global_samples_ = 0;  // of the last backward
  bool gradients_averaged_ = false;
  // The buckets' all-reduces (null with one rank), started during the backward pass or by
  // optimizer_step; backward() calls since the last step or zero_grad, and whether the last step
  // accumulated several (then backward() does not overlap: its reductions would be wasted).
  std::unique_ptr<distributed::OverlappedGradientReduction> reduction_;
  int backwards_since_step_ = 0;
  bool accumulated_last_step_ = false;
  size_t buckets_started_in_backward_ = 0;
  double gradient_wait_seconds_ = 0;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
};

}  // namespace onyx::training
