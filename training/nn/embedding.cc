#include "training/nn/embedding.h"

#include "runtime/common/error.h"
#include "runtime/eager/eager.h"

namespace onyx::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, Initializer init) : Layer("Embedding") {
  ONYX_CHECK(num_embeddings > 0 && embedding_dim > 0, ErrorCode::kInvalidArgument,
             "Embedding: sizes must be positive, got ", num_embeddings, " x ", embedding_dim);
  const Shape shape{num_embeddings, embedding_dim};
  weight_ = &register_parameter("weight", (init ? init : normal_init(0.0, 1.0))(shape, fans_of(shape)));
}

Tensor Embedding::forward(const Tensor& indices) {
  ONYX_CHECK(indices.dtype() == DataType::kInt64 || indices.dtype() == DataType::kInt32, ErrorCode::kInvalidArgument,
             "Embedding: indices must be int64 or int32, got ", dtype_name(indices.dtype()));
  return ops::gather(weight_->value, indices);
}

}  // namespace onyx::nn
