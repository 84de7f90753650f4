// Meaning of the signal ops (DFT, STFT, the windows, MelWeightMatrix) shared by their shape
// rules and CPU kernels.
#pragma once

#include <string_view>

#include "runtime/tensor/tensor.h"

namespace onyx {

// The DFT axis normalized to [0, rank-2]: the last dim holds the (real, imag) pair and cannot
// be transformed. Throws when out of range.
int64_t dft_axis(int64_t axis, size_t rank);

// Default transform length: the axis length, or 2*(len-1) for an inverse one-sided (irfft) DFT.
int64_t dft_default_length(int64_t axis_length, bool inverse, bool onesided);

// Output shape of DFT: the axis becomes n (n/2+1 when one-sided forward); the last dim is 2, or
// 1 for an inverse one-sided transform, whose output is real.
Shape dft_output_shape(const Shape& input, int64_t axis, int64_t n, bool inverse, bool onesided);

// Reads a scalar (or one-element) integer input such as dft_length or frame_step.
int64_t signal_scalar_int(const Tensor& t, std::string_view op, std::string_view what);

}  // namespace onyx
