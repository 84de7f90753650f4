#include "training/nn/activations.h"

#include "runtime/eager/eager.h"

namespace onyx::nn {

Tensor ReLU::forward(const Tensor& x) { return ops::relu(x); }
Tensor LeakyReLU::forward(const Tensor& x) { return ops::leaky_relu(x, {.alpha = slope_}); }
Tensor Sigmoid::forward(const Tensor& x) { return ops::sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return ops::tanh(x); }
Tensor GELU::forward(const Tensor& x) {
  return ops::gelu(x, {.approximate = std::string(tanh_ ? "tanh" : "none")});
}
Tensor Softmax::forward(const Tensor& x) { return ops::softmax(x, {.axis = axis_}); }
Tensor LogSoftmax::forward(const Tensor& x) { return ops::log_softmax(x, {.axis = axis_}); }
Tensor Flatten::forward(const Tensor& x) { return ops::flatten(x, {.axis = start_dim_}); }

}  // namespace onyx::nn
