// Device code of one GRU step (default activations: z, r = sigmoid, h~ = tanh):
// H = (1 - z) h~ + z H_prev, with h~ = tanh(x_h + r (H_prev Rh^T + Rbh) + Wbh) when
// linear_before_reset, else tanh(x_h + (r H_prev) Rh^T + Rbh + Wbh).
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/rnn/gru_ops.h"

namespace onyx::cuda {

namespace {

__device__ __forceinline__ float gru_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ __forceinline__ int64_t gru_input_row(const GruStep& s, int64_t b) {
  return s.batch_major ? b * s.steps + s.t : s.t * s.batch + b;
}

__device__ __forceinline__ float gru_bias(const GruStep& s, int part, int64_t j) {
  return s.bias == nullptr ? 0.0f : s.bias[part * s.hidden + j];
}

__device__ __forceinline__ void gru_finish(const GruStep& s, int64_t index, int64_t b, int64_t j, float z, float candidate) {
  float h = (1.0f - z) * candidate + z * s.h[index];
  s.h[index] = h;
  int64_t H = s.hidden;
  if (s.y != nullptr) {
    int64_t at = s.batch_major ? ((b * s.steps + s.t) * s.directions + s.direction) * H + j
                               : ((s.t * s.directions + s.direction) * s.batch + b) * H + j;
    s.y[at] = h;
  }
  if (s.last && s.y_h != nullptr) {
    s.y_h[s.batch_major ? (b * s.directions + s.direction) * H + j : (s.direction * s.batch + b) * H + j] = h;
  }
}

// linear_before_reset = 1: recurrent_gates holds H_prev R^T for z, r and h.
__global__ void gru_step_kernel(GruStep s) {
  ONYX_GRID_STRIDE_LOOP(index, s.batch * s.hidden) {
    int64_t b = index / s.hidden, j = index % s.hidden, H = s.hidden;
    const float* x = s.input_gates + gru_input_row(s, b) * 3 * H;
    const float* r = s.recurrent_gates + b * 3 * H;
    float z = gru_sigmoid(x[j] + r[j] + gru_bias(s, 0, j) + gru_bias(s, 3, j));
    float reset = gru_sigmoid(x[H + j] + r[H + j] + gru_bias(s, 1, j) + gru_bias(s, 4, j));
    float candidate = tanhf(x[2 * H + j] + reset * (r[2 * H + j] + gru_bias(s, 5, j)) + gru_bias(s, 2, j));
    gru_finish(s, index, b, j, z, candidate);
  }
}

// linear_before_reset = 0, phase one: z (kept) and r . H_prev from H_prev [Rz; Rr]^T ([batch, 2H]).
__global__ void gru_reset_kernel(GruStep s) {
  ONYX_GRID_STRIDE_LOOP(index, s.batch * s.hidden) {
    int64_t b = index / s.hidden, j = index % s.hidden, H = s.hidden;
    const float* x = s.input_gates + gru_input_row(s, b) * 3 * H;
    const float* r = s.recurrent_gates + b * 2 * H;
    s.gate_z[index] = gru_sigmoid(x[j] + r[j] + gru_bias(s, 0, j) + gru_bias(s, 3, j));
    float reset = gru_sigmoid(x[H + j] + r[H + j] + gru_bias(s, 1, j) + gru_bias(s, 4, j));
    s.reset_hidden[index] = reset * s.h[index];
  }
}

// Phase two: recurrent_h holds (r . H_prev) Rh^T.
__global__ void gru_candidate_kernel(GruStep s) {
  ONYX_GRID_STRIDE_LOOP(index, s.batch * s.hidden) {
    int64_t b = index / s.hidden, j = index % s.hidden, H = s.hidden;
    const float* x = s.input_gates + gru_input_row(s, b) * 3 * H;
    float candidate = tanhf(x[2 * H + j] + s.recurrent_h[index] + gru_bias(s, 5, j) + gru_bias(s, 2, j));
    gru_finish(s, index, b, j, s.gate_z[index], candidate);
  }
}

__global__ void rnn_step_kernel(GruStep s) {
  ONYX_GRID_STRIDE_LOOP(index, s.batch * s.hidden) {
    int64_t b = index / s.hidden, j = index % s.hidden, H = s.hidden;
    float value = s.input_gates[gru_input_row(s, b) * H + j] + s.recurrent_gates[b * H + j] + gru_bias(s, 0, j) +
                  gru_bias(s, 1, j);
    // gru_finish with z = 0 writes H = candidate and the outputs.
    gru_finish(s, index, b, j, 0.0f, tanhf(value));
  }
}

}  // namespace

void launch_rnn_step(const GruStep& step, cudaStream_t stream) {
  int64_t count = step.batch * step.hidden;
  if (count == 0) return;
  rnn_step_kernel<<<grid_for(count), kThreadsPerBlock, 0, stream>>>(step);
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_gru_step(const GruStep& step, cudaStream_t stream) {
  int64_t count = step.batch * step.hidden;
  if (count == 0) return;
  if (step.linear_before_reset) {
    gru_step_kernel<<<grid_for(count), kThreadsPerBlock, 0, stream>>>(step);
  } else {
    gru_candidate_kernel<<<grid_for(count), kThreadsPerBlock, 0, stream>>>(step);
  }
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_gru_reset_phase(const GruStep& step, cudaStream_t stream) {
  int64_t count = step.batch * step.hidden;
  if (count == 0) return;
  gru_reset_kernel<<<grid_for(count), kThreadsPerBlock, 0, stream>>>(step);
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
