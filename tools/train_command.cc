// `onyx train MODEL --data TRAIN --label NAME --loss KIND --optimizer KIND --lr X --out FILE`:
// trains an exported model on a data set and writes the trained model. Everything is checked
// (flags, data against the model's declared inputs, the checkpoint to resume) before the first
// step, so a mistake costs one error line and leaves no file behind; files are written
// atomically. Ctrl-C finishes the current step, saves a checkpoint and exits with status 130.
// Under mpirun it trains data-parallel (train_distributed.h): each rank takes its slice of every
// batch, and only rank 0 prints, logs and writes files.
#include <algorithm>
#include <csignal>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/ir/model_loader.h"
#include "tools/cli_checks.h"
#include "tools/commands.h"
#include "tools/custom_ops_option.h"
#include "tools/memory_limit_option.h"
#include "tools/precision_option.h"
#include "tools/train_checks.h"
#include "tools/train_distributed.h"
#include "tools/train_log.h"
#include "tools/train_summary.h"
#include "tools/train_progress.h"
#include "training/checkpoint.h"
#include "training/data/data_checks.h"
#include "training/data/dataset.h"
#include "training/tensorboard_writer.h"
#include "training/training_session.h"

namespace onyx::cli {

namespace fs = std::filesystem;
using training::data::Dataset;

namespace {

struct TrainArgs {
  std::string model, data, val, test, label, loss, optimizer, out;
  double val_split = 0;
  double lr = 0;
  std::optional<double> momentum, weight_decay, max_grad_norm, label_smoothing, huber_delta;
  std::string schedule;
  int64_t epochs = 1;
  int64_t batch_size = 32;
  std::vector<std::string> metrics, trainable, freeze, custom_ops;
  std::vector<std::string> metric_graphs;  // NAME=FILE
  std::string prediction;
  std::string checkpoint_dir;
  int64_t keep_checkpoints = 3;
  bool resume = false;
  uint64_t seed = 0;
  int threads = 0;
  size_t memory_limit = 0;
  std::string log;
  std::string tensorboard;
  std::string early_stopping;
  int64_t patience = 3;
  double min_delta = 0;
  std::string progress = "auto";
  Precision precision = Precision::kFp32;
  bool per_rank_batch = false;
  double collective_timeout = 300;
  double gradient_bucket_mb = 25;
  bool no_gradient_overlap = false;
};

volatile std::sig_atomic_t interrupted = 0;
extern "C" void on_interrupt(int) {
  interrupted = 1;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

bool is_class_loss(training::LossKind kind) {
  return kind == training::LossKind::kCrossEntropy || kind == training::LossKind::kNll;
}

std::string format(double value) {
  std::ostringstream text;
  text.setf(std::ios::fixed);
  text.precision(4);
  text << value;
  return text.str();
}

// Exporters often fix the batch dim (torch.onnx.export without dynamic_axes); training feeds
// batches of --batch-size and a smaller last one, so dim 0 of the data inputs and the outputs
// becomes symbolic.
void make_batch_dim_symbolic(Model& model, const std::set<std::string>& data_inputs) {
  for (ValueInfo& input : model.graph.inputs) {
    if (data_inputs.count(input.name) && input.type.shape && !input.type.shape->empty()) {
      (*input.type.shape)[0] = Dim::named("batch");
    }
  }
  for (ValueInfo& output : model.graph.outputs) {
    if (output.type.shape && !output.type.shape->empty()) (*output.type.shape)[0] = Dim::named("batch");
  }
}

std::optional<std::vector<Dim>> dims_after(const TypeInfo& type, size_t skip) {
  if (!type.shape || type.shape->size() < skip) return std::nullopt;
  return std::vector<Dim>(type.shape->begin() + static_cast<std::ptrdiff_t>(skip), type.shape->end());
}

struct Averages {
  double loss = 0;
  std::map<std::string, double> metrics;
};

// Each rank evaluates its contiguous share of the data set; the sample-weighted sums are added
// up over ranks, so every rank gets the averages one process would.
Averages evaluate(const training::TrainingSession& session, const Dataset& dataset, int64_t batch_size) {
  training::distributed::Communicator& communicator = session.communicator();
  const RankSlice mine = rank_slice(0, dataset.size(), communicator.rank(), communicator.size());
  WeightedSums sums;
  std::vector<int64_t> order(static_cast<size_t>(dataset.size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  for (int64_t begin = mine.begin; begin < mine.end; begin += batch_size) {
    const int64_t end = std::min(mine.end, begin + batch_size);
    training::EvalResult result = session.eval_step(training::data::make_batch(dataset, order, begin, end));
    sums.add(result.loss, result.metrics, end - begin);
  }
  if (communicator.size() > 1) sums.reduce(communicator);
  Averages averages{sums.samples > 0 ? sums.loss / sums.samples : 0.0, {}};
  for (const auto& [name, sum] : sums.metrics) averages.metrics[name] = sum / sums.samples;
  return averages;
}

std::string describe_averages(const std::string& prefix, const Averages& averages) {
  std::string text = prefix + " loss " + format(averages.loss);
  for (const auto& [name, value] : averages.metrics) text += " " + prefix + " " + name + " " + format(value);
  return text;
}

// Early stopping: watches "val_loss" or "val_<metric>" (losses and errors fall, accuracies rise).
struct EarlyStopping {
  std::string watched;
  bool higher_is_better = false;
  double best = std::numeric_limits<double>::quiet_NaN();
  int64_t best_epoch = -1;
  int64_t bad_epochs = 0;
  std::map<std::string, Tensor> best_parameters;
};

// --metric-graph NAME=FILE: a metric as an ONNX graph of the model's prediction and the label
// (inputs "prediction" and "target", one scalar output), as onyx::nn's MeanMetric::save_graph
// writes it; evaluated per batch like the built-in metrics.
std::vector<training::UserGraph> metric_graphs(const TrainArgs& args, const std::string& prediction) {
  std::vector<training::UserGraph> graphs;
  for (const std::string& spec : args.metric_graphs) {
    const size_t equals = spec.find('=');
    ONYX_CHECK(equals != std::string::npos && equals > 0 && equals + 1 < spec.size(), ErrorCode::kInvalidArgument,
               "--metric-graph ", spec, ": expected NAME=FILE.onnx");
    training::UserGraph graph{spec.substr(0, equals), load_model(spec.substr(equals + 1)), {}};
    std::vector<std::string> inputs;
    for (const ValueInfo& input : graph.model.graph.inputs) {
      if (!graph.model.graph.initializers.count(input.name)) inputs.push_back(input.name);
    }
    std::sort(inputs.begin(), inputs.end());
    ONYX_CHECK(inputs == (std::vector<std::string>{"prediction", "target"}) && graph.model.graph.outputs.size() == 1,
               ErrorCode::kInvalidArgument, "--metric-graph ", spec,
               ": the metric graph must read the inputs 'prediction' and 'target' and give one output");
    graph.bindings = {{"prediction", prediction}, {"target", args.label}};
    graphs.push_back(std::move(graph));
  }
  return graphs;
}

double watched_value(const EarlyStopping& stopping, const Averages& val) {
  if (stopping.watched == "val_loss") return val.loss;
  auto found = val.metrics.find(stopping.watched.substr(4));
  ONYX_CHECK(found != val.metrics.end(), ErrorCode::kInvalidArgument, "--early-stopping ", stopping.watched,
             ": no such validation metric");
  return found->second;
}

// The choices the flags make, all checked before anything is loaded.
struct Choices {
  training::LossKind loss_kind = training::LossKind::kMse;
  training::OptimizerConfig optimizer;
  std::vector<training::MetricSpec> metrics;
  ProgressStyle progress = ProgressStyle::kNone;
  EarlyStopping stopping;
  bool has_validation = false;
};

Choices check_flags(const TrainArgs& args) {
  Choices choices;
  choices.loss_kind = training::parse_loss_kind(args.loss);
  choices.optimizer = training::optimizer_from_name(args.optimizer, args.lr);
  if (args.momentum) training::set_default_hyperparameter(choices.optimizer, "momentum", *args.momentum);
  if (args.weight_decay) training::set_default_hyperparameter(choices.optimizer, "weight_decay", *args.weight_decay);
  if (!args.schedule.empty()) {
    choices.optimizer.schedules = {{"lr", training::parse_schedule(args.schedule), std::nullopt}};
  }
  choices.optimizer.max_grad_norm = args.max_grad_norm;
  if (args.metrics != std::vector<std::string>{"none"}) {
    for (const std::string& name : args.metrics) choices.metrics.push_back(training::parse_metric(name));
  }
  if (args.metrics.empty() && is_class_loss(choices.loss_kind)) {
    choices.metrics.push_back(training::parse_metric("accuracy"));
  }
  ONYX_CHECK(!args.label_smoothing || choices.loss_kind == training::LossKind::kCrossEntropy,
             ErrorCode::kInvalidArgument, "--label-smoothing applies to --loss cross_entropy, not ", args.loss);
  ONYX_CHECK(!args.label_smoothing || (*args.label_smoothing >= 0 && *args.label_smoothing <= 1),
             ErrorCode::kInvalidArgument, "--label-smoothing must be between 0 and 1, got ", *args.label_smoothing);
  ONYX_CHECK(!args.huber_delta || choices.loss_kind == training::LossKind::kHuber, ErrorCode::kInvalidArgument,
             "--huber-delta applies to --loss huber, not ", args.loss);
  ONYX_CHECK(!args.huber_delta || *args.huber_delta > 0, ErrorCode::kInvalidArgument,
             "--huber-delta must be positive, got ", *args.huber_delta);
  choices.progress = parse_progress_style(args.progress);
  ONYX_CHECK(args.resume ? !args.checkpoint_dir.empty() : true, ErrorCode::kInvalidArgument,
             "--resume needs --checkpoint-dir (the folder to resume from)");
  const fs::path out_path(args.out);
  const fs::path out_folder = out_path.parent_path().empty() ? fs::path(".") : out_path.parent_path();
  ONYX_CHECK(fs::is_directory(out_folder), ErrorCode::kInvalidArgument, "--out ", args.out, ": folder ",
             out_folder.string(), " does not exist");
  ONYX_CHECK(!fs::is_directory(out_path), ErrorCode::kInvalidArgument, "--out ", args.out, " is a folder");
  choices.has_validation = !args.val.empty() || args.val_split > 0;
  if (!args.early_stopping.empty()) {
    EarlyStopping& stopping = choices.stopping;
    ONYX_CHECK(choices.has_validation, ErrorCode::kInvalidArgument,
               "--early-stopping needs validation data (--val or --val-split)");
    stopping.watched = args.early_stopping;
    ONYX_CHECK(stopping.watched.rfind("val_", 0) == 0, ErrorCode::kInvalidArgument, "--early-stopping ",
               stopping.watched, ": expected val_loss or val_<metric> (e.g. val_accuracy)");
    const bool watches_graph_metric = std::any_of(args.metric_graphs.begin(), args.metric_graphs.end(),
                                                  [&](const std::string& spec) {
                                                    return spec.substr(0, spec.find('=')) == stopping.watched.substr(4);
                                                  });
    if (stopping.watched != "val_loss" && !watches_graph_metric) {  // a graph metric is an error: lower is better
      const training::MetricSpec watched = training::parse_metric(stopping.watched.substr(4));
      stopping.higher_is_better = watched.kind == training::MetricKind::kAccuracy ||
                                  watched.kind == training::MetricKind::kTopKAccuracy;
      bool listed = false;
      for (const auto& spec : choices.metrics) {
        listed = listed || training::metric_name(spec) == training::metric_name(watched);
      }
      if (!listed) choices.metrics.push_back(watched);
    }
  }
  return choices;
}

// The model, what the loss reads, and the data sets checked and converted against it.
struct Prepared {
  Model model;
  std::string prediction;
  std::set<std::string> data_inputs;
  Dataset train, val, test;
};

Prepared prepare_model_and_data(const TrainArgs& args, const Choices& choices) {
  Prepared prepared{load_model(args.model), {}, {}, {}, {}, {}};
  const Graph& graph = prepared.model.graph;
  std::vector<const ValueInfo*> data_inputs;
  for (const ValueInfo& input : graph.inputs) {
    if (!graph.initializers.count(input.name)) data_inputs.push_back(&input), prepared.data_inputs.insert(input.name);
  }
  ONYX_CHECK(!graph.outputs.empty(), ErrorCode::kInvalidModel, args.model, " has no outputs");
  bool has_float_initializer = false;
  for (const auto& [name, value] : graph.initializers) has_float_initializer |= dtype_is_float(value.dtype());
  ONYX_CHECK(has_float_initializer, ErrorCode::kInvalidArgument, args.model,
             " has no float initializers to train (its weights are inputs or constants)");
  const ValueInfo* prediction = &graph.outputs.front();
  if (!args.prediction.empty()) {
    prediction = nullptr;
    for (const ValueInfo& output : graph.outputs) {
      if (output.name == args.prediction) prediction = &output;
    }
    ONYX_CHECK(prediction != nullptr, ErrorCode::kInvalidArgument, args.model, " has no output '", args.prediction, "'");
  }
  prepared.prediction = prediction->name;
  bool label_clashes = prepared.data_inputs.count(args.label) || graph.initializers.count(args.label);
  for (const ValueInfo& output : graph.outputs) label_clashes = label_clashes || output.name == args.label;
  ONYX_CHECK(!label_clashes, ErrorCode::kInvalidArgument, "--label '", args.label,
             "' is also the name of one of the model's inputs, outputs or initializers; the label must be a "
             "separate array");

  training::data::LoadOptions load_options;
  load_options.label = args.label;
  if (data_inputs.size() == 1) load_options.features = data_inputs.front()->name;
  std::vector<training::data::ArrayRequirement> requirements;
  for (const ValueInfo* input : data_inputs) {
    requirements.push_back({input->name, input->type.elem_type, dims_after(input->type, 1), "model input"});
  }
  training::data::ArrayRequirement label{args.label, prediction->type.elem_type, dims_after(prediction->type, 1),
                                         "label for " + args.loss};
  if (is_class_loss(choices.loss_kind)) {
    label.dtype = DataType::kInt64, label.sample_dims = dims_after(prediction->type, 2);
  }
  requirements.push_back(label);
  // Class labels must index dim 1 of the prediction (the class axis, whatever the rank).
  std::optional<int64_t> classes;
  if (is_class_loss(choices.loss_kind) && prediction->type.shape && prediction->type.shape->size() >= 2 &&
      (*prediction->type.shape)[1].is_known()) {
    classes = (*prediction->type.shape)[1].value;
  }
  auto load = [&](const std::string& spec) {
    Dataset dataset = training::data::load_dataset(spec, load_options);
    training::data::conform_dataset(dataset, requirements);
    training::data::check_finite(dataset);
    if (classes) {
      const std::string output = "output '" + prediction->name + "' (" + std::to_string(*classes) + " classes)";
      training::data::check_class_labels(dataset, args.label, *classes, output);
    }
    return dataset;
  };
  prepared.train = load(args.data);
  if (!args.val.empty()) {
    prepared.val = load(args.val);
  } else if (args.val_split > 0) {
    std::tie(prepared.train, prepared.val) = training::data::split_dataset(prepared.train, args.val_split, args.seed);
  }
  if (!args.test.empty()) prepared.test = load(args.test);
  make_batch_dim_symbolic(prepared.model, prepared.data_inputs);
  return prepared;
}

struct EpochResult {
  double mean_loss = 0;
  double seconds = 0;
  int64_t samples = 0;
  bool interrupted = false;
  std::optional<double> metric_estimate;  // the progress bar's running estimate of the first metric
  // Set when a batch loss was NaN or infinite: the loss and its step in the epoch (from 1).
  std::optional<double> bad_loss;
  int64_t bad_step = 0;
};

// Test hook: ONYX_TEST_INTERRUPT_AFTER_STEP=N raises SIGINT once step N (counted over the whole
// run) is done, so tests interrupt at an exact step, mid-epoch included, through Ctrl-C's path.
std::optional<int64_t> interrupt_after_step() {
  const char* text = std::getenv("ONYX_TEST_INTERRUPT_AFTER_STEP");
  if (text == nullptr || *text == '\0') return std::nullopt;
  return std::stoll(text);
}

// Trains the rest of `epoch` (from the step the session is at). Stops after the step during
// which Ctrl-C came.
EpochResult train_epoch(training::TrainingSession& session, const Dataset& data, const TrainArgs& args,
                        const Choices& choices, int64_t epoch, int64_t steps_per_epoch) {
  static const std::optional<int64_t> interrupt_after = interrupt_after_step();
  const std::vector<int64_t> order = training::data::epoch_order(data.size(), args.seed, epoch);
  const int64_t first_step = session.step() - epoch * steps_per_epoch;
  const std::string metric_shown = choices.metrics.empty() ? std::string() : training::metric_name(choices.metrics.front());
  EpochProgress progress(choices.progress, epoch, args.epochs, steps_per_epoch, first_step);
  training::MetricAverage train_loss;
  training::MetricAverage train_metric;
  EpochResult result;
  const training::distributed::Communicator& communicator = session.communicator();
  for (int64_t step = first_step; step < steps_per_epoch && !result.interrupted; ++step) {
    // args.batch_size is the global batch; this rank trains on its slice of it.
    const int64_t begin = step * args.batch_size;
    const int64_t end = std::min(data.size(), begin + args.batch_size);
    const RankSlice mine = rank_slice(begin, end, communicator.rank(), communicator.size());
    training::Feeds batch = training::data::make_batch(data, order, mine.begin, mine.end);
    inject_test_fault(communicator, session.step() + 1);
    const double loss = session.train_step(batch);  // the whole global batch's loss
    if (!std::isfinite(loss)) {
      // The update from this batch is already in the parameters: nothing of them may be saved.
      result.bad_loss = loss, result.bad_step = step + 1;
      break;
    }
    train_loss.add(loss, end - begin);
    // The bar's metric: every 20th batch, re-evaluated after its update (a cheap running estimate).
    if (!metric_shown.empty() && step % 20 == 0) {
      train_metric.add(session.eval_step(batch).metrics.at(metric_shown), mine.end - mine.begin);
    }
    progress.update(step + 1, end - begin, train_loss.value(), metric_shown,
                    train_metric.count() ? std::optional<double>(train_metric.value()) : std::nullopt);
    if (interrupt_after && session.step() == *interrupt_after) std::raise(SIGINT);
    result.interrupted = interrupted != 0;
  }
  progress.finish();
  result.mean_loss = train_loss.value();
  result.seconds = progress.seconds();
  result.samples = progress.samples();
  if (train_metric.count()) result.metric_estimate = train_metric.value();
  return result;
}

// The epoch's scalars as TensorBoard events at the run's step: the --log row's columns under
// "epoch/", plus the running train-metric estimate.
void write_epoch_events(training::TensorBoardWriter& events, const EpochRow& row, const EpochResult& result,
                        const Choices& choices, int64_t step) {
  std::vector<std::pair<std::string, double>> scalars;
  for (const auto& [column, value] : row) {
    if (column != "epoch" && column != "step") scalars.emplace_back("epoch/" + column, value);
  }
  if (result.metric_estimate) {
    scalars.emplace_back("epoch/train_" + training::metric_name(choices.metrics.front()), *result.metric_estimate);
  }
  events.write_scalars(scalars, step);
}

// Updates the early-stopping state from this epoch's validation; true when training should stop.
bool should_stop(EarlyStopping& stopping, const training::TrainingSession& session, const Averages& val,
                 const TrainArgs& args, int64_t epoch) {
  const double value = watched_value(stopping, val);
  const bool better = std::isnan(stopping.best) || (stopping.higher_is_better ? value > stopping.best + args.min_delta
                                                                              : value < stopping.best - args.min_delta);
  if (better) {
    stopping.best = value, stopping.best_epoch = epoch, stopping.bad_epochs = 0;
    // Shares the tensors (updates make new ones, never write in place): costs nothing.
    stopping.best_parameters = session.parameters();
    stopping.best_parameters.insert(session.buffers().begin(), session.buffers().end());
    return false;
  }
  return ++stopping.bad_epochs >= args.patience;
}

int train(TrainArgs args, std::shared_ptr<training::distributed::Communicator> communicator) {
  const int ranks = communicator->size();
  if (args.per_rank_batch) args.batch_size *= ranks;
  Choices choices = check_flags(args);
  if (!communicator->is_root()) choices.progress = ProgressStyle::kNone;
  load_custom_op_libraries(args.custom_ops);
  Prepared prepared = prepare_model_and_data(args, choices);

  training::TrainingOptions options;
  training::LossSpec loss;
  loss.kind = choices.loss_kind;
  loss.prediction = prepared.prediction;
  loss.target = args.label;
  if (args.label_smoothing) loss.label_smoothing = static_cast<float>(*args.label_smoothing);
  if (args.huber_delta) loss.huber_delta = static_cast<float>(*args.huber_delta);
  options.loss = loss;
  options.optimizer = choices.optimizer;
  options.metrics = choices.metrics;
  options.metric_graphs = metric_graphs(args, prepared.prediction);
  options.trainable = args.trainable;
  options.frozen = args.freeze;
  options.seed = args.seed;
  options.session.intra_op_threads = args.threads;
  options.session.memory_limit = args.memory_limit;
  options.session.precision = args.precision;
  options.communicator = communicator;
  options.gradient_bucket_bytes = static_cast<size_t>(args.gradient_bucket_mb * (1 << 20));
  options.overlap_gradient_all_reduce = !args.no_gradient_overlap;
  if (communicator->is_root()) options.tensorboard_dir = args.tensorboard;  // rank 0 writes the events
  training::TrainingSession session(std::move(prepared.model), options);
  const bool writes_files = communicator->is_root();
  fs::path last_good;  // the newest checkpoint known to be complete (a NaN loss names it)
  check_data_fits(session, prepared.train);
  if (args.resume) {
    // A damaged newest checkpoint (a crash or a full disk during its write) falls back to the one before.
    auto resumed = training::load_newest_intact_checkpoint(
        args.checkpoint_dir, [&](const fs::path& path) { session.load_checkpoint(path); });
    ONYX_CHECK(resumed.has_value(), ErrorCode::kInvalidArgument, "--resume: no checkpoint-<step>.onnx in ",
               args.checkpoint_dir);
    for (const std::string& skipped : resumed->skipped) {
      std::cerr << "onyx: notice: " << skipped << "; resuming from an older checkpoint" << std::endl;
    }
    last_good = resumed->path;
    std::cout << "resumed from " << resumed->path.string() << " (step " << session.step() << ")" << std::endl;
  }
  TrainLog log(writes_files ? args.log : std::string());

  const Dataset& train_data = prepared.train;
  const int64_t steps_per_epoch = data_parallel_steps_per_epoch(train_data.size(), args.batch_size, ranks);
  ONYX_CHECK(steps_per_epoch > 0, ErrorCode::kInvalidArgument, "the training data has ", train_data.size(),
             " samples, fewer than the ", ranks, " ranks");
  if (ranks > 1) {
    std::cout << "data-parallel over " << ranks << " ranks (" << communicator->backend() << "): batch "
              << args.batch_size << " per step, " << args.batch_size / ranks << "-" << (args.batch_size + ranks - 1) / ranks
              << " per rank; " << session.gradient_bytes_per_step() << " bytes of gradients all-reduced per step in "
              << session.gradient_buckets().size() << " bucket(s)"
              << (args.no_gradient_overlap ? "" : ", started during the backward pass") << std::endl;
    if (steps_per_epoch * args.batch_size < train_data.size()) {
      std::cout << "notice: the last " << train_data.size() % args.batch_size << " samples of each epoch are "
                << "fewer than the ranks and are skipped" << std::endl;
    }
  }
  const int64_t eval_batch = std::max<int64_t>(args.batch_size, 256);
  std::cout << "training " << session.trainable_names().size() << " parameters on " << train_data.size()
            << " samples"
            << (choices.has_validation ? ", validating on " + std::to_string(prepared.val.size()) : std::string())
            << ", " << steps_per_epoch << " steps per epoch" << std::endl;
  const fs::path out_path(args.out);
  const fs::path interrupt_dir =
      args.checkpoint_dir.empty() ? fs::path(out_path.string() + ".checkpoints") : fs::path(args.checkpoint_dir);
  EarlyStopping& stopping = choices.stopping;
  interrupted = 0;
  // Under mpirun, Ctrl-C ends the whole job (the ranks could not agree on the step to stop at);
  // the epoch checkpoints remain.
  if (ranks == 1) std::signal(SIGINT, on_interrupt);
  bool stopped_early = false;
  std::vector<EpochRow> epoch_rows;  // for the summary table
  for (int64_t epoch = session.step() / steps_per_epoch; epoch < args.epochs && !stopped_early; ++epoch) {
    const uint64_t bytes_before = communicator->bytes_all_reduced();
    const double waited_before = session.gradient_wait_seconds();
    const int64_t step_before = session.step();
    const EpochResult result = train_epoch(session, train_data, args, choices, epoch, steps_per_epoch);
    const int64_t steps_run = std::max<int64_t>(1, session.step() - step_before);
    const double bytes_per_step = static_cast<double>(communicator->bytes_all_reduced() - bytes_before) / steps_run;
    const double wait_ms_per_step = 1000 * (session.gradient_wait_seconds() - waited_before) / steps_run;
    if (result.bad_loss) {
      throw_error(ErrorCode::kRuntimeFailure, "the loss became ", *result.bad_loss, " at epoch ", epoch + 1, " step ",
                  result.bad_step, " (step ", epoch * steps_per_epoch + result.bad_step,
                  " of the run); training stopped, ", last_good_text(last_good),
                  " (lower --lr, or clip with --max-grad-norm)");
    }
    if (result.interrupted) {
      fs::create_directories(interrupt_dir);
      const fs::path saved = training::checkpoint_path(interrupt_dir, session.step());
      check_parameters_finite(session, last_good);
      session.save_checkpoint(saved);
      std::cout << "interrupted at epoch " << epoch + 1 << " step " << session.step() - epoch * steps_per_epoch
                << ": saved " << saved.string() << "; continue with --resume --checkpoint-dir "
                << interrupt_dir.string() << std::endl;
      std::signal(SIGINT, SIG_DFL);
      return 130;
    }
    std::ostringstream epoch_line;
    epoch_line << "epoch " << epoch + 1 << "/" << args.epochs << " train loss " << format(result.mean_loss);
    std::string summary = epoch_line.str();
    std::vector<std::pair<std::string, double>> row{{"epoch", static_cast<double>(epoch + 1)},
                                                    {"step", static_cast<double>(session.step())},
                                                    {"train_loss", result.mean_loss}};
    if (choices.has_validation) {
      const Averages val = evaluate(session, prepared.val, eval_batch);
      summary += " " + describe_averages("val", val);
      row.emplace_back("val_loss", val.loss);
      for (const auto& [name, value] : val.metrics) row.emplace_back("val_" + name, value);
      if (!stopping.watched.empty()) stopped_early = should_stop(stopping, session, val, args, epoch);
    }
    const double rate = result.seconds > 0 ? static_cast<double>(result.samples) / result.seconds : 0.0;
    std::ostringstream timing;
    timing.setf(std::ios::fixed);
    timing.precision(1);
    timing << " " << result.seconds << "s ";
    timing.precision(0);
    timing << rate << " samples/s";
    if (ranks > 1) {
      timing << ", " << bytes_per_step << " bytes all-reduced per step";
      timing.precision(3);
      timing << " (" << wait_ms_per_step << " ms per step in the optimizer step's wait)";
    }
    std::cout << summary << timing.str() << std::endl;
    row.emplace_back("lr", session.learning_rate());
    row.emplace_back("seconds", result.seconds);
    row.emplace_back("samples_per_s", rate);
    if (ranks > 1) row.emplace_back("allreduce_bytes_per_step", bytes_per_step);
    log.write(row);
    epoch_rows.push_back(row);
    if (training::TensorBoardWriter* events = session.tensorboard()) {
      write_epoch_events(*events, row, result, choices, session.step());
    }
    if (!args.checkpoint_dir.empty() && writes_files) {
      fs::create_directories(args.checkpoint_dir);
      check_parameters_finite(session, last_good);
      last_good = training::checkpoint_path(args.checkpoint_dir, session.step());
      session.save_checkpoint(last_good);
      training::prune_checkpoints(args.checkpoint_dir, static_cast<size_t>(args.keep_checkpoints));
    }
    if (stopped_early) {
      std::cout << "early stopping: " << stopping.watched << " has not improved for " << args.patience
                << " epochs; keeping epoch " << stopping.best_epoch + 1 << " (" << stopping.watched << " "
                << format(stopping.best) << ")" << std::endl;
    }
  }
  std::signal(SIGINT, SIG_DFL);
  // With early stopping the best epoch's parameters (and running statistics) are the result.
  for (const auto& [name, value] : stopping.best_parameters) session.set_parameter(name, value);
  if (!args.test.empty()) {
    std::cout << describe_averages("test", evaluate(session, prepared.test, eval_batch)) << std::endl;
  }
  if (writes_files) session.export_inference_model(out_path);
  std::cout << "wrote " << out_path.string() << std::endl;
  print_train_summary(std::cout, epoch_rows,
                      {out_path.string(), args.log,
                       session.tensorboard() ? session.tensorboard()->path().string() : std::string(),
                       args.checkpoint_dir});
  return 0;
}

// Under mpirun: the world's communicator, only rank 0 on stdout, and an error on any rank stops
// every rank (the others may be waiting in a collective for it) with a message naming it.
int train_in_world(const TrainArgs& args) {
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(args.collective_timeout * 1000));
  std::shared_ptr<training::distributed::Communicator> communicator =
      with_test_faults(training::distributed::world_communicator(timeout));
  if (communicator->size() == 1) return train(args, communicator);
  if (!communicator->is_root()) std::cout.setstate(std::ios::failbit);  // one rank reports
  try {
    return train(args, communicator);
  } catch (const std::exception& error) {
    communicator->abort(error.what());
  }
  return 1;  // not reached: abort ends the process
}

}  // namespace

Command add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* command = app.add_subcommand(
      "train",
      "Train a model (as exported by PyTorch or any exporter) on a data set and write the trained model.\n"
      "Data formats: FILE.npz (arrays named after the model's inputs and --label), X.npy,Y.npy (features, labels)\n"
      "or NAME=FILE.npy,..., FILE.csv (a header row; the --label column, the other columns are features), or a\n"
      "folder of IDX files (MNIST's format; DIR takes its 'train' set, DIR/t10k names one; pixels scaled to [0,1]).\n"
      "Data is checked against the model's declared input types and shapes before training starts.");
  command->add_option("model", args->model, "the .onnx model to train (its float initializers are the parameters)")
      ->required();
  command->add_option("--data", args->data, "TRAIN: the training data (see the formats above)")->required();
  auto* val = command->add_option("--val", args->val, "VAL: validation data, evaluated after each epoch");
  command->add_option("--val-split", args->val_split,
                      "F: hold out a seeded random fraction F (0 < F < 1) of the training data for validation")
      ->excludes(val);
  command->add_option("--test", args->test, "TEST: data evaluated once after training (prints test loss and metrics)");
  command->add_option("--label", args->label,
                      "NAME: the label array (.npz key, CSV column; for IDX and X.npy,Y.npy data it names the labels)")
      ->required();
  command->add_option("--loss", args->loss,
                      "KIND: mse, l1, huber, cross_entropy (logits vs integer class labels), nll (log-probabilities vs "
                      "class labels) or bce_with_logits")
      ->required();
  command->add_option("--label-smoothing", args->label_smoothing,
                      "E: cross_entropy against (1 - E) one-hot + E uniform targets (torch's label_smoothing)");
  command->add_option("--huber-delta", args->huber_delta, "D: where huber turns from quadratic to linear (default 1)");
  command->add_option("--output", args->prediction, "NAME: the model output the loss reads (default: the first)");
  command->add_option("--optimizer", args->optimizer, "KIND: sgd, momentum (SGD, momentum 0.9), adam or adamw")
      ->required();
  command->add_option("--lr", args->lr, "X: the learning rate")->required()->check(positive());
  command->add_option("--momentum", args->momentum, "X: SGD momentum (overrides the optimizer's default)");
  command->add_option("--weight-decay", args->weight_decay, "X: weight decay (adamw's default is 0.01, others 0)");
  command->add_option("--lr-schedule", args->schedule,
                      "SPEC: step:SIZE:GAMMA, cosine:STEPS[:MIN], linear:START:END:STEPS, warmup:STEPS[:START], or "
                      "several joined by commas (warmup:100,cosine:900); counted in steps");
  command->add_option("--max-grad-norm", args->max_grad_norm, "X: clip the gradients' global L2 norm to X");
  command->add_option("--epochs", args->epochs, "N: passes over the training data (default 1)")
      ->check(positive());
  command->add_option("--batch-size", args->batch_size, "B: samples per step (default 32; the last batch may be smaller)")
      ->check(positive());
  command->add_option("--metric-graph", args->metric_graphs,
                      "NAME=FILE: a metric given as an ONNX graph of inputs 'prediction' and 'target' and one scalar "
                      "output (onyx::nn MeanMetric::save_graph writes one), evaluated per batch; repeatable");
  command->add_option("--metrics", args->metrics,
                      "NAMES: comma-separated validation metrics: accuracy, top<k>_accuracy (top5_accuracy), mae, mse "
                      "(default: accuracy for cross_entropy and nll; none: no metrics)")
      ->delimiter(',');
  auto* trainable = command->add_option("--trainable", args->trainable,
                                        "NAMES: comma-separated initializer names or patterns (encoder.*, *.bias) to "
                                        "train; the others stay fixed (default: every float initializer the loss uses)")
                        ->delimiter(',');
  command->add_option("--freeze", args->freeze, "NAMES: comma-separated initializer names or patterns to keep fixed")
      ->delimiter(',')
      ->excludes(trainable);
  command->add_option("--checkpoint-dir", args->checkpoint_dir,
                      "DIR: save checkpoint-<step>.onnx here after every epoch (and on Ctrl-C)");
  command->add_option("--keep-checkpoints", args->keep_checkpoints, "N: newest checkpoints kept in DIR (default 3)")
      ->check(positive());
  command->add_flag("--resume", args->resume,
                    "continue from the newest checkpoint in --checkpoint-dir (parameters, optimizer state, step, "
                    "random state; mid-epoch too)");
  command->add_option("--seed", args->seed, "S: seeds shuffling, --val-split and dropout (default 0)");
  add_memory_limit_option(*command, args->memory_limit);
  add_precision_option(*command, args->precision,
                       "bf16 runs the Conv/MatMul/Gemm nodes of the forward and backward graphs on bf16 inputs "
                       "(parameters, gradients and the optimizer stay fp32)");
  add_custom_ops_option(*command, args->custom_ops);
  command->add_option("--threads", args->threads, "N: intra-op threads (default: one per core)")
      ->check(non_negative());
  command->add_option("--log", args->log,
                      "FILE: one row per epoch (epoch, step, train_loss, val_loss, val_<metric>, lr, seconds, "
                      "samples_per_s) as CSV (FILE.csv) or JSON lines (any other name)");
  command->add_option("--tensorboard", args->tensorboard,
                      "DIR: write TensorBoard event files here (made when missing): step/loss and "
                      "step/learning_rate every step, epoch/<--log column> every epoch");
  command->add_option("--early-stopping", args->early_stopping,
                      "METRIC: stop when val_loss or val_<metric> (val_accuracy) has not improved for --patience "
                      "epochs, and keep the best epoch's parameters");
  command->add_option("--patience", args->patience, "N: epochs without improvement before stopping (default 3)")
      ->check(positive());
  command->add_option("--min-delta", args->min_delta, "X: the smallest change that counts as an improvement");
  command->add_option("--progress", args->progress,
                      "auto|bar|lines|none: a progress bar on a terminal, plain lines otherwise (default auto)");
  command->add_option("--out", args->out, "TRAINED.onnx: where to write the trained model (written at the end)")
      ->required();
  command->add_flag("--per-rank-batch", args->per_rank_batch,
                    "under mpirun: --batch-size is each rank's batch (the global batch is N times it); by default "
                    "--batch-size is the global batch, split over the ranks");
  command->add_option("--collective-timeout", args->collective_timeout,
                      "S: under mpirun, stop every rank when a collective waits longer than S seconds for a rank "
                      "that died or hung (default 300)")
      ->check(positive());
  command->add_option("--gradient-bucket-mb", args->gradient_bucket_mb,
                      "X: under mpirun, all-reduce the gradients in buckets of about X MiB (default 25); each "
                      "bucket's all-reduce starts as soon as the backward pass has made its gradients, so smaller "
                      "buckets overlap more of it")
      ->check(positive());
  command->add_flag("--no-gradient-overlap", args->no_gradient_overlap,
                    "under mpirun, start the gradient all-reduces after the backward pass instead of during it");
  return [args] { return train_in_world(*args); };
}

}  // namespace onyx::cli
