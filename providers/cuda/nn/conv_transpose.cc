// CUDA ConvTranspose (1-D to 3-D, groups, strides, dilations, pads, output_padding,
// output_shape, bias) as cuDNN's backward-data convolution: the transposed conv's input plays
// the forward conv's output gradient, and the weights [C, M/group, k...] are the forward conv's
// filter as stored. Pads cuDNN cannot express (asymmetric) are handled by computing the
// unpadded result and cropping it. The algorithm comes from cuDNN's heuristic (cached per
// shape); the exhaustive search option applies to Conv only.
#include <map>
#include <mutex>

#include "onnx_ops/nn_geometry.h"
#include "providers/cuda/cudnn_util.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/tensor/copy_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

struct CudaDeconvChoice {
  cudnnConvolutionBwdDataAlgo_t algorithm;
  size_t workspace_bytes;
  cudnnMathType_t math;
};

class CudaConvTransposeKernel final : public Kernel {
 public:
  explicit CudaConvTransposeKernel(const KernelInfo& info)
      : node_(info.node()), window_(WindowAttributes::read(info.attributes())),
        group_(info.attributes().get_int("group", 1)), output_padding_(info.attributes().get_ints("output_padding")),
        output_shape_(info.attributes().get_ints("output_shape")),
        tf32_(cuda_provider_of(info.provider()).options().tf32) {
    if (!input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16})) {
      throw_cuda_unsupported_type(info, 0, "float, float16, bfloat16");
    }
  }

  static bool supports(const KernelInfo& info) { return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}); }

  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    const Tensor& w = context.input(1);
    check_cuda_input_type(node_, 0, x.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16},
                          "float, float16, bfloat16");
    if (w.dtype() != x.dtype()) throw_cuda_unsupported_type(node_, 1, w.dtype(), std::string(dtype_name(x.dtype())));
    size_t spatial = x.rank() >= 2 ? x.rank() - 2 : 0;
    if (spatial < 1 || spatial > 3 || w.rank() != x.rank()) {
      throw_error(ErrorCode::kNotImplemented, "CUDA ConvTranspose (node '", node_.name, "'): input ",
                  shape_to_string(x.shape()), " and weights ", shape_to_string(w.shape()),
                  ": only 1-D to 3-D transposed convolutions run on CUDA");
    }
    std::vector<int64_t> in_spatial(x.shape().begin() + 2, x.shape().end());
    std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
    WindowGeometry geometry =
        transpose_window_geometry(window_, in_spatial, kernel, output_padding_, output_shape_, "ConvTranspose");
    int64_t channels = w.dim(1) * group_;
    Shape out_shape = {x.dim(0), channels};
    out_shape.insert(out_shape.end(), geometry.output.begin(), geometry.output.end());
    Tensor& y = context.output(0, x.dtype(), out_shape);
    if (y.element_count() == 0) return;
    CudaRunState& run = run_state_of(context);

    bool symmetric = true;
    for (size_t d = 0; d < spatial; ++d) symmetric = symmetric && geometry.pad_begin(d) == geometry.pad_end(d);
    // Asymmetric pads: the full (unpadded) result, cropped afterwards. Its extent keeps the
    // forward relation cuDNN checks: floor((full - kernel_extent) / stride) + 1 == input.
    Shape target_shape = out_shape;
    std::vector<int64_t> pads(spatial, 0);
    for (size_t d = 0; d < spatial; ++d) {
      if (symmetric) {
        pads[d] = geometry.pad_begin(d);
      } else {
        int64_t extra = geometry.output[d] + geometry.pad_begin(d) + geometry.pad_end(d) -
                        (geometry.strides[d] * (in_spatial[d] - 1) + geometry.effective_kernel(d));
        target_shape[d + 2] = geometry.strides[d] * (in_spatial[d] - 1) + geometry.effective_kernel(d) +
                              std::max<int64_t>(extra, 0);
      }
    }
    Tensor full_storage;
    void* target = y.mutable_raw_data();
    if (!symmetric) {
      full_storage = context.scratch(dtype_storage_bytes(x.dtype(), shape_element_count(target_shape)));
      target = full_storage.mutable_raw_data();
    }

    CudnnConvGeometry conv = cudnn_conv_geometry(pads, geometry.strides, geometry.dilations);
    CudnnTensorDescriptor dy_desc, dx_desc;
    CudnnFilterDescriptor w_desc;
    CudnnConvolutionDescriptor conv_desc;
    set_cudnn_tensor(dy_desc, x.dtype(), conv.dims(x.shape()));
    set_cudnn_tensor(dx_desc, x.dtype(), conv.dims(target_shape));
    set_cudnn_filter(w_desc, w.dtype(), conv.dims(w.shape()));
    ONYX_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(conv_desc.get(), static_cast<int>(conv.pads.size()),
                                                     conv.pads.data(), conv.strides.data(), conv.dilations.data(),
                                                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    ONYX_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv_desc.get(), static_cast<int>(group_)));
    cudnnMathType_t wanted = cudnn_math_type(x.dtype(), tf32_);
    ONYX_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_desc.get(), wanted));
    CudaDeconvChoice choice = choose(run, x, w, target_shape, dy_desc, w_desc, conv_desc, dx_desc, wanted);
    ONYX_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_desc.get(), choice.math));
    Tensor workspace;
    if (choice.workspace_bytes > 0) workspace = context.scratch(choice.workspace_bytes);
    float one = 1.0f, zero = 0.0f;
    ONYX_CUDNN_CHECK(cudnnConvolutionBackwardData(run.cudnn, &one, w_desc.get(), w.raw_data(), dy_desc.get(), x.raw_data(),
                                                  conv_desc.get(), choice.algorithm,
                                                  workspace.defined() ? workspace.mutable_raw_data() : nullptr,
                                                  choice.workspace_bytes, &zero, dx_desc.get(), target));
    if (!symmetric) {
      std::vector<int64_t> starts(out_shape.size(), 0), steps(out_shape.size(), 1);
      for (size_t d = 0; d < spatial; ++d) starts[d + 2] = geometry.pad_begin(d);
      StridedMap map = make_slice_map(target_shape, starts, steps, out_shape);
      launch_strided_copy(dtype_bits(x.dtype()) / 8, target, y.mutable_raw_data(), y.element_count(), map, run.stream);
    }
    if (context.has_input(2)) {
      const Tensor& bias = context.input(2);
      if (bias.dtype() != x.dtype() || bias.element_count() != channels) {
        throw_error(ErrorCode::kInvalidArgument, "ConvTranspose (node '", node_.name, "'): bias of shape ",
                    shape_to_string(bias.shape()), " for ", channels, " channels");
      }
      CudnnTensorDescriptor bias_desc, y_desc;
      std::vector<int64_t> bias_dims(y.rank() + (spatial == 1 ? 1 : 0), 1);
      bias_dims[1] = channels;
      set_cudnn_tensor(bias_desc, bias.dtype(), bias_dims);
      set_cudnn_tensor(y_desc, y.dtype(), conv.dims(y.shape()));
      ONYX_CUDNN_CHECK(cudnnAddTensor(run.cudnn, &one, bias_desc.get(), bias.raw_data(), &one, y_desc.get(),
                                      y.mutable_raw_data()));
    }
  }

 private:
  CudaDeconvChoice choose(CudaRunState& run, const Tensor& x, const Tensor& w, const Shape& target,
                          const CudnnTensorDescriptor& dy_desc, const CudnnFilterDescriptor& w_desc,
                          const CudnnConvolutionDescriptor& conv_desc, const CudnnTensorDescriptor& dx_desc,
                          cudnnMathType_t wanted) {
    std::string key = std::to_string(static_cast<int>(x.dtype())) + shape_to_string(x.shape()) +
                      shape_to_string(w.shape()) + shape_to_string(target);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = choices_.find(key);
      if (it != choices_.end()) return it->second;
    }
    cudnnConvolutionBwdDataAlgoPerf_t results[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int returned = 0;
    ONYX_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(run.cudnn, w_desc.get(), dy_desc.get(), conv_desc.get(),
                                                                 dx_desc.get(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                                                                 &returned, results));
    const cudnnConvolutionBwdDataAlgoPerf_t* best = nullptr;
    for (int i = 0; i < returned; ++i) {
      if (results[i].status != CUDNN_STATUS_SUCCESS) continue;
      if (best == nullptr) best = &results[i];
      if (wanted != CUDNN_FMA_MATH || results[i].mathType == CUDNN_FMA_MATH) {
        best = &results[i];
        break;
      }
    }
    if (best == nullptr) {
      throw_error(ErrorCode::kNotImplemented, "CUDA ConvTranspose (node '", node_.name,
                  "'): cuDNN has no algorithm for input ", shape_to_string(x.shape()), " and weights ",
                  shape_to_string(w.shape()));
    }
    CudaDeconvChoice choice{best->algo, best->memory, wanted == CUDNN_FMA_MATH ? CUDNN_FMA_MATH : best->mathType};
    std::lock_guard<std::mutex> lock(mutex_);
    choices_.emplace(key, choice);
    return choice;
  }

  const Node& node_;
  WindowAttributes window_;
  int64_t group_;
  std::vector<int64_t> output_padding_;
  std::vector<int64_t> output_shape_;
  bool tf32_;
  std::mutex mutex_;
  std::map<std::string, CudaDeconvChoice> choices_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "ConvTranspose", 1, kOpsetOpenEnded, CudaConvTransposeKernel);

}  // namespace onyx::cuda
