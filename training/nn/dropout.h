// Dropout: in training mode zeroes each element with probability p and scales the rest by
// 1 / (1 - p); in eval mode it is the identity. It runs com.onyx.training::SeededDropout, the
// op training graphs use, with a seed drawn per call from the layer's own generator (seeded
// from the global one, nn::manual_seed), so runs repeat exactly. Inside a traced training step
// the seed is a graph input the step feeds with a fresh draw per run (random_seeds.h).
#pragma once

#include "runtime/common/portable_random.h"
#include "training/nn/module.h"

namespace onyx::nn {

class Dropout : public Layer {
 public:
  explicit Dropout(double p = 0.5);

 protected:
  Tensor forward(const Tensor& x) override;

 private:
  double p_;
  portable_random::Engine engine_;
};

}  // namespace onyx::nn
