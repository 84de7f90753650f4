// CUDA Tile: repeats from host input 1 (onnx_ops/tensor_ops.h gives the shape); each output
// element reads its coordinate modulo the input's dims.
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

}  // namespace

ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Tile", 6, kOpsetOpenEnded, CudaTileKernel,
                                 {.host = {1}, .any_device = {}});

}  // namespace onyx::cuda
