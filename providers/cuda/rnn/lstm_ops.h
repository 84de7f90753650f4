// Launcher of the CUDA LSTM cell (lstm.cu) for lstm.cc: one time step of one direction, after
// the input projection (all steps at once) and the recurrent GEMM (this step) ran in cuBLAS.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace onyx::cuda {

struct LstmStep {
  const float* input_gates = nullptr;  // X W^T rows, [rows of X, 4H] in X's layout
  const float* recurrent_gates = nullptr;  // H_prev R^T, [batch, 4H]
  const float* bias = nullptr;  // Wb + Rb: [8H] of this direction, or null
  float* c = nullptr;           // [batch, H], updated in place
  float* h = nullptr;           // [batch, H], written (the next step's H_prev)
  float* y = nullptr;           // Y or null
  float* y_h = nullptr;         // written on the last step when not null
  float* y_c = nullptr;
  int64_t batch = 0, hidden = 0, steps = 0, directions = 1;
  int64_t t = 0, direction = 0;
  bool batch_major = false;     // layout = 1: X [batch, seq, I], Y [batch, seq, dirs, H], Y_h [batch, dirs, H]
  bool last = false;
};

void launch_lstm_step(const LstmStep& step, cudaStream_t stream);

}  // namespace onyx::cuda
