// RNN/GRU/LSTM weights in the layout the CPU kernel's products read (see rnn_gemm.h): W and R
// transposed to [k, gates*H] per direction, and the biases pre-summed. Built once at session
// creation when W, R and B are constant initializers, else once per run.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "onnx_ops/rnn.h"
#include "runtime/tensor/tensor.h"

namespace onyx::rnn {

// Packet-aligned, so Eigen's vectorized activations take the same (aligned) path every run.
template <typename C>
using Buffer = std::vector<C, Eigen::aligned_allocator<C>>;

template <typename C>
struct PackedWeights {
  int64_t directions = 0, gates_h = 0, input = 0, hidden = 0;  // gates_h = gate count * hidden
  Buffer<C> w_t;  // [dirs, input, gates_h]: W transposed
  Buffer<C> r_t;  // [dirs, hidden, gates_h]: R transposed
  // [dirs, gates_h]: added to every step's input projection: Wb + Rb, except a GRU with
  // linear_before_reset keeps Rb of the h gate out of it (the reset gate scales that term).
  Buffer<C> input_bias;
  // [dirs, gates_h] for a GRU with linear_before_reset (Rb of the h gate, zero elsewhere): the
  // recurrent product starts from it. Empty otherwise.
  Buffer<C> recurrent_bias;

  const C* w_t_of(int64_t d) const { return w_t.data() + d * input * gates_h; }
  const C* r_t_of(int64_t d) const { return r_t.data() + d * hidden * gates_h; }
  const C* input_bias_of(int64_t d) const { return input_bias.data() + d * gates_h; }
  const C* recurrent_bias_of(int64_t d) const {
    return recurrent_bias.empty() ? nullptr : recurrent_bias.data() + d * gates_h;
  }
};

// The hidden size: the attribute, else R's last dim. Throws kInvalidArgument (naming `node`)
// when W, R or B do not have the shapes the attributes imply, or their dtypes differ.
int64_t checked_hidden_size(const RnnAttributes& attrs, const Tensor& w, const Tensor& r,
                            const Tensor* b, const std::string& node);

// Packs W [dirs, G*H, input], R [dirs, G*H, H] and B [dirs, 2*G*H] (null: zeros) of element
// type T into compute type C. Shapes must have passed checked_hidden_size.
template <typename T, typename C>
PackedWeights<C> pack_weights(const RnnAttributes& attrs, const Tensor& w, const Tensor& r, const Tensor* b);

}  // namespace onyx::rnn
