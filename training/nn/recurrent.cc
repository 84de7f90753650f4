#include "training/nn/recurrent.h"

#include <cmath>

#include "runtime/common/error.h"
#include "runtime/eager/eager.h"
#include "training/nn/init.h"
#include "training/nn/layer_helpers.h"

namespace onyx::nn {

RecurrentLayer::RecurrentLayer(const char* type, int64_t gates, int64_t input_size, int64_t hidden_size,
                               RecurrentOptions options)
    : Layer(type), input_size_(input_size), hidden_size_(hidden_size), has_cell_state_(gates == 4) {
  ONYX_CHECK(input_size > 0 && hidden_size > 0 && options.num_layers > 0, ErrorCode::kInvalidArgument, type,
             ": input_size, hidden_size and num_layers must be positive");
  // torch: every weight and bias uniform in +-1/sqrt(hidden_size).
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  Initializer init = uniform_init(-bound, bound);
  for (int64_t k = 0; k < options.num_layers; ++k) {
    const std::string suffix = "_l" + std::to_string(k);
    const int64_t in = k == 0 ? input_size : hidden_size;
    LayerWeights weights{};
    const Shape ih{gates * hidden_size, in}, hh{gates * hidden_size, hidden_size}, b{gates * hidden_size};
    weights.weight_ih = &register_parameter("weight_ih" + suffix, init(ih, fans_of(ih)));
    weights.weight_hh = &register_parameter("weight_hh" + suffix, init(hh, fans_of(hh)));
    if (options.bias) {
      weights.bias_ih = &register_parameter("bias_ih" + suffix, init(b, fans_of(b)));
      weights.bias_hh = &register_parameter("bias_hh" + suffix, init(b, fans_of(b)));
    }
    layers_.push_back(weights);
  }
}

Tensor RecurrentLayer::hidden_projection(const LayerWeights& weights, const Tensor& h) const {
  return gemm_transposed_b(h, weights.weight_hh->value, weights.bias_hh ? &weights.bias_hh->value : nullptr);
}

RecurrentOutput RecurrentLayer::run(const Tensor& x, const std::vector<Tensor>& h0, const std::vector<Tensor>& c0) {
  ONYX_CHECK(x.rank() == 3 && (x.dim(2) < 0 || x.dim(2) == input_size_), ErrorCode::kInvalidArgument, type_name(),
             ": input must be [batch, time, ", input_size_, "], got ", shape_to_string(x.shape()));
  const int64_t steps = static_dim(x, 1, type_name().c_str());
  const size_t layer_count = layers_.size();
  ONYX_CHECK(h0.empty() || h0.size() == layer_count, ErrorCode::kInvalidArgument, type_name(), ": ", h0.size(),
             " initial hidden states for ", layer_count, " layers");
  ONYX_CHECK(c0.empty() || c0.size() == layer_count, ErrorCode::kInvalidArgument, type_name(), ": ", c0.size(),
             " initial cell states for ", layer_count, " layers");
  // Zeros shaped [batch, hidden] from the input itself, so a traced batch dim stays dynamic.
  Tensor zero_state;
  if (h0.empty() || (has_cell_state_ && c0.empty())) {
    Tensor first = ops::squeeze(ops::slice(x, int64_list({0}), int64_list({1}), int64_list({1})), int64_list({1}));
    zero_state = ops::matmul(first, zeros(DataType::kFloat, Shape{x.dim(2) > 0 ? x.dim(2) : input_size_, hidden_size_}));
  }
  RecurrentOutput result;
  Tensor sequence = x;
  for (size_t k = 0; k < layer_count; ++k) {
    const LayerWeights& weights = layers_[k];
    // The input projection of every step at once: [batch, time, gates * hidden].
    Tensor projected = ops::matmul(sequence, ops::transpose(weights.weight_ih->value));
    if (weights.bias_ih) projected = projected + weights.bias_ih->value;
    Tensor h = h0.empty() ? zero_state : h0[k];
    Tensor c = has_cell_state_ ? (c0.empty() ? zero_state : c0[k]) : Tensor();
    std::vector<Tensor> outputs;
    for (int64_t t = 0; t < steps; ++t) {
      Tensor x_proj = ops::gather(projected, Tensor::scalar<int64_t>(t), {.axis = 1});
      cell(weights, x_proj, h, c);
      outputs.push_back(ops::unsqueeze(h, int64_list({1})));
    }
    sequence = outputs.size() == 1 ? outputs[0] : ops::concat(outputs, {.axis = 1});
    result.h.push_back(h);
    if (has_cell_state_) result.c.push_back(c);
  }
  result.output = sequence;
  return result;
}

void LSTM::cell(const LayerWeights& weights, const Tensor& x_proj, Tensor& h, Tensor& c) {
  std::vector<Tensor> gates = ops::split(x_proj + hidden_projection(weights, h), 4, {.axis = 1, .num_outputs = 4});
  Tensor input_gate = ops::sigmoid(gates[0]);
  Tensor forget_gate = ops::sigmoid(gates[1]);
  Tensor candidate = ops::tanh(gates[2]);
  Tensor output_gate = ops::sigmoid(gates[3]);
  c = forget_gate * c + input_gate * candidate;
  h = output_gate * ops::tanh(c);
}

void GRU::cell(const LayerWeights& weights, const Tensor& x_proj, Tensor& h, Tensor& c) {
  std::vector<Tensor> xs = ops::split(x_proj, 3, {.axis = 1, .num_outputs = 3});
  std::vector<Tensor> hs = ops::split(hidden_projection(weights, h), 3, {.axis = 1, .num_outputs = 3});
  Tensor reset = ops::sigmoid(xs[0] + hs[0]);
  Tensor update = ops::sigmoid(xs[1] + hs[1]);
  Tensor candidate = ops::tanh(xs[2] + reset * hs[2]);
  h = (1.0 - update) * candidate + update * h;
}

}  // namespace onyx::nn
