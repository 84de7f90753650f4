// CUDA Conv (1-D to 3-D, groups, strides, dilations, pads, bias) through cuDNN. The algorithm
// for each input shape is chosen once and cached in the kernel: cuDNN's heuristic by default
// (cudnnGetConvolutionForwardAlgorithm_v7), a timed search (cudnnFindConvolutionForwardAlgorithmEx)
// when the provider option cudnn_conv_algo_search=exhaustive asks for it. Asymmetric pads,
// which cuDNN cannot express, are applied by padding the input first.
#include <map>
#include <mutex>
#include <sstream>

#include "onnx_ops/nn_geometry.h"
#include "providers/cuda/cudnn_util.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/tensor/copy_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

constexpr const char* kCudaConvTypes = "float, float16, bfloat16";
constexpr size_t kCudaConvSearchWorkspace = size_t{256} << 20;

struct CudaConvChoice {
  cudnnConvolutionFwdAlgo_t algorithm;
  size_t workspace_bytes;
  cudnnMathType_t math;
};

class CudaConvKernel final : public Kernel {
 public:
  explicit CudaConvKernel(const KernelInfo& info)
      : node_(info.node()), window_(WindowAttributes::read(info.attributes())),
        group_(info.attributes().get_int("group", 1)),
        tf32_(cuda_provider_of(info.provider()).options().tf32),
        exhaustive_(cuda_provider_of(info.provider()).options().conv_algo_search == ConvAlgoSearch::kExhaustive) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, kCudaConvTypes);
  }

  static bool supports(const KernelInfo& info) {
    return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16});
  }

  void compute(KernelContext& context) override {
    const Tensor& x_in = context.input(0);
    const Tensor& w = context.input(1);
    check_cuda_input_type(node_, 0, x_in.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}, kCudaConvTypes);
    if (w.dtype() != x_in.dtype()) throw_cuda_unsupported_type(node_, 1, w.dtype(), std::string(dtype_name(x_in.dtype())));
    size_t spatial = x_in.rank() >= 2 ? x_in.rank() - 2 : 0;
    if (spatial < 1 || spatial > 3 || w.rank() != x_in.rank()) {
      throw_error(ErrorCode::kNotImplemented, "CUDA Conv (node '", node_.name, "'): input ", shape_to_string(x_in.shape()),
                  " and weights ", shape_to_string(w.shape()), ": only 1-D to 3-D convolutions run on CUDA");
    }
    std::vector<int64_t> in_spatial(x_in.shape().begin() + 2, x_in.shape().end());
    std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
    WindowGeometry geometry = forward_window_geometry(window_, in_spatial, kernel, "Conv");
    Shape out_shape = {x_in.dim(0), w.dim(0)};
    out_shape.insert(out_shape.end(), geometry.output.begin(), geometry.output.end());
    Tensor& y = context.output(0, x_in.dtype(), out_shape);
    if (y.element_count() == 0) return;
    CudaRunState& run = run_state_of(context);

    // cuDNN pads symmetrically: other pads become an explicit zero pad of the input.
    Tensor x = x_in;
    Tensor padded_storage;
    std::vector<int64_t> pads(spatial);
    bool symmetric = true;
    for (size_t d = 0; d < spatial; ++d) symmetric = symmetric && geometry.pad_begin(d) == geometry.pad_end(d);
    if (symmetric) {
      for (size_t d = 0; d < spatial; ++d) pads[d] = geometry.pad_begin(d);
    } else {
      x = pad_input(context, x_in, geometry, padded_storage);
    }

    // 1-D convolutions run as 2-D ones over a height of 1.
    CudnnConvGeometry conv = cudnn_conv_geometry(pads, geometry.strides, geometry.dilations);
    CudnnTensorDescriptor x_desc, y_desc;
    CudnnFilterDescriptor w_desc;
    CudnnConvolutionDescriptor conv_desc;
    set_cudnn_tensor(x_desc, x.dtype(), conv.dims(x.shape()));
    set_cudnn_tensor(y_desc, y.dtype(), conv.dims(y.shape()));
    set_cudnn_filter(w_desc, w.dtype(), conv.dims(w.shape()));
    ONYX_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(conv_desc.get(), static_cast<int>(conv.pads.size()), conv.pads.data(),
                                                     conv.strides.data(), conv.dilations.data(), CUDNN_CROSS_CORRELATION,
                                                     CUDNN_DATA_FLOAT));
    ONYX_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv_desc.get(), static_cast<int>(group_)));
    ONYX_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_desc.get(), cudnn_math_type(x.dtype(), tf32_)));

    CudaConvChoice choice = choose(context, run, x, w, y, x_desc, w_desc, conv_desc, y_desc);
    ONYX_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_desc.get(), choice.math));
    Tensor workspace;
    if (choice.workspace_bytes > 0) workspace = context.scratch(choice.workspace_bytes);
    float one = 1.0f, zero = 0.0f;
    ONYX_CUDNN_CHECK(cudnnConvolutionForward(run.cudnn, &one, x_desc.get(), x.raw_data(), w_desc.get(), w.raw_data(),
                                             conv_desc.get(), choice.algorithm,
                                             workspace.defined() ? workspace.mutable_raw_data() : nullptr,
                                             choice.workspace_bytes, &zero, y_desc.get(), y.mutable_raw_data()));
    if (context.has_input(2)) {
      const Tensor& bias = context.input(2);
      if (bias.dtype() != x.dtype() || bias.element_count() != w.dim(0)) {
        throw_error(ErrorCode::kInvalidArgument, "Conv (node '", node_.name, "'): bias of shape ",
                    shape_to_string(bias.shape()), " and type ", dtype_name(bias.dtype()), " for ", w.dim(0), " channels");
      }
      CudnnTensorDescriptor bias_desc;
      std::vector<int64_t> bias_dims(y.rank() + (spatial == 1 ? 1 : 0), 1);
      bias_dims[1] = w.dim(0);
      set_cudnn_tensor(bias_desc, bias.dtype(), bias_dims);
      ONYX_CUDNN_CHECK(cudnnAddTensor(run.cudnn, &one, bias_desc.get(), bias.raw_data(), &one, y_desc.get(),
                                      y.mutable_raw_data()));
    }
  }

 private:
  Tensor pad_input(KernelContext& context, const Tensor& x, const WindowGeometry& geometry, Tensor& storage) {
    PadMap map;
    map.rank = static_cast<int>(x.rank());
    map.mode = PadMode::kConstant;
    Shape shape = x.shape();
    for (size_t d = 0; d < x.rank(); ++d) {
      map.in_dims[d] = x.dim(d);
      if (d >= 2) {
        map.pad_begin[d] = geometry.pad_begin(d - 2);
        shape[d] += geometry.pad_begin(d - 2) + geometry.pad_end(d - 2);
      }
      map.out_dims[d] = shape[d];
    }
    storage = context.scratch(dtype_storage_bytes(x.dtype(), shape_element_count(shape)));
    Tensor padded = Tensor::view(x.dtype(), shape, storage.mutable_raw_data(), nullptr, x.device());
    launch_pad(dtype_bits(x.dtype()) / 8, x.raw_data(), padded.mutable_raw_data(), padded.element_count(), map, 0,
               stream_of(context));
    return padded;
  }

  CudaConvChoice choose(KernelContext& context, CudaRunState& run, const Tensor& x, const Tensor& w, Tensor& y,
                        const CudnnTensorDescriptor& x_desc, const CudnnFilterDescriptor& w_desc,
                        const CudnnConvolutionDescriptor& conv_desc, const CudnnTensorDescriptor& y_desc) {
    std::ostringstream key_text;
    key_text << static_cast<int>(x.dtype()) << shape_to_string(x.shape()) << shape_to_string(w.shape());
    std::string key = key_text.str();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = choices_.find(key);
      if (it != choices_.end()) return it->second;
    }
    cudnnMathType_t wanted = cudnn_math_type(x.dtype(), tf32_);
    cudnnConvolutionFwdAlgoPerf_t results[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int returned = 0;
    if (exhaustive_) {
      // The search runs every algorithm on the real buffers (y is overwritten by the run after).
      Tensor workspace = context.scratch(kCudaConvSearchWorkspace);
      ONYX_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
          run.cudnn, x_desc.get(), x.raw_data(), w_desc.get(), w.raw_data(), conv_desc.get(), y_desc.get(),
          y.mutable_raw_data(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, results, workspace.mutable_raw_data(),
          kCudaConvSearchWorkspace));
    } else {
      ONYX_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(run.cudnn, x_desc.get(), w_desc.get(), conv_desc.get(),
                                                              y_desc.get(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned,
                                                              results));
    }
    // With TF32 off an fp32 convolution must run FMA math: prefer an algorithm cuDNN reports
    // in that mode, else take its best one and force the mode (cuDNN refuses it at run time if
    // it cannot, which names the call).
    const cudnnConvolutionFwdAlgoPerf_t* best = nullptr;
    for (int i = 0; i < returned; ++i) {
      const cudnnConvolutionFwdAlgoPerf_t& result = results[i];
      if (result.status != CUDNN_STATUS_SUCCESS) continue;
      if (exhaustive_ && result.memory > kCudaConvSearchWorkspace) continue;
      if (best == nullptr) best = &result;
      if (wanted != CUDNN_FMA_MATH || result.mathType == CUDNN_FMA_MATH) {
        best = &result;
        break;
      }
    }
    if (best != nullptr) {
      CudaConvChoice choice{best->algo, best->memory, wanted == CUDNN_FMA_MATH ? CUDNN_FMA_MATH : best->mathType};
      std::lock_guard<std::mutex> lock(mutex_);
      choices_.emplace(key, choice);
      return choice;
    }
    throw_error(ErrorCode::kNotImplemented, "CUDA Conv (node '", node_.name, "'): cuDNN has no algorithm for input ",
                shape_to_string(x.shape()), " and weights ", shape_to_string(w.shape()), " of type ",
                dtype_name(x.dtype()));
  }

  const Node& node_;
  WindowAttributes window_;
  int64_t group_;
  bool tf32_;
  bool exhaustive_;
  std::mutex mutex_;
  std::map<std::string, CudaConvChoice> choices_;  // by input dtype and shapes (attributes are the kernel's)
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "Conv", 1, kOpsetOpenEnded, CudaConvKernel);

}  // namespace onyx::cuda
