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
  // torch refuses an index outside [0, num_embeddings); Gather would take a negative one as
  // counted from the end. Eager values on the host are checked here; a traced call's are not
  // known until the graph runs, where Gather checks the upper bound.
  if (!indices.is_symbolic() && indices.device().is_host_memory()) {
    const int64_t rows = weight_->value.dim(0);
    for (int64_t i = 0; i < indices.element_count(); ++i) {
      const int64_t index = indices.dtype() == DataType::kInt64 ? indices.data<int64_t>()[i]
                                                                 : indices.data<int32_t>()[i];
      ONYX_CHECK(index >= 0 && index < rows, ErrorCode::kInvalidArgument, "Embedding: index ", index,
                 " is out of range for a table of ", rows, " embeddings (expected 0 to ", rows - 1, ")");
    }
  }
  return ops::gather(weight_->value, indices);
}

}  // namespace onyx::nn
