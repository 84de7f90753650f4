// LSTM and GRU with torch's parameter layout and gate order (weight_ih_l<k> [G*H, I],
// weight_hh_l<k> [G*H, H], bias_ih_l<k>, bias_hh_l<k>; LSTM gates i, f, g, o; GRU r, z, n),
// so torch weights load as they are. Each step is composed of eager ops (Gemm, Sigmoid, Tanh,
// Mul, Add), unrolled over the sequence: every op has a gradient rule, so the layers train, and
// a traced or exported model holds the same ops. Inputs are batch-first: [batch, time, features].
#pragma once

#include <vector>

#include "training/nn/module.h"

namespace onyx::nn {

struct RecurrentOptions {
  int64_t num_layers = 1;
  bool bias = true;
};

struct RecurrentOutput {
  Tensor output;              // [batch, time, hidden]: the last layer's h at every step
  std::vector<Tensor> h;      // per layer, the last step's hidden state [batch, hidden]
  std::vector<Tensor> c;      // LSTM only: per layer, the last cell state
};

class RecurrentLayer : public Layer {
 public:
  // Initial states per layer ([batch, hidden]); empty: zeros.
  RecurrentOutput run(const Tensor& x, const std::vector<Tensor>& h0 = {}, const std::vector<Tensor>& c0 = {});
  int64_t hidden_size() const { return hidden_size_; }

 protected:
  RecurrentLayer(const char* type, int64_t gates, int64_t input_size, int64_t hidden_size, RecurrentOptions options);
  Tensor forward(const Tensor& x) override { return run(x).output; }

  struct LayerWeights {
    Parameter* weight_ih;
    Parameter* weight_hh;
    Parameter* bias_ih;
    Parameter* bias_hh;
  };
  // One time step of one layer: input projection x_proj = x W_ih^T + b_ih already made.
  virtual void cell(const LayerWeights& weights, const Tensor& x_proj, Tensor& h, Tensor& c) = 0;
  Tensor hidden_projection(const LayerWeights& weights, const Tensor& h) const;

 private:
  int64_t input_size_;
  int64_t hidden_size_;
  bool has_cell_state_;
  std::vector<LayerWeights> layers_;
};

class LSTM : public RecurrentLayer {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, RecurrentOptions options = {})
      : RecurrentLayer("LSTM", 4, input_size, hidden_size, options) {}

 protected:
  void cell(const LayerWeights& weights, const Tensor& x_proj, Tensor& h, Tensor& c) override;
};

class GRU : public RecurrentLayer {
 public:
  GRU(int64_t input_size, int64_t hidden_size, RecurrentOptions options = {})
      : RecurrentLayer("GRU", 3, input_size, hidden_size, options) {}

 protected:
  void cell(const LayerWeights& weights, const Tensor& x_proj, Tensor& h, Tensor& c) override;
};

}  // namespace onyx::nn
