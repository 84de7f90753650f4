// Linear (Keras Dense): y = x W^T + b with torch's layout, W [out, in], b [out]. With
// in_features omitted the layer is lazy: W is created at the first call from x's last dim.
#pragma once

#include <optional>

#include "training/nn/init.h"
#include "training/nn/module.h"

namespace onyx::nn {

struct LinearOptions {
  bool bias = true;
  Initializer weight_init;  // default: torch's fan-in uniform
  Initializer bias_init;    // default: torch's fan-in uniform
};

class Linear : public Layer {
 public:
  Linear(int64_t in_features, int64_t out_features, LinearOptions options = {});
  // Lazy: in_features comes from the first input.
  explicit Linear(int64_t out_features, LinearOptions options = {});

  Parameter& weight() { return *weight_; }
  Parameter* bias() { return bias_; }

 protected:
  Tensor forward(const Tensor& x) override;
  void build(const Tensor& x) override;

 private:
  void create(int64_t in_features);

  int64_t out_features_;
  LinearOptions options_;
  Parameter* weight_ = nullptr;
  Parameter* bias_ = nullptr;
};

}  // namespace onyx::nn
