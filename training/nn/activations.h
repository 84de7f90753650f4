// Activation layers and Flatten, each one ONNX op, for use in Sequential (in a custom forward,
// call the ops directly: ops::relu(x)).
#pragma once

#include "training/nn/module.h"

namespace onyx::nn {

class ReLU : public Layer {
 public:
  ReLU() : Layer("ReLU") {}

 protected:
  Tensor forward(const Tensor& x) override;
};

class LeakyReLU : public Layer {
 public:
  explicit LeakyReLU(float negative_slope = 0.01f) : Layer("LeakyReLU"), slope_(negative_slope) {}

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  float slope_;
};

class Sigmoid : public Layer {
 public:
  Sigmoid() : Layer("Sigmoid") {}

 protected:
  Tensor forward(const Tensor& x) override;
};

class Tanh : public Layer {
 public:
  Tanh() : Layer("Tanh") {}

 protected:
  Tensor forward(const Tensor& x) override;
};

class GELU : public Layer {
 public:
  explicit GELU(bool tanh_approximation = false) : Layer("GELU"), tanh_(tanh_approximation) {}

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  bool tanh_;
};

class Softmax : public Layer {
 public:
  explicit Softmax(int64_t axis = -1) : Layer("Softmax"), axis_(axis) {}

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  int64_t axis_;
};

class LogSoftmax : public Layer {
 public:
  explicit LogSoftmax(int64_t axis = -1) : Layer("LogSoftmax"), axis_(axis) {}

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  int64_t axis_;
};

// Keeps dims before `start_dim` and joins the rest (torch.nn.Flatten's default start_dim 1).
class Flatten : public Layer {
 public:
  explicit Flatten(int64_t start_dim = 1) : Layer("Flatten"), start_dim_(start_dim) {}

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  int64_t start_dim_;
};

}  // namespace onyx::nn
