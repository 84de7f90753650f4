// Launchers of the CUDA kernels that make tensors from host scalars (generate.cu):
// ConstantOfShape's fill and Range's arithmetic sequence.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace onyx::cuda {

// output[i] = the element whose bytes are the low `element_bytes` bytes of `value_bits`.
void launch_fill(int element_bytes, void* output, int64_t count, uint64_t value_bits, cudaStream_t stream);

// output[i] = start + i * delta, computed in the element type (as the CPU kernel does).
enum class RangeElement { kFloat, kDouble, kInt16, kInt32, kInt64 };
void launch_range(RangeElement element, void* output, int64_t count, double start, double delta, int64_t start_int,
                  int64_t delta_int, cudaStream_t stream);

}  // namespace onyx::cuda
