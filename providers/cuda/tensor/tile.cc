// CUDA Tile (repeats from host input 1; each output element reads its coordinate modulo the
// input's dims) and Trilu (the upper or lower triangle of the last two dims).
#include "onnx_ops/tensor_ops.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/tensor/copy_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaTileKernel final : public Kernel {
 public:
  explicit CudaTileKernel(const KernelInfo& info) : node_(info.node()) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
  }
  static bool supports(const KernelInfo& info) { return cuda_copyable_type(info, 0); }

  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    std::vector<int64_t> repeats = host_int64s(context.input(1), node_, 1);
    Shape shape = tile_shape(input.shape(), repeats);
    Tensor& output = context.output(0, input.dtype(), shape);
    if (output.element_count() == 0) return;
    if (input.rank() > static_cast<size_t>(kMaxIndexDims)) {
      throw_error(ErrorCode::kNotImplemented, "CUDA Tile (node '", node_.name, "'): more than 8 dims");
    }
    TileMap map;
    map.rank = static_cast<int>(input.rank());
    for (size_t d = 0; d < input.rank(); ++d) {
      map.in_dims[d] = input.dim(d);
      map.out_dims[d] = shape[d];
    }
    launch_tile(cuda_element_width(node_, 0, input.dtype()), input.raw_data(), output.mutable_raw_data(),
                output.element_count(), map, stream_of(context));
  }

 private:
  const Node& node_;
};

// Trilu: k from optional host input 1 (default 0); zero is the all-zero bit pattern of every type.
class CudaTriluKernel final : public Kernel {
 public:
  explicit CudaTriluKernel(const KernelInfo& info) : node_(info.node()), upper_(info.attributes().get_int("upper", 1) != 0) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
  }
  static bool supports(const KernelInfo& info) { return cuda_copyable_type(info, 0); }

  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    if (input.rank() < 2) {
      throw_error(ErrorCode::kInvalidArgument, "Trilu (node '", node_.name, "'): input ", shape_to_string(input.shape()),
                  " has fewer than 2 dims");
    }
    int64_t k = 0;
    if (context.has_input(1)) {
      std::vector<int64_t> values = host_int64s(context.input(1), node_, 1);
      if (values.size() != 1) throw_error(ErrorCode::kInvalidArgument, "Trilu (node '", node_.name, "'): k must hold one value");
      k = values[0];
    }
    Tensor& output = context.output(0, input.dtype(), input.shape());
    launch_trilu(cuda_element_width(node_, 0, input.dtype()), input.raw_data(), output.mutable_raw_data(),
                 output.element_count(), input.dim(input.rank() - 2), input.dim(input.rank() - 1), k, upper_,
                 stream_of(context));
  }

 private:
  const Node& node_;
  bool upper_;
};

}  // namespace

ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Trilu", 14, kOpsetOpenEnded, CudaTriluKernel,
                                 {.host = {1}, .any_device = {}});
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Tile", 6, kOpsetOpenEnded, CudaTileKernel,
                                 {.host = {1}, .any_device = {}});

}  // namespace onyx::cuda
