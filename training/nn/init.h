// Parameter initializers (torch.nn.init / Keras initializers): each makes a float tensor of a
// shape from its fans. Draws go through runtime/common/portable_random.h, so a seed gives the
// same values with every standard library. An initializer given a seed makes the same values
// at every call (Keras' seeded initializers); without one it draws a fresh seed from the global
// generator, which manual_seed resets, so a whole model's initial weights follow from one seed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "runtime/tensor/tensor.h"

namespace onyx::nn {

// fan_in / fan_out of a weight as torch computes them: dim 1 (dim 0) times the receptive field
// (the product of dims 2...); a 1-d tensor has both equal to its size.
struct Fans {
  int64_t in = 1;
  int64_t out = 1;
};
Fans fans_of(const Shape& weight_shape);

using Initializer = std::function<Tensor(const Shape& shape, const Fans& fans)>;

// Resets the global generator that unseeded initializers (and Dropout) draw their seeds from.
void manual_seed(uint64_t seed);
uint64_t next_seed();

Initializer zeros_init();
Initializer ones_init();
Initializer constant_init(double value);
Initializer uniform_init(double low, double high, std::optional<uint64_t> seed = std::nullopt);
Initializer normal_init(double mean, double stddev, std::optional<uint64_t> seed = std::nullopt);
// Glorot (Xavier): uniform in +-sqrt(6 / (in + out)), normal with std sqrt(2 / (in + out)).
Initializer glorot_uniform(std::optional<uint64_t> seed = std::nullopt);
Initializer glorot_normal(std::optional<uint64_t> seed = std::nullopt);
// He (Kaiming, for ReLU): uniform in +-sqrt(6 / in), normal with std sqrt(2 / in).
Initializer he_uniform(std::optional<uint64_t> seed = std::nullopt);
Initializer he_normal(std::optional<uint64_t> seed = std::nullopt);
// torch's default for Linear and Conv weights and biases: uniform in +-1/sqrt(in).
Initializer fan_in_uniform(std::optional<uint64_t> seed = std::nullopt);

}  // namespace onyx::nn
