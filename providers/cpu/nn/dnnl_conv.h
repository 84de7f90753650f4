// oneDNN convolution and deconvolution (ConvTranspose) for one input shape, with layouts of
// oneDNN's choosing inside and plain NCHW-style tensors at the border. Built once per shape by
// the Conv/ConvTranspose kernels; constant weights are reordered once at construction.
#pragma once

#include <optional>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "onnx_ops/nn_geometry.h"
#include "providers/cpu/linalg/dnnl_util.h"

namespace onyx {

// A convolution's sizes. For ConvTranspose (`transposed`), `geometry.input` is X's spatial size
// and `geometry.output` Y's, and W is laid out [C, maps/group, k...] as ONNX stores it.
struct ConvShapes {
  int64_t batch, channels, maps, group;
  WindowGeometry geometry;
  bool transposed = false;
};

// How a convolution meets its neighbours: X and Y channels-last ([N, spatial..., C], for
// NhwcConv, which the channels-last pass makes) instead of [N, C, spatial...], a residual of
// Y's shape and layout added to Y (a ResNet block's skip connection), and then an activation
// applied to Y inside the primitive (`algorithm::undef`: none).
struct DnnlConvOptions {
  bool channels_last = false;
  bool residual = false;
  dnnl::algorithm activation = dnnl::algorithm::undef;
  float activation_alpha = 0.f, activation_beta = 0.f;  // oneDNN's eltwise parameters
  // Precision::kBf16: X converted to bf16 on its way into the primitive's layout (the reorder
  // that runs anyway), W to bf16 once, accumulation, bias, post-ops and Y in float. The
  // constructor throws dnnl::error where oneDNN has no bf16 kernel; callers retry in float.
  bool bf16 = false;
  // An integer convolution (QLinearConv, ConvInteger, and QLinearMatMul as a 1x1 one): X
  // uint8/int8 with `x_zero` subtracted (padding reads as the zero point, as in ONNX), W int8
  // with zero points 0, bias int32 added to the int32 sums, and Y either the sums (int32) or
  // requantized: saturate(round(scale * (sum + bias)) + y_zero) in uint8/int8, with one scale
  // or one per output map. oneDNN runs it on VNNI's u8*s8 dot products where the CPU has them.
  struct Integer {
    dnnl::memory::data_type x = dnnl::memory::data_type::u8, y = dnnl::memory::data_type::s32;
    std::vector<float> scales;  // empty: 1
    int32_t x_zero = 0, y_zero = 0;
  };
  std::optional<Integer> integer;
};

class DnnlConv {
 public:
  // Throws dnnl::error when oneDNN cannot express the case (callers fall back to the reference).
  // Pointers are to floats, or to the integer types of `options.integer`.
  DnnlConv(const ConvShapes& s, bool has_bias, const void* constant_w, const DnnlConvOptions& options = {});
  // The work memory run() needs: oneDNN's scratchpads and X, Y (and unpacked W) in oneDNN's layouts.
  size_t scratch_bytes() const { return workspace_.bytes(); }
  // `scratch` holds scratch_bytes() bytes that no other call uses meanwhile; calls may overlap.
  // `residual` (Y's shape and layout) is required exactly when the options asked for one.
  void run(const void* x, const void* w, const void* bias, void* y, void* scratch,
           const void* residual = nullptr) const;

 private:
  dnnl::primitive primitive_;
  dnnl::memory::desc x_plain_, y_plain_, w_plain_, bias_desc_;
  dnnl::memory w_packed_;  // constant weights, in the primitive's layout; only read by calls
  // Layout conversions at the op's border, created once: building even a cached primitive
  // per run costs more than a small convolution itself. Each converts into (or out of) a
  // workspace buffer; index -1: none needed.
  DnnlReorder x_reorder_, y_reorder_, w_reorder_;
  DnnlWorkspace workspace_;
  int x_inner_ = -1, y_inner_ = -1, w_inner_ = -1, scratchpad_ = -1;
  dnnl::memory x_zero_, y_zero_;  // integer convolutions' zero points (int32, one each); only read
  // An activation applied after the primitive rather than as its post-op (undef: none).
  dnnl::algorithm activation_after_ = dnnl::algorithm::undef;
  float activation_after_alpha_ = 0.f;
};

}  // namespace onyx
