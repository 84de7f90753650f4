#include "providers/cuda/rnn/rnn_state.h"

#include "providers/cuda/cuda_check.h"
#include "providers/cuda/cuda_kernel_util.h"
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

RnnShape check_rnn_shapes(KernelContext& context, const Node& node, bool batch_major, int64_t hidden,
                          int64_t directions, int64_t gates) {
  const Tensor& x = context.input(0);
  const Tensor& w = context.input(1);
  RnnShape shape;
  shape.steps = batch_major ? x.dim(1) : x.dim(0);
  shape.batch = batch_major ? x.dim(0) : x.dim(1);
  shape.input_size = x.dim(2);
  if (w.rank() != 3 || w.dim(0) != directions || w.dim(1) != gates * hidden || w.dim(2) != shape.input_size) {
    throw_error(ErrorCode::kInvalidArgument, node.op_type, " (node '", node.name, "'): W of shape ",
                shape_to_string(w.shape()), " for X ", shape_to_string(x.shape()), " and hidden_size ", hidden);
  }
  if (context.has_input(4)) {
    for (int64_t length : host_int64s(context.input(4), node, 4)) {
      if (length != shape.steps) {
        throw_error(ErrorCode::kNotImplemented, "CUDA ", node.op_type, " (node '", node.name,
                    "'): sequence_lens shorter than the sequence are not implemented on CUDA");
      }
    }
  }
  return shape;
}

}  // namespace onyx::cuda
