// A direct channels-last 2-D convolution for inputs of few channels: a network's first layer,
// on grey images. oneDNN's f32 kernels vectorize over input channels as well as
// output maps, so with one channel most of each vector is idle: cnn_fashion's 1 -> 16 map 3x3
// layer ran at a quarter of the multiply rate of the 16 -> 32 one after it. Here each output
// pixel's maps are sums of (input value x weight vector) over the window's taps and channels:
// 4 pixels and up to 64 maps at a time, in 16 vector accumulators (a weight vector serves 4
// pixels, a broadcast input value 4 map blocks), over a zero-padded copy of the input so that
// every tap lies inside it.
#pragma once

#include <cstdint>
#include <vector>

#include "providers/cpu/activation/fused_activation.h"
#include "providers/cpu/nn/dnnl_conv.h"

namespace onyx {

class FewChannelConv {
 public:
  // The code takes any channel count; it is used where it measured faster than oneDNN: one
  // channel (cnn_fashion's 1 -> 16 maps layer 11 -> 5.5 us, cnn_small's 1 -> 8 maps at batch
  // 8 50 -> 35 us). With three, oneDNN's first-layer kernels won (ResNet-18's 7x7 3 -> 64 layer
  // 2.2 vs 4.4 ms: 37 KB of weights per pixel block no longer fit L1 beside the input rows;
  // MobileNetV2's 3 -> 32 layer 305 vs 368 us).
  static constexpr int64_t kMaxChannels = 1;

  // Whether this kernel runs `s`: 2-D, one group, at most kMaxChannels input channels.
  static bool fits(const ConvShapes& s);

  // `weights` [maps, channels, kh, kw] as ONNX stores them, packed once here.
  FewChannelConv(const float* weights, int64_t maps, int64_t channels, int64_t kernel_h, int64_t kernel_w);

  // The work memory run() needs for `s` (the padded input).
  size_t scratch_bytes(const ConvShapes& s) const;

  // Y = activation(Conv(X) + bias + residual), X [N, H, W, C] and Y (and the residual, when
  // not null) [N, OH, OW, M]; `bias` [M] or null; `scratch` holds scratch_bytes(s) bytes.
  void run(const ConvShapes& s, const float* x, const float* bias, const float* residual, float* y,
           const FusedActivation& activation, void* scratch, int threads) const;

 private:
  int64_t maps_, channels_, kernel_h_, kernel_w_;
  int64_t padded_maps_;        // maps rounded up to a whole vector
  std::vector<float> packed_;  // [kh][kw][c][padded_maps_], zero past the last map
};

}  // namespace onyx
