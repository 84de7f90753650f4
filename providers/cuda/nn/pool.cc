// CUDA MaxPool and AveragePool through cuDNN (symmetric pads, no dilation, floor-mode output
// sizes, MaxPool without its Indices output), and GlobalAveragePool/GlobalMaxPool as a mean or
// max over the spatial dims (the Reduce kernels).
#include "onnx_ops/nn_geometry.h"
#include "providers/cuda/cudnn_util.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/reduction/reduce_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

constexpr const char* kCudaPoolTypes = "float, float16, bfloat16";

class CudaPoolKernel final : public Kernel {
 public:
  explicit CudaPoolKernel(const KernelInfo& info)
      : node_(info.node()), max_(info.node().op_type == "MaxPool"), window_(WindowAttributes::read(info.attributes())),
        count_include_pad_(info.attributes().get_int("count_include_pad", 0) != 0) {
    if (!input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16})) {
      throw_cuda_unsupported_type(info, 0, kCudaPoolTypes);
    }
    if (max_ && info.output_count() > 1 && info.node().outputs[1] != "") {
      throw_error(ErrorCode::kNotImplemented, "CUDA MaxPool (node '", node_.name, "'): the Indices output is not supported");
    }
    if (info.attributes().get_int("storage_order", 0) != 0) {
      throw_error(ErrorCode::kNotImplemented, "CUDA MaxPool (node '", node_.name, "'): storage_order 1 is not supported");
    }
  }

  // Dilations, asymmetric pads and ceil-mode sizes depend on the shapes: compute() refuses them.
  static bool supports(const KernelInfo& info) {
    bool indices = info.node().op_type == "MaxPool" && info.output_count() > 1 && !info.node().outputs[1].empty();
    return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}) && !indices && info.attributes().get_int("storage_order", 0) == 0;
  }

  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    check_cuda_input_type(node_, 0, x.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}, kCudaPoolTypes);
    size_t spatial = x.rank() >= 2 ? x.rank() - 2 : 0;
    if (spatial < 1 || spatial > 3) {
      throw_error(ErrorCode::kNotImplemented, "CUDA ", node_.op_type, " (node '", node_.name, "'): input ",
                  shape_to_string(x.shape()), ": only 1-D to 3-D pooling runs on CUDA");
    }
    std::vector<int64_t> in_spatial(x.shape().begin() + 2, x.shape().end());
    WindowGeometry geometry = forward_window_geometry(window_, in_spatial, window_.kernel_shape, node_.op_type);
    for (size_t d = 0; d < spatial; ++d) {
      int64_t floor_output = (in_spatial[d] + geometry.pad_begin(d) + geometry.pad_end(d) - geometry.effective_kernel(d)) /
                                 geometry.strides[d] + 1;
      if (geometry.dilations[d] != 1 || geometry.pad_begin(d) != geometry.pad_end(d) || geometry.output[d] != floor_output) {
        throw_error(ErrorCode::kNotImplemented, "CUDA ", node_.op_type, " (node '", node_.name,
                    "'): dilations, asymmetric pads and ceil_mode output sizes are not supported on CUDA");
      }
    }
    Shape out_shape = {x.dim(0), x.dim(1)};
    out_shape.insert(out_shape.end(), geometry.output.begin(), geometry.output.end());
    Tensor& y = context.output(0, x.dtype(), out_shape);
    if (y.element_count() == 0) return;
    auto with_unit_height = [&](std::vector<int64_t> dims) {
      if (spatial == 1) dims.insert(dims.begin() + 2, 1);
      return dims;
    };
    std::vector<int> window(geometry.kernel.begin(), geometry.kernel.end());
    std::vector<int> strides(geometry.strides.begin(), geometry.strides.end());
    std::vector<int> pads(spatial);
    for (size_t d = 0; d < spatial; ++d) pads[d] = static_cast<int>(geometry.pad_begin(d));
    if (spatial == 1) {
      window.insert(window.begin(), 1);
      strides.insert(strides.begin(), 1);
      pads.insert(pads.begin(), 0);
    }
    cudnnPoolingMode_t mode = max_ ? CUDNN_POOLING_MAX_DETERMINISTIC
                                   : (count_include_pad_ ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                                         : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING);
    CudnnPoolingDescriptor pool_desc;
    ONYX_CUDNN_CHECK(cudnnSetPoolingNdDescriptor(pool_desc.get(), mode, CUDNN_PROPAGATE_NAN, static_cast<int>(window.size()),
                                                 window.data(), pads.data(), strides.data()));
    CudnnTensorDescriptor x_desc, y_desc;
    set_cudnn_tensor(x_desc, x.dtype(), with_unit_height(x.shape()));
    set_cudnn_tensor(y_desc, y.dtype(), with_unit_height(y.shape()));
    float one = 1.0f, zero = 0.0f;
    ONYX_CUDNN_CHECK(cudnnPoolingForward(run_state_of(context).cudnn, pool_desc.get(), &one, x_desc.get(), x.raw_data(),
                                         &zero, y_desc.get(), y.mutable_raw_data()));
  }

 private:
  const Node& node_;
  bool max_;
  WindowAttributes window_;
  bool count_include_pad_;
};

class CudaGlobalPoolKernel final : public Kernel {
 public:
  explicit CudaGlobalPoolKernel(const KernelInfo& info)
      : node_(info.node()), op_(info.node().op_type == "GlobalMaxPool" ? ReduceOp::kMax : ReduceOp::kMean) {
    if (!input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16})) {
      throw_cuda_unsupported_type(info, 0, kCudaPoolTypes);
    }
  }
  static bool supports(const KernelInfo& info) { return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}); }
  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    check_cuda_input_type(node_, 0, x.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}, kCudaPoolTypes);
    if (x.rank() < 2) {
      throw_error(ErrorCode::kInvalidArgument, node_.op_type, " (node '", node_.name, "'): input ",
                  shape_to_string(x.shape()), " has no channel dim");
    }
    Shape out_shape(x.rank(), 1);
    out_shape[0] = x.dim(0);
    out_shape[1] = x.dim(1);
    Tensor& y = context.output(0, x.dtype(), out_shape);
    int64_t inner = 1;
    for (size_t d = 2; d < x.rank(); ++d) inner *= x.dim(d);
    StridedMap kept = make_strided_map({x.dim(0) * x.dim(1)}, {inner}, 0, node_.op_type.c_str());
    StridedMap reduced = make_strided_map({inner}, {1}, 0, node_.op_type.c_str());
    launch_reduce(op_, x.dtype(), x.raw_data(), y.mutable_raw_data(), y.element_count(), kept, reduced, inner,
                  stream_of(context));
  }

 private:
  const Node& node_;
  ReduceOp op_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "MaxPool", 1, kOpsetOpenEnded, CudaPoolKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "AveragePool", 1, kOpsetOpenEnded, CudaPoolKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "GlobalAveragePool", 1, kOpsetOpenEnded, CudaGlobalPoolKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "GlobalMaxPool", 1, kOpsetOpenEnded, CudaGlobalPoolKernel);

}  // namespace onyx::cuda
