// MultiHeadAttention with torch's parameter layout (in_proj_weight [3E, E], in_proj_bias [3E],
// out_proj.weight / out_proj.bias) on batch-first inputs [batch, length, E]: projections,
// per-head scaled dot products, softmax and the output projection, all eager ops. Called as a
// Layer it is self-attention; attend() takes separate query, key and value and an optional
// additive mask ([Lq, Lk] or broadcastable to [batch, heads, Lq, Lk]; -inf blocks a position).
#pragma once

#include <memory>

#include "training/nn/linear.h"
#include "training/nn/module.h"

namespace onyx::nn {

class MultiHeadAttention : public Layer {
 public:
  MultiHeadAttention(int64_t embed_dim, int64_t num_heads, bool bias = true);

  Tensor attend(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& mask = Tensor());
  std::vector<Tensor> call(const std::vector<Tensor>& inputs) override;  // (x) or (q, k, v[, mask])

 protected:
  Tensor forward(const Tensor& x) override { return attend(x, x, x); }

 private:
  Tensor project(const Tensor& x, int64_t part);
  Tensor split_heads(const Tensor& x) const;

  int64_t embed_dim_;
  int64_t num_heads_;
  Parameter* in_proj_weight_ = nullptr;
  Parameter* in_proj_bias_ = nullptr;
  std::shared_ptr<Linear> out_proj_;
};

}  // namespace onyx::nn
