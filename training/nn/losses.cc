#include "training/nn/losses.h"

#include <sstream>

#include "runtime/common/error.h"
#include "training/nn/eager_graph_cache.h"

namespace onyx::nn {

namespace {

std::string loss_key(const training::LossSpec& spec, const Tensor& prediction, const Tensor& target) {
  std::ostringstream key;
  key << "loss:" << training::loss_kind_name(spec.kind) << ":" << static_cast<int>(spec.reduction) << ":"
      << (spec.ignore_index ? std::to_string(*spec.ignore_index) : "-") << ":" << spec.label_smoothing << ":"
      << spec.huber_delta << ":" << type_key({prediction, target});
  return key.str();
}

training::LossSpec with_reduction(training::LossKind kind, Reduction reduction) {
  training::LossSpec spec;
  spec.kind = kind;
  spec.reduction = reduction;
  return spec;
}

training::LossSpec classification_spec(training::LossKind kind, const CrossEntropyOptions& options) {
  training::LossSpec spec = with_reduction(kind, options.reduction);
  spec.ignore_index = options.ignore_index;
  spec.class_weights = options.class_weights;
  spec.label_smoothing = options.label_smoothing;
  return spec;
}

}  // namespace

Tensor loss(const training::LossSpec& given, const Tensor& prediction, const Tensor& target) {
  ONYX_CHECK(prediction.defined() && target.defined(), ErrorCode::kInvalidArgument, "loss ",
             training::loss_kind_name(given.kind), ": prediction and target must be defined tensors");
  training::LossSpec spec = given;
  spec.prediction = "prediction";
  spec.target = "target";
  spec.output = "loss";
  auto build = [&] {
    Model model = stub_model_for({"prediction"}, {prediction});
    model.graph.name = std::string("loss_") + std::string(training::loss_kind_name(spec.kind));
    training::append_loss(model, spec);
    return model;
  };
  // Class weights are a tensor of the graph: such a loss is built for its call only.
  if (spec.class_weights) return call_first_output(build(), {prediction, target});
  return call_first_output(cached_graph(loss_key(spec, prediction, target), build), {prediction, target});
}

Tensor mse_loss(const Tensor& prediction, const Tensor& target, Reduction reduction) {
  return loss(with_reduction(training::LossKind::kMse, reduction), prediction, target);
}

Tensor l1_loss(const Tensor& prediction, const Tensor& target, Reduction reduction) {
  return loss(with_reduction(training::LossKind::kL1, reduction), prediction, target);
}

Tensor huber_loss(const Tensor& prediction, const Tensor& target, float delta, Reduction reduction) {
  training::LossSpec spec = with_reduction(training::LossKind::kHuber, reduction);
  spec.huber_delta = delta;
  return loss(spec, prediction, target);
}

Tensor bce_with_logits_loss(const Tensor& logits, const Tensor& target, Reduction reduction) {
  return loss(with_reduction(training::LossKind::kBceWithLogits, reduction), logits, target);
}

Tensor cross_entropy_loss(const Tensor& logits, const Tensor& labels, const CrossEntropyOptions& options) {
  return loss(classification_spec(training::LossKind::kCrossEntropy, options), logits, labels);
}

Tensor nll_loss(const Tensor& log_probabilities, const Tensor& labels, const CrossEntropyOptions& options) {
  return loss(classification_spec(training::LossKind::kNll, options), log_probabilities, labels);
}

}  // namespace onyx::nn
