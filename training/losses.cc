#include "training/losses.h"

#include "runtime/common/error.h"
#include "training/graph_splice.h"
#include "training/graph_writer.h"

namespace onyx::training {

namespace {

constexpr std::pair<LossKind, std::string_view> kLossNames[] = {
    {LossKind::kMse, "mse"},
    {LossKind::kL1, "l1"},
    {LossKind::kHuber, "huber"},
    {LossKind::kCrossEntropy, "cross_entropy"},
    {LossKind::kNll, "nll"},
    {LossKind::kBceWithLogits, "bce_with_logits"},
};

std::string_view reduction_name(Reduction reduction) {
  switch (reduction) {
    case Reduction::kMean: return "mean";
    case Reduction::kSum: return "sum";
    case Reduction::kNone: return "none";
  }
  return "mean";
}

TypeInfo type_of_value(const Graph& graph, const std::string& name) {
  for (const ValueInfo& output : graph.outputs) {
    if (output.name == name) return output.type;
  }
  if (const ValueInfo* info = graph.find_value_info(name)) return info->type;
  if (const ValueInfo* input = graph.find_input(name)) return input->type;
  return {};
}

// A scalar constant of the prediction's element type (PyTorch computes the loss in that type).
std::string typed_scalar(GraphWriter& writer, DataType dtype, double value) {
  switch (dtype) {
    case DataType::kFloat: return writer.constant(Tensor::scalar<float>(static_cast<float>(value)));
    case DataType::kDouble: return writer.constant(Tensor::scalar<double>(value));
    default:
      throw_error(ErrorCode::kNotImplemented, "losses: prediction element type ", dtype_name(dtype),
                  " is not supported (float or double)");
  }
}

std::string reduce(GraphWriter& writer, const std::string& elementwise, Reduction reduction) {
  switch (reduction) {
    case Reduction::kMean: return writer.add("ReduceMean", {elementwise}, {make_attribute("keepdims", int64_t{0})});
    case Reduction::kSum: return writer.add("ReduceSum", {elementwise}, {make_attribute("keepdims", int64_t{0})});
    case Reduction::kNone: return elementwise;
  }
  return elementwise;
}

// Elementwise loss of a regression-style loss (prediction and target of one shape).
std::string elementwise_loss(GraphWriter& writer, const LossSpec& spec, DataType dtype, const std::string& x,
                             const std::string& y) {
  switch (spec.kind) {
    case LossKind::kMse: {
      std::string diff = writer.add("Sub", {x, y});
      return writer.add("Mul", {diff, diff});
    }
    case LossKind::kL1: return writer.add("Abs", {writer.add("Sub", {x, y})});
    case LossKind::kHuber: {
      // With q = min(|d|, delta): 0.5 q^2 + delta (|d| - q) is 0.5 d^2 inside the delta band and
      // delta (|d| - delta/2) outside, without a Where (whose condition has no gradient).
      ONYX_CHECK(spec.huber_delta > 0.0f, ErrorCode::kInvalidArgument, "huber loss: delta must be positive, got ",
                 spec.huber_delta);
      std::string delta = typed_scalar(writer, dtype, spec.huber_delta);
      std::string distance = writer.add("Abs", {writer.add("Sub", {x, y})});
      std::string q = writer.add("Min", {distance, delta});
      std::string quadratic = writer.add("Mul", {writer.add("Mul", {q, q}), typed_scalar(writer, dtype, 0.5)});
      std::string linear = writer.add("Mul", {delta, writer.add("Sub", {distance, q})});
      return writer.add("Add", {quadratic, linear});
    }
    case LossKind::kBceWithLogits: {
      // max(x, 0) - x y + log(1 + exp(-|x|)): PyTorch's overflow-free form.
      std::string positive_part = writer.add("Relu", {x});
      std::string xy = writer.add("Mul", {x, y});
      std::string exp_neg_abs = writer.add("Exp", {writer.add("Neg", {writer.add("Abs", {x})})});
      std::string log_term = writer.add("Log", {writer.add("Add", {exp_neg_abs, typed_scalar(writer, dtype, 1.0)})});
      return writer.add("Add", {writer.add("Sub", {positive_part, xy}), log_term});
    }
    default: break;
  }
  throw_error(ErrorCode::kInvalidArgument, "not an elementwise loss: ", loss_kind_name(spec.kind));
}

// (1 - e) CE + e S, S the mean over classes of -log softmax per sample, reduced like CE:
// ignored samples count zero, and "mean" divides by the samples not ignored.
std::string smoothed(GraphWriter& writer, const LossSpec& spec, DataType dtype, int64_t opset,
                     const std::string& prediction, const std::string& cross_entropy) {
  std::string log_p = writer.add("LogSoftmax", {prediction}, {make_attribute("axis", int64_t{1})});
  std::vector<Attribute> no_keepdims{make_attribute("keepdims", int64_t{0})};
  std::string per_sample =
      opset >= 18 ? writer.add("ReduceMean", {log_p, writer.int64s({1})}, no_keepdims)
                  : writer.add("ReduceMean", {log_p}, {make_attribute("axes", std::vector<int64_t>{1}), no_keepdims[0]});
  per_sample = writer.add("Neg", {per_sample});
  std::string count;
  if (spec.ignore_index) {
    std::string ignored = writer.add("Equal", {spec.target, writer.constant(Tensor::scalar<int64_t>(*spec.ignore_index))});
    std::string valid = writer.add("Cast", {writer.add("Not", {ignored})}, {make_attribute("to", static_cast<int64_t>(dtype))});
    per_sample = writer.add("Mul", {per_sample, valid});
    count = writer.add("ReduceSum", {valid}, no_keepdims);
  } else {
    count = writer.add("Cast", {writer.add("Size", {spec.target})}, {make_attribute("to", static_cast<int64_t>(dtype))});
  }
  std::string smooth = per_sample;
  if (spec.reduction == Reduction::kSum) smooth = writer.add("ReduceSum", {per_sample}, no_keepdims);
  if (spec.reduction == Reduction::kMean) smooth = writer.add("Div", {writer.add("ReduceSum", {per_sample}, no_keepdims), count});
  return writer.add("Add", {writer.add("Mul", {cross_entropy, typed_scalar(writer, dtype, 1.0 - spec.label_smoothing)}),
                            writer.add("Mul", {smooth, typed_scalar(writer, dtype, spec.label_smoothing)})});
}

}  // namespace

LossKind parse_loss_kind(std::string_view name) {
  for (const auto& [kind, kind_name] : kLossNames) {
    if (kind_name == name) return kind;
  }
  throw_error(ErrorCode::kInvalidArgument, "unknown loss '", name,
              "' (expected mse, l1, huber, cross_entropy, nll or bce_with_logits)");
}

std::string_view loss_kind_name(LossKind kind) {
  for (const auto& [k, kind_name] : kLossNames) {
    if (k == kind) return kind_name;
  }
  return "?";
}

Reduction parse_reduction(std::string_view name) {
  for (Reduction reduction : {Reduction::kMean, Reduction::kSum, Reduction::kNone}) {
    if (reduction_name(reduction) == name) return reduction;
  }
  throw_error(ErrorCode::kInvalidArgument, "unknown reduction '", name, "' (expected mean, sum or none)");
}

AppendedLoss append_loss(Model& model, const LossSpec& spec) {
  Graph& graph = model.graph;
  ONYX_CHECK(!graph.outputs.empty() || !spec.prediction.empty(), ErrorCode::kInvalidArgument,
             "append_loss: the model has no outputs to compute a loss from");
  const std::string prediction = spec.prediction.empty() ? graph.outputs.front().name : spec.prediction;
  ONYX_CHECK(graph_defines(graph, prediction), ErrorCode::kInvalidArgument, "append_loss: the model has no value '",
             prediction, "'");
  ONYX_CHECK(!graph_defines(graph, spec.target), ErrorCode::kInvalidArgument, "append_loss: the target input name '",
             spec.target, "' is already used by the model");
  ONYX_CHECK(!graph_defines(graph, spec.output), ErrorCode::kInvalidArgument, "append_loss: the loss output name '",
             spec.output, "' is already used by the model");
  const TypeInfo prediction_type = type_of_value(graph, prediction);
  const DataType dtype = prediction_type.is_tensor() ? prediction_type.elem_type : DataType::kFloat;
  const bool classification = spec.kind == LossKind::kCrossEntropy || spec.kind == LossKind::kNll;
  ONYX_CHECK(classification || !spec.ignore_index, ErrorCode::kInvalidArgument,
             "ignore_index applies to cross_entropy and nll only, not ", loss_kind_name(spec.kind));
  ONYX_CHECK(classification || !spec.class_weights, ErrorCode::kInvalidArgument,
             "class weights apply to cross_entropy and nll only, not ", loss_kind_name(spec.kind));
  ONYX_CHECK(spec.label_smoothing == 0.0f || (spec.kind == LossKind::kCrossEntropy && !spec.class_weights &&
                                               spec.label_smoothing > 0.0f && spec.label_smoothing <= 1.0f),
             ErrorCode::kInvalidArgument, "label_smoothing (", spec.label_smoothing,
             ") must be in (0, 1] and applies to cross_entropy without class weights");
  if (spec.class_weights) {
    ONYX_CHECK(spec.class_weights->rank() == 1 && spec.class_weights->dtype() == dtype, ErrorCode::kInvalidArgument,
               "class weights must be a 1-D ", dtype_name(dtype), " tensor, got ",
               dtype_name(spec.class_weights->dtype()), shape_to_string(spec.class_weights->shape()));
  }

  GraphWriter writer(graph, "loss/");
  TypeInfo target_type = TypeInfo::tensor(dtype, prediction_type.is_tensor() ? prediction_type.shape : std::nullopt);
  std::string loss;
  if (spec.kind == LossKind::kCrossEntropy || spec.kind == LossKind::kNll) {
    const int64_t opset = model.opset_for("").value_or(0);
    ONYX_CHECK(opset >= 13, ErrorCode::kNotImplemented, loss_kind_name(spec.kind),
               " loss uses SoftmaxCrossEntropyLoss / NegativeLogLikelihoodLoss, which need ai.onnx opset 13 or "
               "newer; the model imports opset ", opset);
    // Class indices: the prediction's shape without the class axis (axis 1).
    target_type = TypeInfo::tensor(DataType::kInt64);
    if (prediction_type.is_tensor() && prediction_type.shape) {
      std::vector<Dim> dims = *prediction_type.shape;
      ONYX_CHECK(dims.size() >= 2, ErrorCode::kInvalidArgument, loss_kind_name(spec.kind), " loss needs a prediction of rank >= 2 ",
                 "([batch, classes, ...]); '", prediction, "' is ", prediction_type.to_string());
      dims.erase(dims.begin() + 1);
      target_type.shape = dims;
    }
    std::vector<Attribute> attributes{make_attribute("reduction", std::string(reduction_name(spec.reduction)))};
    if (spec.ignore_index) attributes.push_back(make_attribute("ignore_index", *spec.ignore_index));
    const char* op = spec.kind == LossKind::kCrossEntropy ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss";
    add_graph_input(graph, spec.target, target_type);
    // SoftmaxCrossEntropyLoss's second output (log-probabilities) is left out.
    std::vector<std::string> inputs{prediction, spec.target};
    if (spec.class_weights) inputs.push_back(writer.constant(spec.class_weights->clone()));
    loss = writer.add(op, std::move(inputs), std::move(attributes));
    if (spec.label_smoothing != 0.0f) loss = smoothed(writer, spec, dtype, opset, prediction, loss);
  } else {
    add_graph_input(graph, spec.target, target_type);
    loss = reduce(writer, elementwise_loss(writer, spec, dtype, prediction, spec.target), spec.reduction);
  }
  writer.add_named("Identity", {loss}, spec.output);
  TypeInfo loss_type = TypeInfo::tensor(dtype);
  if (spec.reduction != Reduction::kNone) loss_type.shape = std::vector<Dim>{};
  add_graph_output(graph, spec.output, loss_type);
  return {spec.output, {spec.target}};
}

AppendedLoss append_loss_graph(Model& model, const Model& loss_model,
                               const std::map<std::string, std::string>& bindings, const std::string& output) {
  ONYX_CHECK(!loss_model.graph.outputs.empty(), ErrorCode::kInvalidArgument, "the loss graph has no outputs");
  ONYX_CHECK(!graph_defines(model.graph, output), ErrorCode::kInvalidArgument, "append_loss_graph: the loss output name '",
             output, "' is already used by the model");
  SplicedGraph spliced = splice_graph(model, loss_model, bindings, "loss/");
  GraphWriter writer(model.graph, "loss/");
  writer.add_named("Identity", {spliced.outputs.front()}, output);
  add_graph_output(model.graph, output, loss_model.graph.outputs.front().type);
  return {output, spliced.new_inputs};
}

}  // namespace onyx::training
