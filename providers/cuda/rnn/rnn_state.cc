#include "providers/cuda/rnn/rnn_state.h"

#include "providers/cuda/cuda_check.h"
#include "providers/cuda/tensor/copy_ops.h"

namespace onyx::cuda {

void load_rnn_state(KernelContext& context, size_t input, int64_t d, const RnnLayout& layout, Tensor& state,
                    cudaStream_t stream) {
  int64_t count = layout.batch * layout.hidden;
  if (!context.has_input(input)) {
    ONYX_CUDA_CHECK(cudaMemsetAsync(state.mutable_raw_data(), 0, static_cast<size_t>(count) * sizeof(float), stream));
    return;
  }
  StridedMap map =
      layout.batch_major
          ? make_strided_map({layout.batch, layout.hidden}, {layout.directions * layout.hidden, 1}, d * layout.hidden, "RNN")
          : make_strided_map({layout.batch, layout.hidden}, {layout.hidden, 1}, d * count, "RNN");
  launch_strided_copy(4, context.input(input).raw_data(), state.mutable_raw_data(), count, map, stream);
}

void store_rnn_state(const Tensor& state, float* target, int64_t d, const RnnLayout& layout, cudaStream_t stream) {
  if (target == nullptr) return;
  for (int64_t b = 0; b < layout.batch; ++b) {
    int64_t at = layout.batch_major ? (b * layout.directions + d) * layout.hidden : (d * layout.batch + b) * layout.hidden;
    ONYX_CUDA_CHECK(cudaMemcpyAsync(target + at, static_cast<const float*>(state.raw_data()) + b * layout.hidden,
                                    static_cast<size_t>(layout.hidden) * sizeof(float), cudaMemcpyDeviceToDevice, stream));
  }
}

}  // namespace onyx::cuda
