// Shapes of the transformer ops (Attention, RotaryEmbedding): how 3-D (batch, seq, hidden)
// inputs split into heads and what the outputs look like. Shared by the shape rules and the
// CPU kernels so both validate head counts and cache shapes the same way.
#pragma once

#include "runtime/tensor/tensor.h"

namespace onyx {

struct AttentionShape {
  bool input_3d = false;
  int64_t batch = 0, q_heads = 0, kv_heads = 0;
  int64_t q_seq = 0, kv_seq = 0, past_seq = 0, total_seq = 0;  // total = past + kv
  int64_t head_size = 0, v_head_size = 0;
  Shape y, present_key, present_value, qk;
};

// Validates Q/K/V (and the optional 4-D past caches, null when absent) against the
// q_num_heads/kv_num_heads attributes (0 when absent) and derives every output shape.
AttentionShape attention_shape(const Shape& q, const Shape& k, const Shape& v,
                               const Shape* past_key, const Shape* past_value,
                               int64_t q_num_heads, int64_t kv_num_heads);

}  // namespace onyx
