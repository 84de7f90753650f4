#include "training/nn/linear.h"

#include "runtime/common/error.h"
#include "runtime/eager/eager.h"
#include "training/nn/layer_helpers.h"

namespace onyx::nn {

int64_t static_dim(const Tensor& x, int64_t axis, const char* layer) {
  const int64_t rank = static_cast<int64_t>(x.rank());
  ONYX_CHECK(axis < rank && axis >= -rank, ErrorCode::kInvalidArgument, layer, ": input of rank ", rank,
             " has no dim ", axis);
  const int64_t dim = x.dim(static_cast<size_t>(axis < 0 ? axis + rank : axis));
  ONYX_CHECK(dim > 0, ErrorCode::kInvalidArgument, layer, ": input dim ", axis, " is not known (",
             shape_to_string(x.shape()), "): the layer needs it to create its parameters");
  return dim;
}

Tensor gemm_transposed_b(const Tensor& x, const Tensor& w, const Tensor* bias) {
  ops::GemmAttributes attributes;
  attributes.transB = 1;
  return bias ? ops::gemm(x, w, *bias, attributes) : ops::gemm(x, w, attributes);
}

Linear::Linear(int64_t in_features, int64_t out_features, LinearOptions options)
    : Layer("Linear"), out_features_(out_features), options_(std::move(options)) {
  ONYX_CHECK(in_features > 0 && out_features > 0, ErrorCode::kInvalidArgument, "Linear: features must be positive, got ",
             in_features, " -> ", out_features);
  create(in_features);
}

Linear::Linear(int64_t out_features, LinearOptions options)
    : Layer("Linear"), out_features_(out_features), options_(std::move(options)) {
  ONYX_CHECK(out_features > 0, ErrorCode::kInvalidArgument, "Linear: out_features must be positive, got ", out_features);
  set_built(false);
}

void Linear::create(int64_t in_features) {
  const Shape shape{out_features_, in_features};
  const Fans fans = fans_of(shape);
  Initializer weight_init = options_.weight_init ? options_.weight_init : fan_in_uniform();
  weight_ = &register_parameter("weight", weight_init(shape, fans));
  if (options_.bias) {
    Initializer bias_init = options_.bias_init ? options_.bias_init : fan_in_uniform();
    bias_ = &register_parameter("bias", bias_init(Shape{out_features_}, fans));
  }
}

void Linear::build(const Tensor& x) { create(static_dim(x, -1, "Linear")); }

Tensor Linear::forward(const Tensor& x) {
  const Tensor& w = weight_->value;
  ONYX_CHECK(x.rank() >= 1 && (x.dim(x.rank() - 1) == w.dim(1) || x.dim(x.rank() - 1) < 0), ErrorCode::kInvalidArgument,
             "Linear: input ", shape_to_string(x.shape()), " does not end in in_features ", w.dim(1));
  if (x.rank() == 2) {
    return gemm_transposed_b(x, w, bias_ ? &bias_->value : nullptr);
  }
  Tensor y = ops::matmul(x, ops::transpose(w));
  return bias_ ? y + bias_->value : y;
}

}  // namespace onyx::nn
