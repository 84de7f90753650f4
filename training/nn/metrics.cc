#include "training/nn/metrics.h"

#include "runtime/common/error.h"
#include "runtime/eager/trace.h"
#include "runtime/ir/model_saver.h"
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

Model MeanMetric::export_graph(const Tensor& prediction_example, const Tensor& target_example) const {
  ONYX_CHECK(eager::current_trace() == nullptr, ErrorCode::kInvalidArgument, "metric ", name(),
             ": export_graph runs outside onyx::function");
  eager::TraceContext trace;
  auto traced_input = [&](const std::string& input, const Tensor& example) {
    ONYX_CHECK(example.rank() >= 1, ErrorCode::kInvalidArgument, "metric ", name(), ": the ", input,
               " example needs a batch dim, got ", shape_to_string(example.shape()));
    std::vector<Dim> dims{Dim::named("batch")};
    for (size_t d = 1; d < example.rank(); ++d) dims.push_back(Dim::known(example.dim(d)));
    return trace.add_input(input, TypeInfo::tensor(example.dtype(), dims));
  };
  Tensor prediction = traced_input("prediction", prediction_example);
  Tensor target = traced_input("target", target_example);
  Tensor value = batch_value_(prediction, target);
  Model model = trace.finish({value}, {"value"});
  model.graph.name = "metric_" + name();
  model.producer_name = "onyx.nn";
  return model;
}

void MeanMetric::save_graph(const Tensor& prediction_example, const Tensor& target_example,
                            const std::filesystem::path& path) const {
  save_model(export_graph(prediction_example, target_example), path);
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
