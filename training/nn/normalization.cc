#include "training/nn/normalization.h"

#include "runtime/common/error.h"
#include "runtime/eager/eager.h"

namespace onyx::nn {

BatchNorm::BatchNorm(int64_t num_features, BatchNormOptions options) : Layer("BatchNorm"), options_(options) {
  ONYX_CHECK(num_features > 0, ErrorCode::kInvalidArgument, "BatchNorm: num_features must be positive, got ",
             num_features);
  ONYX_CHECK(options.momentum >= 0 && options.momentum <= 1, ErrorCode::kInvalidArgument,
             "BatchNorm: momentum must be in [0, 1], got ", options.momentum);
  const Shape shape{num_features};
  if (options.affine) {
    weight_ = &register_parameter("weight", ones(DataType::kFloat, shape));
    bias_ = &register_parameter("bias", zeros(DataType::kFloat, shape));
  } else {
    fixed_scale_ = ones(DataType::kFloat, shape);
    fixed_shift_ = zeros(DataType::kFloat, shape);
  }
  running_mean_ = &register_buffer("running_mean", zeros(DataType::kFloat, shape));
  running_var_ = &register_buffer("running_var", ones(DataType::kFloat, shape));
}

Tensor BatchNorm::forward(const Tensor& x) {
  ONYX_CHECK(x.rank() >= 2 && (x.dim(1) < 0 || x.dim(1) == running_mean_->dim(0)), ErrorCode::kInvalidArgument,
             "BatchNorm: input ", shape_to_string(x.shape()), " does not have ", running_mean_->dim(0),
             " channels in dim 1");
  const Tensor& scale = weight_ ? weight_->value : fixed_scale_;
  const Tensor& shift = bias_ ? bias_->value : fixed_shift_;
  const float eps = static_cast<float>(options_.eps);
  if (!is_training()) {
    ops::BatchNormalizationAttributes attributes;
    attributes.epsilon = eps;
    return ops::batch_normalization(x, scale, shift, *running_mean_, *running_var_, attributes);
  }
  // ONNX's momentum weighs the running value, torch's the batch statistic.
  const std::vector<Attribute> attributes{make_attribute("epsilon", eps),
                                          make_attribute("momentum", static_cast<float>(1.0 - options_.momentum)),
                                          make_attribute("training_mode", int64_t{1})};
  const int64_t channels = running_mean_->dim(0);
  const int64_t known_count = x.element_count() >= 0 ? x.element_count() / channels : -1;  // -1: symbolic
  ONYX_CHECK(known_count != 1, ErrorCode::kInvalidArgument, "BatchNorm: training needs more than one value per "
             "channel, got input ", shape_to_string(x.shape()));
  const Tensor previous_var = *running_var_;
  std::vector<Tensor> outputs =
      ops::call("", "BatchNormalization", {x, scale, shift, *running_mean_, previous_var}, attributes, 3);
  *running_mean_ = outputs[1];
  // ONNX's running variance takes the batch's population variance, torch's the unbiased one
  // (n / (n - 1) times it, n the values per channel): with m the momentum, ONNX gives
  // r' = (1 - m) r + m v, so torch's (1 - m) r + m v n / (n - 1) is (n r' - (1 - m) r) / (n - 1).
  // n is a number when x's shape is known; a traced step with a symbolic batch computes it
  // from Size(x) per call.
  auto unbiased = [&](const auto& n) { return (n * outputs[2] - previous_var * (1.0 - options_.momentum)) / (n - 1.0); };
  if (known_count > 0) {
    *running_var_ = unbiased(static_cast<double>(known_count));
  } else {
    *running_var_ = unbiased(ops::call("", "Cast", {ops::call("", "Size", {x})},
                                       {make_attribute("to", static_cast<int64_t>(DataType::kFloat))}) /
                             static_cast<double>(channels));
  }
  return outputs[0];
}

LayerNorm::LayerNorm(std::vector<int64_t> normalized_shape, double eps, bool elementwise_affine)
    : Layer("LayerNorm"), normalized_shape_(std::move(normalized_shape)), eps_(eps) {
  ONYX_CHECK(!normalized_shape_.empty(), ErrorCode::kInvalidArgument, "LayerNorm: normalized_shape is empty");
  for (int64_t dim : normalized_shape_) {
    ONYX_CHECK(dim > 0, ErrorCode::kInvalidArgument, "LayerNorm: normalized_shape dims must be positive");
  }
  if (elementwise_affine) {
    weight_ = &register_parameter("weight", ones(DataType::kFloat, normalized_shape_));
    bias_ = &register_parameter("bias", zeros(DataType::kFloat, normalized_shape_));
  } else {
    fixed_scale_ = ones(DataType::kFloat, normalized_shape_);
    fixed_shift_ = zeros(DataType::kFloat, normalized_shape_);
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  const size_t k = normalized_shape_.size();
  bool matches = x.rank() >= k;
  for (size_t i = 0; matches && i < k; ++i) {
    const int64_t dim = x.dim(x.rank() - k + i);
    matches = dim < 0 || dim == normalized_shape_[i];
  }
  ONYX_CHECK(matches, ErrorCode::kInvalidArgument, "LayerNorm: input ", shape_to_string(x.shape()),
             " does not end in ", shape_to_string(normalized_shape_));
  ops::LayerNormalizationAttributes attributes;
  attributes.axis = -static_cast<int64_t>(k);
  attributes.epsilon = static_cast<float>(eps_);
  return ops::layer_normalization(x, weight_ ? weight_->value : fixed_scale_, bias_ ? bias_->value : fixed_shift_,
                                  attributes);
}

}  // namespace onyx::nn
