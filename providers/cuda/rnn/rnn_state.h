// Hidden/cell state handling shared by the CUDA LSTM and GRU kernels: direction d's slice of
// initial_h / initial_c (layout 0: [dirs, batch, H]; layout 1: [batch, dirs, H]) into a dense
// [batch, H] state, and a state back into Y_h / Y_c.
#pragma once

#include <cuda_runtime_api.h>

#include "providers/kernel.h"
#include "runtime/ir/graph.h"

namespace onyx::cuda {

struct RnnLayout {
  int64_t batch = 0, hidden = 0, directions = 1;
  bool batch_major = false;
};

// The sizes of one call of a recurrent op, checked: X [steps, batch, input] (batch-major:
// [batch, steps, input]), W [directions, gates * hidden, input], and sequence_lens, if given,
// equal to the whole sequence (shorter ones are not implemented on CUDA).
struct RnnShape {
  int64_t steps = 0, batch = 0, input_size = 0;
};
RnnShape check_rnn_shapes(KernelContext& context, const Node& node, bool batch_major, int64_t hidden,
                          int64_t directions, int64_t gates);

// Loads input `input` of the node (if given) for direction d into `state`, else zeros.
void load_rnn_state(KernelContext& context, size_t input, int64_t d, const RnnLayout& layout, Tensor& state,
                    cudaStream_t stream);
// Writes `state` as direction d of a Y_h/Y_c output at `target` (null: nothing).
void store_rnn_state(const Tensor& state, float* target, int64_t d, const RnnLayout& layout, cudaStream_t stream);

}  // namespace onyx::cuda
