// BatchNorm (over dim 1 of an (N, C, ...) input: torch's BatchNorm1d/2d/3d in one) and
// LayerNorm. BatchNorm's running statistics are buffers that training-mode calls update as
// torch does: momentum weighs the batch statistic, and the running variance takes the batch's
// unbiased variance (ONNX's BatchNormalization, which computes the step, keeps the population
// one; the layer corrects its output).
#pragma once

#include <vector>

#include "training/nn/module.h"

namespace onyx::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;  // learnable weight and bias (else fixed ones and zeros)
};

class BatchNorm : public Layer {
 public:
  explicit BatchNorm(int64_t num_features, BatchNormOptions options = {});

  Tensor& running_mean() { return *running_mean_; }
  Tensor& running_var() { return *running_var_; }

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  BatchNormOptions options_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
  Tensor fixed_scale_;
  Tensor fixed_shift_;
  Tensor* running_mean_ = nullptr;
  Tensor* running_var_ = nullptr;
};

// Normalizes over the trailing dims `normalized_shape` (torch.nn.LayerNorm).
class LayerNorm : public Layer {
 public:
  explicit LayerNorm(std::vector<int64_t> normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  explicit LayerNorm(int64_t features, double eps = 1e-5) : LayerNorm(std::vector<int64_t>{features}, eps) {}

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  std::vector<int64_t> normalized_shape_;
  double eps_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
  Tensor fixed_scale_;
  Tensor fixed_shift_;
};

}  // namespace onyx::nn
