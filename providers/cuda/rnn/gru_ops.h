// Launchers of the CUDA GRU step kernels (gru.cu) for gru.cc. Gate order z, r, h (ONNX).
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace onyx::cuda {

struct GruStep {
  const float* input_gates = nullptr;      // X W^T rows [rows of X, 3H] in X's layout
  const float* recurrent_gates = nullptr;  // H_prev R^T: [batch, 3H] (linear_before_reset) or
                                           // [batch, 2H] (z, r only) followed by a [batch, H] pass
  const float* recurrent_h = nullptr;      // (r . H_prev) Rh^T, [batch, H] (linear_before_reset = 0)
  const float* bias = nullptr;             // Wb + Rb of this direction [6H], or null
  float* h = nullptr;                      // [batch, H], updated
  float* reset_hidden = nullptr;           // r . H_prev, [batch, H] (linear_before_reset = 0, first phase)
  float* gate_z = nullptr;                 // z kept between the phases, [batch, H]
  float* y = nullptr;
  float* y_h = nullptr;
  int64_t batch = 0, hidden = 0, steps = 0, directions = 1, t = 0, direction = 0;
  bool batch_major = false;
  bool last = false;
  bool linear_before_reset = false;
};

// linear_before_reset = 1: the whole step from H_prev R^T. = 0: phase one computes z and
// r . H_prev (for the caller's GEMM with Rh), phase two the candidate and the new H.
void launch_gru_step(const GruStep& step, cudaStream_t stream);
void launch_gru_reset_phase(const GruStep& step, cudaStream_t stream);

// The plain RNN step with Tanh: H = tanh(x + H_prev Ri^T + Wbi + Rbi), using GruStep's fields
// with one gate (input_gates [rows, H], recurrent_gates [batch, H], bias [2H]).
void launch_rnn_step(const GruStep& step, cudaStream_t stream);

}  // namespace onyx::cuda
