// The arithmetic precision a session asks its kernels for (SessionOptions::precision, the CLI's
// `--precision`). fp32 is exact ONNX semantics; bf16 is opt-in: the CPU provider runs its
// convolutions and matrix products (Conv/NhwcConv, MatMul, Gemm, FusedMatMul) on oneDNN with
// bf16 weights and inputs, accumulating and writing float, where the CPU has avx512_bf16
// (providers/cpu/cpu_precision.h resolves the request and falls back otherwise). Every other
// op, and every value between ops, stays float.
#pragma once

#include <optional>
#include <string_view>

namespace onyx {

enum class Precision { kFp32, kBf16 };

const char* precision_name(Precision precision);  // "fp32", "bf16"
std::optional<Precision> parse_precision(std::string_view name);

}  // namespace onyx
