#include "training/nn/attention.h"

#include <cmath>

#include "runtime/common/error.h"
#include "runtime/eager/eager.h"
#include "training/nn/layer_helpers.h"

namespace onyx::nn {

namespace {
LinearOptions zero_bias_options(bool bias) {
  LinearOptions options;
  options.bias = bias;
  options.bias_init = zeros_init();  // torch zeroes out_proj's bias
  return options;
}
}  // namespace

MultiHeadAttention::MultiHeadAttention(int64_t embed_dim, int64_t num_heads, bool bias)
    : Layer("MultiHeadAttention"), embed_dim_(embed_dim), num_heads_(num_heads) {
  ONYX_CHECK(embed_dim > 0 && num_heads > 0 && embed_dim % num_heads == 0, ErrorCode::kInvalidArgument,
             "MultiHeadAttention: embed_dim ", embed_dim, " must be a positive multiple of num_heads ", num_heads);
  const Shape in_shape{3 * embed_dim, embed_dim};
  // torch: xavier_uniform on the joint projection, zero biases.
  in_proj_weight_ = &register_parameter("in_proj_weight", glorot_uniform()(in_shape, fans_of(in_shape)));
  if (bias) in_proj_bias_ = &register_parameter("in_proj_bias", zeros(DataType::kFloat, Shape{3 * embed_dim}));
  out_proj_ = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim, zero_bias_options(bias)));
}

// Part 0, 1 or 2 (query, key, value) of the joint input projection.
Tensor MultiHeadAttention::project(const Tensor& x, int64_t part) {
  const int64_t begin = part * embed_dim_, end = begin + embed_dim_;
  Tensor w = ops::slice(in_proj_weight_->value, int64_list({begin}), int64_list({end}), int64_list({0}));
  Tensor y = ops::matmul(x, ops::transpose(w));
  if (in_proj_bias_) y = y + ops::slice(in_proj_bias_->value, int64_list({begin}), int64_list({end}), int64_list({0}));
  return y;
}

// [batch, length, E] -> [batch, heads, length, E / heads]
Tensor MultiHeadAttention::split_heads(const Tensor& x) const {
  Tensor split = ops::reshape(x, int64_list({0, 0, num_heads_, embed_dim_ / num_heads_}));
  return ops::transpose(split, {.perm = {0, 2, 1, 3}});
}

Tensor MultiHeadAttention::attend(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& mask) {
  for (const Tensor* x : {&query, &key, &value}) {
    ONYX_CHECK(x->rank() == 3 && (x->dim(2) < 0 || x->dim(2) == embed_dim_), ErrorCode::kInvalidArgument,
               "MultiHeadAttention: inputs must be [batch, length, ", embed_dim_, "], got ", shape_to_string(x->shape()));
  }
  Tensor q = split_heads(project(query, 0));
  Tensor k = split_heads(project(key, 1));
  Tensor v = split_heads(project(value, 2));
  const double scale = 1.0 / std::sqrt(static_cast<double>(embed_dim_ / num_heads_));
  Tensor scores = ops::matmul(q, ops::transpose(k, {.perm = {0, 1, 3, 2}})) * scale;
  if (mask.defined()) scores = scores + mask;
  Tensor heads = ops::matmul(ops::softmax(scores, {.axis = -1}), v);
  Tensor joined = ops::reshape(ops::transpose(heads, {.perm = {0, 2, 1, 3}}), int64_list({0, 0, embed_dim_}));
  return (*out_proj_)(joined);
}

std::vector<Tensor> MultiHeadAttention::call(const std::vector<Tensor>& inputs) {
  if (inputs.size() == 1) return {(*this)(inputs[0])};
  ONYX_CHECK(inputs.size() == 3 || inputs.size() == 4, ErrorCode::kInvalidArgument,
             "MultiHeadAttention takes (x) or (query, key, value[, mask]), got ", inputs.size(), " inputs");
  return {attend(inputs[0], inputs[1], inputs[2], inputs.size() == 4 ? inputs[3] : Tensor())};
}

}  // namespace onyx::nn
