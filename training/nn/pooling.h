// Pooling over NCHW inputs: MaxPool2d, AvgPool2d (torch's count_include_pad = true by default)
// and GlobalAvgPool2d (N, C, 1, 1). Each is one ONNX pooling op.
#pragma once

#include <array>

#include "training/nn/module.h"

namespace onyx::nn {

struct Pool2dOptions {
  std::array<int64_t, 2> stride{0, 0};  // 0: the kernel size (torch's default)
  std::array<int64_t, 2> padding{0, 0};
  bool ceil_mode = false;
  bool count_include_pad = true;  // AvgPool2d
};

class MaxPool2d : public Layer {
 public:
  MaxPool2d(std::array<int64_t, 2> kernel_size, Pool2dOptions options = {});
  explicit MaxPool2d(int64_t kernel_size, Pool2dOptions options = {}) : MaxPool2d({kernel_size, kernel_size}, options) {}

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  std::array<int64_t, 2> kernel_;
  Pool2dOptions options_;
};

class AvgPool2d : public Layer {
 public:
  AvgPool2d(std::array<int64_t, 2> kernel_size, Pool2dOptions options = {});
  explicit AvgPool2d(int64_t kernel_size, Pool2dOptions options = {}) : AvgPool2d({kernel_size, kernel_size}, options) {}

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  std::array<int64_t, 2> kernel_;
  Pool2dOptions options_;
};

class GlobalAvgPool2d : public Layer {
 public:
  GlobalAvgPool2d() : Layer("GlobalAvgPool2d") {}

 protected:
  Tensor forward(const Tensor& x) override;
};

}  // namespace onyx::nn
