// The logistic function and SiLU (x * logistic(x), "Swish") over float arrays, in place.
//
// oneDNN 2.6's swish post-op costs a convolution more than the convolution itself on some
// CPUs (an expand layer of EfficientNet: 0.07 ms of convolution, 0.12 ms of swish, on a Zen 4),
// and the loop over std::exp does not vectorize. These loops evaluate exp with a degree-6
// polynomial after a power-of-two range reduction (AVX-512's scalef), then divide: within a
// few ulp of the double-precision result, NaN and infinities propagated.
#pragma once

#include <cstdint>

namespace onyx {

void logistic_in_place(float* y, int64_t count);  // y = 1 / (1 + exp(-y))
void silu_in_place(float* y, int64_t count);      // y = y / (1 + exp(-y))

}  // namespace onyx
