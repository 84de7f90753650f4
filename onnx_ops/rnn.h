// Recurrent ops RNN, GRU and LSTM: their attributes (direction, activations with their
// alpha/beta, clip, layout, ...) read once for both the shape rule and the CPU kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "onnx_ops/node_attributes.h"

namespace onyx {

enum class RnnCell { kRnn, kGru, kLstm };

enum class RnnActivationKind {
  kRelu, kTanh, kSigmoid, kAffine, kLeakyRelu, kThresholdedRelu, kScaledTanh, kHardSigmoid,
  kElu, kSoftsign, kSoftplus
};

struct RnnActivation {
  RnnActivationKind kind = RnnActivationKind::kTanh;
  float alpha = 0.0f;
  float beta = 0.0f;
};

struct RnnAttributes {
  RnnCell cell = RnnCell::kRnn;
  int64_t num_directions = 1;
  bool reverse = false;  // the single direction runs backwards ("reverse")
  int64_t hidden_size = -1;  // -1 when the attribute is absent (then taken from R)
  int64_t layout = 0;
  bool has_clip = false;
  float clip = 0.0f;
  bool linear_before_reset = false;  // GRU
  bool input_forget = false;         // LSTM
  // gates_per_direction() activations for each direction, forward direction first.
  std::vector<RnnActivation> activations;

  int64_t gate_count() const { return cell == RnnCell::kRnn ? 1 : cell == RnnCell::kGru ? 3 : 4; }
  int64_t activations_per_direction() const {
    return cell == RnnCell::kRnn ? 1 : cell == RnnCell::kGru ? 2 : 3;
  }
};

RnnCell rnn_cell_of(const std::string& op_type);
// Reads and validates the attributes; throws kInvalidModel naming the node on bad values.
RnnAttributes read_rnn_attributes(const NodeAttributes& attributes);

}  // namespace onyx
