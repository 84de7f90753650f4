// Whether this CPU can run a session's requested precision (providers/precision.h), and the
// fallback when it cannot: bf16 needs avx512_bf16 (oneDNN's avx512_core_bf16 ISA level; oneDNN
// 2.6's bf16 primitives without it are reference loops, far slower than fp32).
#pragma once

#include "providers/precision.h"

namespace onyx {

// True when oneDNN runs bf16 convolutions and matmuls natively here. The environment variable
// ONYX_PRETEND_NO_BF16=1 makes it false, so the fallback can be tested on any machine.
bool cpu_supports_bf16();

// The precision a session runs at: `requested`, or fp32 with a one-line notice on stderr (once
// per process) when the CPU lacks the instructions.
Precision resolve_precision(Precision requested);

}  // namespace onyx
