// CUDA Resize (opset 10+): nearest for any 1/2/4/8-byte element type, linear for float types,
// every coordinate_transformation_mode and nearest_mode, scales or sizes, axes and
// keep_aspect_ratio_policy (through onnx_ops/vision.h, as the CPU kernel). Cubic and antialiased
// downsampling are not implemented on CUDA.
#include "onnx_ops/vision.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/vision/resize_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

ResizeCoordinate cuda_resize_coordinate(CoordinateTransform transform) {
  switch (transform) {
    case CoordinateTransform::kHalfPixel: return ResizeCoordinate::kHalfPixel;
    case CoordinateTransform::kHalfPixelSymmetric: return ResizeCoordinate::kHalfPixelSymmetric;
    case CoordinateTransform::kPytorchHalfPixel: return ResizeCoordinate::kPytorchHalfPixel;
    case CoordinateTransform::kAlignCorners: return ResizeCoordinate::kAlignCorners;
    case CoordinateTransform::kAsymmetric: return ResizeCoordinate::kAsymmetric;
    case CoordinateTransform::kTfCropAndResize: return ResizeCoordinate::kTfCropAndResize;
    case CoordinateTransform::kTfHalfPixelForNn: return ResizeCoordinate::kTfHalfPixelForNn;
  }
  return ResizeCoordinate::kHalfPixel;
}

NearestMode cuda_nearest_mode(::onyx::NearestMode mode) {
  switch (mode) {
    case ::onyx::NearestMode::kRoundPreferFloor: return NearestMode::kRoundPreferFloor;
    case ::onyx::NearestMode::kRoundPreferCeil: return NearestMode::kRoundPreferCeil;
    case ::onyx::NearestMode::kFloor: return NearestMode::kFloor;
    case ::onyx::NearestMode::kCeil: return NearestMode::kCeil;
    case ::onyx::NearestMode::kSimple: return NearestMode::kSimple;
  }
  return NearestMode::kRoundPreferFloor;
}

class CudaResizeKernel final : public Kernel {
 public:
  explicit CudaResizeKernel(const KernelInfo& info)
      : node_(info.node()), opset_(info.opset()), attributes_(ResizeAttributes::read(info.attributes(), info.opset(), "Resize")) {
    if (attributes_.mode == ResizeMode::kCubic) {
      throw_error(ErrorCode::kNotImplemented, "CUDA Resize (node '", node_.name, "'): cubic mode is not implemented on CUDA");
    }
    bool linear = attributes_.mode == ResizeMode::kLinear;
    if (linear && !input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16})) {
      throw_cuda_unsupported_type(info, 0, "float, float16, bfloat16 (linear mode)");
    }
    if (!cuda_copyable_type(info, 0)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
  }

  static bool supports(const KernelInfo& info) {
    std::string mode = info.attributes().get_string("mode", "nearest");
    if (mode == "cubic" || !cuda_copyable_type(info, 0)) return false;
    return mode != "linear" || input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16});
  }

  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    std::vector<double> roi, scales;
    std::vector<int64_t> sizes;
    bool have_scales = false, have_sizes = false;
    size_t scales_index = opset_ < 11 ? 1 : 2;
    if (context.has_input(scales_index) && context.input(scales_index).element_count() > 0) {
      const Tensor& s = context.input(scales_index);
      for (int64_t i = 0; i < s.element_count(); ++i) scales.push_back(s.element_as_double(i));
      have_scales = true;
    }
    if (opset_ >= 11) {
      if (context.has_input(1) && context.input(1).element_count() > 0) {
        const Tensor& r = context.input(1);
        for (int64_t i = 0; i < r.element_count(); ++i) roi.push_back(r.element_as_double(i));
      }
      if (context.has_input(3) && context.input(3).element_count() > 0) {
        sizes = host_int64s(context.input(3), node_, 3);
        have_sizes = true;
      }
    }
    ResizeGeometry geometry = resolve_resize(x.shape(), attributes_, &roi, have_scales ? &scales : nullptr,
                                             have_sizes ? &sizes : nullptr, "Resize");
    if (x.rank() > static_cast<size_t>(kMaxIndexDims)) {
      throw_error(ErrorCode::kNotImplemented, "CUDA Resize (node '", node_.name, "'): more than 8 dims");
    }
    bool linear = attributes_.mode == ResizeMode::kLinear;
    ResizeMap map;
    map.rank = static_cast<int>(x.rank());
    map.coordinate = cuda_resize_coordinate(attributes_.transform);
    map.nearest = cuda_nearest_mode(attributes_.nearest_mode);
    map.extrapolate = attributes_.transform == CoordinateTransform::kTfCropAndResize;
    map.extrapolation_value = attributes_.extrapolation_value;
    for (size_t d = 0; d < x.rank(); ++d) {
      map.in_dims[d] = x.dim(d);
      map.out_dims[d] = geometry.output[d];
      map.scales[d] = static_cast<float>(geometry.scales[d]);
      map.roi_start[d] = static_cast<float>(geometry.roi_start[d]);
      map.roi_end[d] = static_cast<float>(geometry.roi_end[d]);
      if (linear && attributes_.antialias && geometry.scales[d] < 1.0) {
        throw_error(ErrorCode::kNotImplemented, "CUDA Resize (node '", node_.name,
                    "'): antialiased downsampling is not implemented on CUDA");
      }
    }
    Tensor& y = context.output(0, x.dtype(), geometry.output);
    if (y.element_count() == 0) return;
    if (linear) {
      check_cuda_input_type(node_, 0, x.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16},
                            "float, float16, bfloat16 (linear mode)");
      launch_resize_linear(x.dtype(), x.raw_data(), y.mutable_raw_data(), y.element_count(), map, stream_of(context));
    } else {
      uint64_t bits = map.extrapolate ? cuda_element_bits(node_, x.dtype(), map.extrapolation_value) : 0;
      launch_resize_nearest(cuda_element_width(node_, 0, x.dtype()), x.raw_data(), y.mutable_raw_data(),
                            y.element_count(), map, bits, stream_of(context));
    }
  }

 private:
  const Node& node_;
  int64_t opset_;
  ResizeAttributes attributes_;
};

}  // namespace

ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Resize", 10, kOpsetOpenEnded, CudaResizeKernel,
                                 {.host = {1, 2, 3}, .any_device = {}});

}  // namespace onyx::cuda
