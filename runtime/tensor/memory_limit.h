// The session's allocation limit: the most bytes one tensor may take (SessionOptions::memory_limit,
// `onyx ... --memory-limit`), by default the machine's physical memory. A model asking for more
// fails naming the node, the output and both byte counts, instead of ending in std::bad_alloc, a
// wrapped size or the kernel's OOM killer.
#pragma once

#include <cstddef>
#include <string>

#include "runtime/tensor/shape_arithmetic.h"

namespace onyx {

// Physical memory from sysconf; 0 when the system does not say.
size_t physical_memory_bytes();
// The limit a session gets when its options leave it 0: physical memory (or 2^62 when unknown).
size_t default_memory_limit();
// Throws kRuntimeFailure "output <index> needs N bytes, over the limit of L bytes" when a `type`
// tensor of `shape` would take more than `limit` bytes (N exact, even past 64 bits). Shapes with
// negative dims pass, so that allocation reports them as such.
void check_output_within_limit(size_t output_index, DataType type, const Shape& shape, size_t limit);
// The same for any tensor: "<what> needs N bytes, over the limit of L bytes ...".
void check_tensor_within_limit(std::string_view what, DataType type, const Shape& shape, size_t limit);

}  // namespace onyx
