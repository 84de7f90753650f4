#include "providers/cpu/cpu_precision.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <oneapi/dnnl/dnnl.hpp>

namespace onyx {

bool cpu_supports_bf16() {
  const char* pretend = std::getenv("ONYX_PRETEND_NO_BF16");
  if (pretend && std::strcmp(pretend, "") != 0 && std::strcmp(pretend, "0") != 0) return false;
  // oneDNN's ISA levels are bit masks, each including the ones below it.
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (isa & bf16) == bf16;
}

Precision resolve_precision(Precision requested) {
  if (requested != Precision::kBf16 || cpu_supports_bf16()) return requested;
  static std::atomic<bool> told{false};
  if (!told.exchange(true)) {
    std::cerr << "onyx: precision bf16 needs a CPU with avx512_bf16, which this one lacks: running fp32\n";
  }
  return Precision::kFp32;
}

}  // namespace onyx
