// CUDA LayerNormalization (scale and bias of the normalized shape X[axis:]) and
// BatchNormalization in inference mode (training_mode = 0), all parameters of X's type.
#include "onnx_ops/axes.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/nn/normalization_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

constexpr const char* kCudaNormTypes = "float, float16, bfloat16";

void check_cuda_norm_parameter(const Node& node, size_t input, const Tensor& parameter, DataType type, int64_t count,
                               const char* what) {
  if (parameter.dtype() != type) throw_cuda_unsupported_type(node, input, parameter.dtype(), std::string(dtype_name(type)));
  if (parameter.element_count() != count) {
    throw_error(ErrorCode::kNotImplemented, "CUDA ", node.op_type, " (node '", node.name, "'): ", what, " of shape ",
                shape_to_string(parameter.shape()), " must hold ", count,
                " values (broadcast parameters are not supported on CUDA)");
  }
}

class CudaLayerNormKernel final : public Kernel {
 public:
  explicit CudaLayerNormKernel(const KernelInfo& info)
      : node_(info.node()), axis_(info.attributes().get_int("axis", -1)),
        epsilon_(info.attributes().get_float("epsilon", 1e-5f)) {
    if (!input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16})) {
      throw_cuda_unsupported_type(info, 0, kCudaNormTypes);
    }
  }

  static bool supports(const KernelInfo& info) { return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}); }

  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    check_cuda_input_type(node_, 0, x.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}, kCudaNormTypes);
    size_t axis = static_cast<size_t>(normalize_axis(axis_, static_cast<int64_t>(x.rank()), "LayerNormalization"));
    int64_t rows = 1, columns = 1;
    for (size_t d = 0; d < x.rank(); ++d) (d < axis ? rows : columns) *= x.dim(d);
    const Tensor& scale = context.input(1);
    check_cuda_norm_parameter(node_, 1, scale, x.dtype(), columns, "Scale");
    const void* bias = nullptr;
    if (context.has_input(2)) {
      check_cuda_norm_parameter(node_, 2, context.input(2), x.dtype(), columns, "B");
      bias = context.input(2).raw_data();
    }
    Tensor& y = context.output(0, x.dtype(), x.shape());
    Shape stats_shape = x.shape();
    for (size_t d = axis; d < stats_shape.size(); ++d) stats_shape[d] = 1;
    float* mean = nullptr;
    float* inv_std = nullptr;
    if (context.has_output(1)) mean = context.output(1, DataType::kFloat, stats_shape).mutable_data<float>();
    if (context.has_output(2)) inv_std = context.output(2, DataType::kFloat, stats_shape).mutable_data<float>();
    launch_layer_norm(x.dtype(), x.raw_data(), scale.raw_data(), bias, y.mutable_raw_data(), mean, inv_std, rows,
                      columns, epsilon_, stream_of(context));
  }

 private:
  const Node& node_;
  int64_t axis_;
  float epsilon_;
};

class CudaBatchNormKernel final : public Kernel {
 public:
  explicit CudaBatchNormKernel(const KernelInfo& info)
      : node_(info.node()), epsilon_(info.attributes().get_float("epsilon", 1e-5f)) {
    if (!input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16})) {
      throw_cuda_unsupported_type(info, 0, kCudaNormTypes);
    }
    if (info.attributes().get_int("training_mode", 0) != 0 || info.output_count() > 1) {
      throw_error(ErrorCode::kNotImplemented, "CUDA BatchNormalization (node '", node_.name,
                  "'): only inference mode (training_mode = 0, one output) runs on CUDA");
    }
  }

  static bool supports(const KernelInfo& info) {
    return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}) && info.attributes().get_int("training_mode", 0) == 0 &&
           info.output_count() <= 1;
  }

  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    check_cuda_input_type(node_, 0, x.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}, kCudaNormTypes);
    if (x.rank() < 2) {
      throw_error(ErrorCode::kInvalidArgument, "BatchNormalization (node '", node_.name, "'): X must have a channel dim, got ",
                  shape_to_string(x.shape()));
    }
    int64_t channels = x.dim(1), inner = 1;
    for (size_t d = 2; d < x.rank(); ++d) inner *= x.dim(d);
    const char* names[] = {"scale", "B", "input_mean", "input_var"};
    for (size_t i = 1; i <= 4; ++i) check_cuda_norm_parameter(node_, i, context.input(i), x.dtype(), channels, names[i - 1]);
    Tensor& y = context.output(0, x.dtype(), x.shape());
    launch_batch_norm(x.dtype(), x.raw_data(), context.input(1).raw_data(), context.input(2).raw_data(),
                      context.input(3).raw_data(), context.input(4).raw_data(), y.mutable_raw_data(), x.dim(0), channels,
                      inner, epsilon_, stream_of(context));
  }

 private:
  const Node& node_;
  float epsilon_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "LayerNormalization", 17, kOpsetOpenEnded, CudaLayerNormKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "BatchNormalization", 1, kOpsetOpenEnded, CudaBatchNormKernel);

}  // namespace onyx::cuda
