// oneDNN convolution and deconvolution (ConvTranspose) for one input shape, with layouts of
// oneDNN's choosing inside and plain NCHW-style tensors at the border. Built once per shape by
// the Conv/ConvTranspose kernels; constant weights are reordered once at construction.
#pragma once

#include <mutex>

#include <oneapi/dnnl/dnnl.hpp>

#include "onnx_ops/nn_geometry.h"

namespace onyx {

// A convolution's sizes. For ConvTranspose (`transposed`), `geometry.input` is X's spatial size
// and `geometry.output` Y's, and W is laid out [C, maps/group, k...] as ONNX stores it.
struct ConvShapes {
  int64_t batch, channels, maps, group;
  WindowGeometry geometry;
  bool transposed = false;
};

// How a convolution meets its neighbours: X and Y channels-last ([N, spatial..., C], for
// NhwcConv, which the channels-last pass makes) instead of [N, C, spatial...], and an
// activation applied to Y inside the primitive (`algorithm::undef`: none).
struct DnnlConvOptions {
  bool channels_last = false;
  dnnl::algorithm activation = dnnl::algorithm::undef;
  float activation_alpha = 0.f, activation_beta = 0.f;  // oneDNN's eltwise parameters
};

class DnnlConv {
 public:
  // Throws dnnl::error when oneDNN cannot express the case (callers fall back to the reference).
  DnnlConv(const ConvShapes& s, bool has_bias, const float* constant_w, const DnnlConvOptions& options = {});
  void run(const float* x, const float* w, const float* bias, float* y);

 private:
  std::mutex mutex_;  // the scratch memories are shared between calls
  dnnl::primitive primitive_;
  dnnl::memory::desc x_plain_, y_plain_, w_plain_, bias_desc_;
  dnnl::memory x_inner_, y_inner_, w_inner_, w_const_;
  // Layout conversions at the op's border, created once: building even a cached primitive
  // per run costs more than a small convolution itself.
  dnnl::primitive x_reorder_, y_reorder_, w_reorder_;
  bool weights_packed_ = false;
};

}  // namespace onyx
