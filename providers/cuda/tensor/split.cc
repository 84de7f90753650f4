// CUDA Split: each output is a strided copy of its slice along the axis (sizes from the
// attribute, the host input from opset 13, or num_outputs from opset 18; onnx_ops/axes.h).
#include "onnx_ops/axes.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/tensor/copy_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaSplitKernel final : public Kernel {
 public:
  explicit CudaSplitKernel(const KernelInfo& info)
      : node_(info.node()), opset_(info.opset()), axis_(info.attributes().get_int("axis", 0)),
        split_(info.attributes().get_ints("split")), num_outputs_(info.attributes().get_int("num_outputs", 0)) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
    if (num_outputs_ > 0 && num_outputs_ != static_cast<int64_t>(info.output_count())) {
      throw_error(ErrorCode::kInvalidModel, "Split (node '", node_.name, "'): num_outputs ", num_outputs_,
                  " but the node has ", info.output_count(), " outputs");
    }
  }
  static bool supports(const KernelInfo& info) { return cuda_copyable_type(info, 0); }

  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(input.rank()), "Split"));
    std::vector<int64_t> split = split_;
    if ((opset_ >= 13 || opset_ == 1) && context.has_input(1)) split = host_int64s(context.input(1), node_, 1);
    int64_t outputs = static_cast<int64_t>(context.output_count());
    std::vector<int64_t> sizes = resolve_split(input.dim(axis), split, outputs, opset_ >= 18 && num_outputs_ > 0);
    int width = cuda_element_width(node_, 0, input.dtype());
    std::vector<int64_t> starts(input.rank(), 0), steps(input.rank(), 1);
    for (size_t i = 0; i < sizes.size(); ++i) {
      Shape shape = input.shape();
      shape[axis] = sizes[i];
      if (context.has_output(i)) {
        Tensor& output = context.output(i, input.dtype(), shape);
        if (output.element_count() > 0) {
          StridedMap map = make_slice_map(input.shape(), starts, steps, shape);
          launch_strided_copy(width, input.raw_data(), output.mutable_raw_data(), output.element_count(), map,
                              stream_of(context));
        }
      }
      starts[axis] += sizes[i];
    }
  }

 private:
  const Node& node_;
  int64_t opset_;
  int64_t axis_;
  std::vector<int64_t> split_;
  int64_t num_outputs_;
};

}  // namespace

ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Split", 1, kOpsetOpenEnded, CudaSplitKernel,
                                 {.host = {1}, .any_device = {}});

}  // namespace onyx::cuda
