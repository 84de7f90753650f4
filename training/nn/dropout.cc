#include "training/nn/dropout.h"

#include "runtime/common/error.h"
#include "runtime/eager/eager.h"
#include "runtime/eager/trace.h"
#include "training/nn/init.h"
#include "training/nn/random_seeds.h"
#include "training/seeded_dropout.h"

namespace onyx::nn {

Dropout::Dropout(double p) : Layer("Dropout"), p_(p), engine_(next_seed()) {
  ONYX_CHECK(p >= 0 && p < 1, ErrorCode::kInvalidArgument, "Dropout: p must be in [0, 1), got ", p);
}

Tensor Dropout::forward(const Tensor& x) {
  if (!is_training()) {
    // Traced for export, an ONNX Dropout (the identity at inference) keeps the ratio in the
    // model, so `onyx train` on the exported file drops as this layer does.
    return eager::current_trace() != nullptr && p_ > 0 ? ops::dropout(x, Tensor::scalar<float>(static_cast<float>(p_)))
                                                      : x;
  }
  if (p_ == 0) return x;
  Tensor ratio = Tensor::scalar<float>(static_cast<float>(p_));
  Tensor seed = seed_tensor(engine_);
  return ops::call(training::kTrainingDomain, "SeededDropout", {x, ratio, seed}, {}, 2)[0];
}

}  // namespace onyx::nn
