// Embedding: rows of a [num_embeddings, dim] table gathered by int64 indices (one Gather;
// its gradient scatters into the rows used). Initialized N(0, 1) as torch does.
#pragma once

#include "training/nn/init.h"
#include "training/nn/module.h"

namespace onyx::nn {

class Embedding : public Layer {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Initializer init = {});
  Parameter& weight() { return *weight_; }

 protected:
  Tensor forward(const Tensor& indices) override;

 private:
  Parameter* weight_ = nullptr;
};

}  // namespace onyx::nn
