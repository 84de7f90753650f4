#include "training/metrics.h"

#include <charconv>

#include "runtime/common/error.h"
#include "training/graph_splice.h"
#include "training/graph_writer.h"

namespace onyx::training {

namespace {

std::string mean_of(GraphWriter& writer, const std::string& value) {
  return writer.add("ReduceMean", {value}, {make_attribute("keepdims", int64_t{0})});
}

std::string as_float(GraphWriter& writer, const std::string& value) {
  return writer.add("Cast", {value}, {make_attribute("to", static_cast<int64_t>(DataType::kFloat))});
}

// ReduceMax over one axis; its axes moved from an attribute to an input in opset 18.
std::string max_over_axis(GraphWriter& writer, const std::string& value, int64_t axis, int64_t opset) {
  if (opset >= 18) {
    return writer.add("ReduceMax", {value, writer.int64s({axis})}, {make_attribute("keepdims", int64_t{0})});
  }
  return writer.add("ReduceMax", {value},
                    {make_attribute("axes", std::vector<int64_t>{axis}), make_attribute("keepdims", int64_t{0})});
}

}  // namespace

MetricSpec parse_metric(std::string_view name) {
  if (name == "accuracy") return {MetricKind::kAccuracy, 1};
  if (name == "mae") return {MetricKind::kMae, 1};
  if (name == "mse") return {MetricKind::kMse, 1};
  if (name.starts_with("top") && name.ends_with("_accuracy")) {
    std::string_view digits = name.substr(3, name.size() - 3 - std::string_view("_accuracy").size());
    int64_t k = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
    if (error == std::errc() && end == digits.data() + digits.size() && k >= 1) return {MetricKind::kTopKAccuracy, k};
  }
  throw_error(ErrorCode::kInvalidArgument, "unknown metric '", name,
              "' (expected accuracy, top<k>_accuracy such as top5_accuracy, mae or mse)");
}

std::string metric_name(const MetricSpec& spec) {
  switch (spec.kind) {
    case MetricKind::kAccuracy: return "accuracy";
    case MetricKind::kTopKAccuracy: return "top" + std::to_string(spec.k) + "_accuracy";
    case MetricKind::kMae: return "mae";
    case MetricKind::kMse: return "mse";
  }
  return "?";
}

std::string append_metric(Model& model, const MetricSpec& spec, const std::string& prediction,
                          const std::string& target) {
  Graph& graph = model.graph;
  ONYX_CHECK(graph_defines(graph, prediction), ErrorCode::kInvalidArgument, "metric ", metric_name(spec),
             ": the model has no value '", prediction, "'");
  ONYX_CHECK(graph_defines(graph, target), ErrorCode::kInvalidArgument, "metric ", metric_name(spec),
             ": the model has no target value '", target, "'");
  const int64_t opset = model.opset_for("").value_or(0);
  ONYX_CHECK(opset >= 13, ErrorCode::kNotImplemented, "metrics need ai.onnx opset 13 or newer; the model imports opset ",
             opset);
  const std::string output = "metric/" + metric_name(spec);
  ONYX_CHECK(!graph_defines(graph, output), ErrorCode::kInvalidArgument, "metric ", metric_name(spec),
             " is already in the model");
  GraphWriter writer(graph, output + "/");
  std::string value;
  switch (spec.kind) {
    case MetricKind::kAccuracy: {
      std::string predicted = writer.add("ArgMax", {prediction}, {make_attribute("axis", int64_t{1}),
                                                                 make_attribute("keepdims", int64_t{0})});
      value = mean_of(writer, as_float(writer, writer.add("Equal", {predicted, target})));
      break;
    }
    case MetricKind::kTopKAccuracy: {
      // A sample counts when its target is among the k best classes (ties broken by TopK).
      std::vector<std::string> top = writer.add_node("TopK", {prediction, writer.int64s({spec.k})}, 2,
                                                     {make_attribute("axis", int64_t{1})});
      std::string expanded_target = writer.add("Unsqueeze", {target, writer.int64s({1})});
      std::string hits = as_float(writer, writer.add("Equal", {top[1], expanded_target}));
      value = mean_of(writer, max_over_axis(writer, hits, 1, opset));
      break;
    }
    case MetricKind::kMae: value = mean_of(writer, writer.add("Abs", {writer.add("Sub", {prediction, target})})); break;
    case MetricKind::kMse: {
      std::string diff = writer.add("Sub", {prediction, target});
      value = mean_of(writer, writer.add("Mul", {diff, diff}));
      break;
    }
  }
  writer.add_named("Identity", {value}, output);
  // Float for the accuracies, the prediction's type for MAE/MSE: left to type inference.
  add_graph_output(graph, output, TypeInfo{});
  return output;
}

std::string append_metric_graph(Model& model, const Model& metric_model, const std::string& name,
                                const std::map<std::string, std::string>& bindings) {
  ONYX_CHECK(!metric_model.graph.outputs.empty(), ErrorCode::kInvalidArgument, "metric graph '", name,
             "' has no outputs");
  const std::string output = "metric/" + name;
  ONYX_CHECK(!graph_defines(model.graph, output), ErrorCode::kInvalidArgument, "metric ", name,
             " is already in the model");
  SplicedGraph spliced = splice_graph(model, metric_model, bindings, output + "/");
  GraphWriter writer(model.graph, output + "/");
  writer.add_named("Identity", {spliced.outputs.front()}, output);
  add_graph_output(model.graph, output, metric_model.graph.outputs.front().type);
  return output;
}

}  // namespace onyx::training
