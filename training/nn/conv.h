// Conv2d with torch's layout: W [out, in / groups, kh, kw], b [out]; input NCHW. One ONNX Conv.
#pragma once

#include <array>

#include "training/nn/init.h"
#include "training/nn/module.h"

namespace onyx::nn {

struct Conv2dOptions {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};  // zeros on both sides of each spatial dim
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
  Initializer weight_init;  // default: torch's fan-in uniform
  Initializer bias_init;
};

class Conv2d : public Layer {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, std::array<int64_t, 2> kernel_size, Conv2dOptions options = {});
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Conv2dOptions options = {})
      : Conv2d(in_channels, out_channels, {kernel_size, kernel_size}, std::move(options)) {}

  Parameter& weight() { return *weight_; }
  Parameter* bias() { return bias_; }

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  Conv2dOptions options_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
};

}  // namespace onyx::nn
