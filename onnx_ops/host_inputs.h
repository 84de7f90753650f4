// Inputs that carry shapes, axes, pads, counts or bounds: small integer (or scalar) tensors
// that a device kernel reads on the host to decide what to launch (Reshape's shape, Slice's
// starts/ends/axes/steps, Resize's sizes, a Reduce's axes, TopK's k). The partitioner keeps
// these on the host for every device provider, together with what a kernel adds in its
// KernelDef::input_memory, so the Shape -> Gather -> Concat chains feeding them stay on the CPU
// and nothing crosses the bus twice.
#pragma once

#include <cstddef>
#include <string>

namespace onyx {

bool is_host_input(const std::string& domain, const std::string& op_type, size_t input);

}  // namespace onyx
