// CUDA Pad (constant, reflect, edge, wrap): pads and the constant are host inputs from opset
// 11 (attributes before), axes from opset 18.
#include <cstring>

#include "onnx_ops/axes.h"
#include "onnx_ops/tensor_ops.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/tensor/copy_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

PadMode cuda_pad_mode(const Node& node, const std::string& mode) {
  if (mode == "constant") return PadMode::kConstant;
  if (mode == "reflect") return PadMode::kReflect;
  if (mode == "edge") return PadMode::kEdge;
  if (mode == "wrap") return PadMode::kWrap;
  throw_error(ErrorCode::kInvalidModel, "Pad (node '", node.name, "'): unknown mode '", mode, "'");
}

class CudaPadKernel final : public Kernel {
 public:
  explicit CudaPadKernel(const KernelInfo& info)
      : node_(info.node()), opset_(info.opset()), mode_(cuda_pad_mode(info.node(), info.attributes().get_string("mode", "constant"))) {
    if (!cuda_copyable_type(info, 0)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
    if (opset_ < 11) {
      pads_ = info.attributes().get_ints(opset_ < 2 ? "paddings" : "pads");
      value_ = info.attributes().get_float("value", 0.0f);
    }
  }

  static bool supports(const KernelInfo& info) {
    std::string mode = info.attributes().get_string("mode", "constant");
    return cuda_copyable_type(info, 0) &&
           (mode == "constant" || mode == "reflect" || mode == "edge" || mode == "wrap");
  }

  void compute(KernelContext& context) override {
    const Tensor& input = context.input(0);
    int width = cuda_element_width(node_, 0, input.dtype());
    std::vector<int64_t> pads = pads_, axes;
    uint64_t value_bits = 0;
    if (opset_ >= 11) {
      pads = host_int64s(context.input(1), node_, 1);
      if (context.has_input(2)) {
        const Tensor& value = context.input(2);
        if (!value.device().is_cpu() || value.element_count() != 1 || value.dtype() != input.dtype()) {
          throw_error(ErrorCode::kInvalidArgument, "Pad (node '", node_.name,
                      "'): constant_value must be one host value of the data's type");
        }
        std::memcpy(&value_bits, value.raw_data(), static_cast<size_t>(width));
      }
      if (context.has_input(3)) axes = host_int64s(context.input(3), node_, 3);
    } else {
      value_bits = cuda_element_bits(node_, input.dtype(), value_);
    }
    size_t rank = input.rank();
    std::vector<int64_t> all = resolve_pads(pads, axes, rank);
    if (rank > static_cast<size_t>(kMaxIndexDims)) {
      throw_error(ErrorCode::kNotImplemented, "CUDA Pad (node '", node_.name, "'): more than 8 dims");
    }
    PadMap map;
    map.rank = static_cast<int>(rank);
    map.mode = mode_;
    Shape shape(rank);
    for (size_t d = 0; d < rank; ++d) {
      shape[d] = padded_dim(input.dim(d), all[d], all[rank + d], d);
      map.in_dims[d] = input.dim(d);
      map.out_dims[d] = shape[d];
      map.pad_begin[d] = all[d];
      if (mode_ != PadMode::kConstant && input.dim(d) == 0 && shape[d] > 0) {
        throw_error(ErrorCode::kInvalidArgument, "Pad (node '", node_.name, "'): mode ", static_cast<int>(mode_),
                    " cannot pad an empty axis ", d);
      }
    }
    Tensor& output = context.output(0, input.dtype(), shape);
    launch_pad(width, input.raw_data(), output.mutable_raw_data(), output.element_count(), map, value_bits,
               stream_of(context));
  }

 private:
  const Node& node_;
  int64_t opset_;
  PadMode mode_;
  std::vector<int64_t> pads_;
  float value_ = 0.0f;
};

}  // namespace

ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Pad", 1, kOpsetOpenEnded, CudaPadKernel,
                                 {.host = {1, 2, 3}, .any_device = {}});

}  // namespace onyx::cuda
