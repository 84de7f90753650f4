// Device code of one LSTM step (ONNX gate order i, o, f, c; default activations):
// i, o, f = sigmoid, c~ = tanh, C = f C + i c~, H = o tanh(C).
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/rnn/lstm_ops.h"

namespace onyx::cuda {

namespace {

__device__ __forceinline__ float lstm_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__global__ void lstm_step_kernel(LstmStep s) {
  ONYX_GRID_STRIDE_LOOP(index, s.batch * s.hidden) {
    int64_t b = index / s.hidden, j = index % s.hidden, H = s.hidden;
    int64_t row = s.batch_major ? b * s.steps + s.t : s.t * s.batch + b;
    const float* x = s.input_gates + row * 4 * H;
    const float* r = s.recurrent_gates + b * 4 * H;
    float gate[4];
    for (int g = 0; g < 4; ++g) {
      gate[g] = x[g * H + j] + r[g * H + j];
      if (s.bias != nullptr) gate[g] += s.bias[g * H + j] + s.bias[(4 + g) * H + j];
    }
    float i = lstm_sigmoid(gate[0]), o = lstm_sigmoid(gate[1]), f = lstm_sigmoid(gate[2]), candidate = tanhf(gate[3]);
    float c = f * s.c[index] + i * candidate;
    float h = o * tanhf(c);
    s.c[index] = c;
    s.h[index] = h;
    if (s.y != nullptr) {
      int64_t at = s.batch_major ? ((b * s.steps + s.t) * s.directions + s.direction) * H + j
                                 : ((s.t * s.directions + s.direction) * s.batch + b) * H + j;
      s.y[at] = h;
    }
    if (s.last) {
      int64_t at = s.batch_major ? (b * s.directions + s.direction) * H + j : (s.direction * s.batch + b) * H + j;
      if (s.y_h != nullptr) s.y_h[at] = h;
      if (s.y_c != nullptr) s.y_c[at] = c;
    }
  }
}

}  // namespace

void launch_lstm_step(const LstmStep& step, cudaStream_t stream) {
  int64_t count = step.batch * step.hidden;
  if (count == 0) return;
  lstm_step_kernel<<<grid_for(count), kThreadsPerBlock, 0, stream>>>(step);
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
