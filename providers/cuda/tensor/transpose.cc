// CUDA Transpose, Slice and Expand: each is a strided copy (copy.cu) through a map built on
// the host from the op's shape arithmetic (onnx_ops/axes.h, tensor_ops.h).
#include <stdexcept>

#include "onnx_ops/axes.h"
#include "onnx_ops/broadcast.h"
#include "onnx_ops/tensor_ops.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/tensor/copy_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

template <typename Build>
StridedMap cuda_map_or_throw(const Node& node, Build&& build) {
  try {
    return build();
  } catch (const std::length_error&) {
    throw_error(ErrorCode::kNotImplemented, "CUDA ", node.op_type, " (node '", node.name,
                "'): more than 8 dims that cannot be merged");
  }
}

void run_strided_copy(KernelContext& context, const Node& node, const Tensor& input, const Shape& shape,
                      const StridedMap& map) {
  Tensor& output = context.output(0, input.dtype(), shape);
  launch_strided_copy(cuda_element_width(node, 0, input.dtype()), input.raw_data(), output.mutable_raw_data(),
                      output.element_count(), map, stream_of(context));
}

class CudaTransposeKernel final : public Kernel {
 public:
  explicit CudaTransposeKernel(const KernelInfo& info) : node_(info.node()), perm_(info.attributes().get_ints("perm")) {
    if (!cuda_copyable_type(info, 0)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
  }
  static bool supports(const KernelInfo& info) { return cuda_copyable_type(info, 0); }
  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    std::vector<int64_t> perm = resolve_perm(perm_, input.rank());
    Shape shape(perm.size());
    for (size_t d = 0; d < perm.size(); ++d) shape[d] = input.dim(static_cast<size_t>(perm[d]));
    StridedMap map = cuda_map_or_throw(node_, [&] { return make_transpose_map(input.shape(), perm); });
    run_strided_copy(context, node_, input, shape, map);
  }

 private:
  const Node& node_;
  std::vector<int64_t> perm_;
};

// Slice: starts/ends/axes/steps as attributes before opset 10, host inputs 1-4 after.
class CudaSliceKernel final : public Kernel {
 public:
  explicit CudaSliceKernel(const KernelInfo& info) : node_(info.node()), opset_(info.opset()) {
    if (!cuda_copyable_type(info, 0)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
    if (opset_ < 10) {
      starts_ = info.attributes().require_ints("starts");
      ends_ = info.attributes().require_ints("ends");
      axes_ = info.attributes().get_ints("axes");
    }
  }
  static bool supports(const KernelInfo& info) { return cuda_copyable_type(info, 0); }
  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    std::vector<int64_t> starts = starts_, ends = ends_, axes = axes_, steps;
    if (opset_ >= 10) {
      starts = host_int64s(context.input(1), node_, 1);
      ends = host_int64s(context.input(2), node_, 2);
      if (context.has_input(3)) axes = host_int64s(context.input(3), node_, 3);
      if (context.has_input(4)) steps = host_int64s(context.input(4), node_, 4);
    }
    std::vector<SliceAxis> slice = resolve_slice(input.shape(), starts, ends, axes, steps);
    std::vector<int64_t> first(slice.size()), step(slice.size());
    Shape shape(slice.size());
    for (size_t d = 0; d < slice.size(); ++d) {
      first[d] = slice[d].start;
      step[d] = slice[d].step;
      shape[d] = slice[d].count;
    }
    if (shape_element_count(shape) == 0) {
      context.output(0, input.dtype(), shape);
      return;
    }
    StridedMap map = cuda_map_or_throw(node_, [&] { return make_slice_map(input.shape(), first, step, shape); });
    run_strided_copy(context, node_, input, shape, map);
  }

 private:
  const Node& node_;
  int64_t opset_;
  std::vector<int64_t> starts_, ends_, axes_;
};

class CudaExpandKernel final : public Kernel {
 public:
  explicit CudaExpandKernel(const KernelInfo& info) : node_(info.node()) {
    if (!cuda_copyable_type(info, 0)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
  }
  static bool supports(const KernelInfo& info) { return cuda_copyable_type(info, 0); }
  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    std::vector<int64_t> requested = host_int64s(context.input(1), node_, 1);
    Shape shape = broadcast_shapes(input.shape(), Shape(requested.begin(), requested.end()), "Expand");
    std::vector<int64_t> strides = broadcast_input_strides(input.shape(), shape);
    StridedMap map = cuda_map_or_throw(node_, [&] { return make_strided_map(shape, strides, 0, "Expand"); });
    run_strided_copy(context, node_, input, shape, map);
  }

 private:
  const Node& node_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "Transpose", 1, kOpsetOpenEnded, CudaTransposeKernel);
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Slice", 1, kOpsetOpenEnded, CudaSliceKernel,
                                 {.host = {1, 2, 3, 4}, .any_device = {}});
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Expand", 8, kOpsetOpenEnded, CudaExpandKernel,
                                 {.host = {1}, .any_device = {}});

}  // namespace onyx::cuda
