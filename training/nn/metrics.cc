#include "training/nn/metrics.h"

#include "runtime/common/error.h"
#include "training/nn/eager_graph_cache.h"

namespace onyx::nn {

void MeanMetric::update_state(const Tensor& prediction, const Tensor& target) {
  ONYX_CHECK(prediction.rank() >= 1 && prediction.dim(0) >= 0, ErrorCode::kInvalidArgument, "metric ", name(),
             ": the prediction needs a batch dim, got ", shape_to_string(prediction.shape()));
  ONYX_CHECK(!prediction.is_symbolic(), ErrorCode::kInvalidArgument, "metric ", name(),
             ": update_state reads values, so it runs outside onyx::function (return the prediction from the step)");
  Tensor value = batch_value_(prediction, target);
  ONYX_CHECK(value.element_count() == 1, ErrorCode::kInvalidArgument, "metric ", name(),
             ": the batch value must be one number, got ", shape_to_string(value.shape()));
  average_.add(value.element_as_double(0), prediction.dim(0));
}

Tensor metric_value(const training::MetricSpec& spec, const Tensor& prediction, const Tensor& target) {
  const std::string key = "metric:" + training::metric_name(spec) + ":" + type_key({prediction, target});
  const Model& model = cached_graph(key, [&] {
    Model stub = stub_model_for({"prediction", "target"}, {prediction, target});
    stub.graph.name = "metric_" + training::metric_name(spec);
    training::append_metric(stub, spec, "prediction", "target");
    return stub;
  });
  return call_first_output(model, {prediction, target});
}

BuiltinMetric::BuiltinMetric(training::MetricSpec spec)
    : MeanMetric(training::metric_name(spec), [spec](const Tensor& prediction, const Tensor& target) {
        return metric_value(spec, prediction, target);
      }) {}

}  // namespace onyx::nn
