// Streaming metrics (Keras' update_state / result / reset_state): a Metric accumulates over
// batches and reports one number. BuiltinMetric runs the training module's metric graphs
// (training/metrics.h: accuracy, top-k accuracy, MAE, MSE; the graphs `onyx train` evaluates)
// eagerly per batch and weighs batches by their sample counts (training::MetricAverage), so a
// value matches the CLI's. A custom metric subclasses Metric and computes with eager ops, or is
// a MeanMetric of a per-batch function, which also exports as a graph for `onyx train`: see the
// Huber metric of tools/examples/nn_custom_model.cc.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "runtime/ir/graph.h"

#include "runtime/tensor/tensor.h"
#include "training/metrics.h"

namespace onyx::nn {

class Metric {
 public:
  explicit Metric(std::string name) : name_(std::move(name)) {}
  virtual ~Metric() = default;
  const std::string& name() const { return name_; }
  virtual void update_state(const Tensor& prediction, const Tensor& target) = 0;
  virtual double result() const = 0;
  virtual void reset() = 0;

 private:
  std::string name_;
};

// The sample-weighted mean of a per-batch value (the batch is dim 0 of the prediction).
class MeanMetric : public Metric {
 public:
  using BatchValue = std::function<Tensor(const Tensor& prediction, const Tensor& target)>;
  MeanMetric(std::string name, BatchValue batch_value)
      : Metric(std::move(name)), batch_value_(std::move(batch_value)) {}
  void update_state(const Tensor& prediction, const Tensor& target) override;
  double result() const override { return average_.value(); }
  void reset() override { average_.reset(); }
  int64_t count() const { return average_.count(); }

  // The batch value as an ONNX graph (traced): inputs "prediction" and "target" shaped like
  // the examples with dim 0 of any size, one scalar output "value". `onyx train
  // --metric-graph NAME=FILE` evaluates it per batch and weighs batches by their sizes as
  // update_state does, so a metric written once in C++ also runs inside the CLI.
  Model export_graph(const Tensor& prediction_example, const Tensor& target_example) const;
  // Writes export_graph's model (atomically).
  void save_graph(const Tensor& prediction_example, const Tensor& target_example,
                  const std::filesystem::path& path) const;

 private:
  BatchValue batch_value_;
  training::MetricAverage average_;
};

class BuiltinMetric : public MeanMetric {
 public:
  explicit BuiltinMetric(training::MetricSpec spec);
  explicit BuiltinMetric(std::string_view name) : BuiltinMetric(training::parse_metric(name)) {}
};

// One batch's value of a built-in metric.
Tensor metric_value(const training::MetricSpec& spec, const Tensor& prediction, const Tensor& target);

}  // namespace onyx::nn
