// Metrics appended to a forward model as ONNX nodes (so they run where the model runs):
// accuracy, top-k accuracy, MAE, MSE, and user metrics given as ONNX graphs. Each yields a
// scalar per batch; MetricAverage combines batches weighted by their sample counts.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/ir/graph.h"

namespace onyx::training {

enum class MetricKind { kAccuracy, kTopKAccuracy, kMae, kMse };

struct MetricSpec {
  MetricKind kind = MetricKind::kAccuracy;
  int64_t k = 1;  // top-k accuracy
};

// "accuracy", "top<k>_accuracy" (e.g. "top5_accuracy"), "mae", "mse" (the CLI's --metrics names).
MetricSpec parse_metric(std::string_view name);
std::string metric_name(const MetricSpec& spec);

// Appends the metric of `prediction` ([batch, classes, ...] scores for the accuracies, any shape
// for MAE/MSE) against `target` (class indices, or values of the prediction's shape) and adds
// the graph output "metric/<name>", whose name it returns. The model needs ai.onnx opset >= 13.
std::string append_metric(Model& model, const MetricSpec& spec, const std::string& prediction,
                          const std::string& target);

// Appends a user metric: `metric_model`'s first output (a scalar) becomes "metric/<name>";
// its inputs are bound like a user loss's (see splice_graph).
std::string append_metric_graph(Model& model, const Model& metric_model, const std::string& name,
                                const std::map<std::string, std::string>& bindings = {});

// Sample-weighted mean of per-batch metric values.
class MetricAverage {
 public:
  void add(double batch_value, int64_t batch_size) {
    sum_ += batch_value * static_cast<double>(batch_size);
    count_ += batch_size;
  }
  double value() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  int64_t count() const { return count_; }
  void reset() { sum_ = 0, count_ = 0; }

 private:
  double sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace onyx::training
