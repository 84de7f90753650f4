// Host-side helpers of the CUDA kernel classes: the run's stream, dtype checks with uniform
// messages, and reading small host inputs.
#pragma once

#include <cuda_runtime_api.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "providers/cuda/cuda_provider.h"
#include "providers/kernel.h"

namespace onyx::cuda {

// The run's state, with the run's device made current on this thread (a session may compute on
// threads that never selected the device; a launch on another device's stream would fail).
inline CudaRunState& run_state_of(KernelContext& context) {
  CudaRunState& state = cuda_run_state(context.device_state());
  int current = -1;
  if (cudaGetDevice(&current) != cudaSuccess || current != state.device) cudaSetDevice(state.device);
  return state;
}
inline cudaStream_t stream_of(KernelContext& context) { return run_state_of(context).stream; }

inline bool is_cuda_float_type(DataType type) {
  return type == DataType::kFloat || type == DataType::kFloat16 || type == DataType::kBFloat16;
}

// The inferred element type of input i (kUndefined when inference could not tell).
DataType inferred_input_type(const KernelInfo& info, size_t input);

// True when input i's inferred type is one of `types` (or unknown: then compute checks it).
bool input_type_in(const KernelInfo& info, size_t input, std::initializer_list<DataType> types);

// kNotImplemented: "CUDA <op> (node <name>): input <i> of type <t> is not supported (supported: ...)".
[[noreturn]] void throw_cuda_unsupported_type(const KernelInfo& info, size_t input, const std::string& supported);
[[noreturn]] void throw_cuda_unsupported_type(const Node& node, size_t input, DataType type,
                                              const std::string& supported);

// Checks a value's element type at compute time, for inputs whose type inference left open.
void check_cuda_input_type(const Node& node, size_t input, DataType type, std::initializer_list<DataType> types,
                           const std::string& supported);

// Reads a host input of integers (shape, axes, pads, repeats); throws when it sits on the device
// (the kernel's registration must list it in InputMemory::host).
std::vector<int64_t> host_int64s(const Tensor& tensor, const Node& node, size_t input);
// Reads a one-element host input as float (Clip's min/max).
float host_scalar_as_float(const Tensor& tensor, const Node& node, size_t input);

// Bytes per element for the width-generic copy kernels (1, 2, 4, 8); throws kNotImplemented
// naming the node otherwise (strings, packed sub-byte types, complex128).
int cuda_element_width(const Node& node, size_t input, DataType type);
// Same check on the inferred type at kernel creation (true when unknown).
bool cuda_copyable_type(const KernelInfo& info, size_t input);

// A float attribute (Pad's value, Resize's extrapolation_value) as the bytes of one element of
// `type`, for the width-generic kernels.
uint64_t cuda_element_bits(const Node& node, DataType type, float value);

}  // namespace onyx::cuda
