// The library paths of MatMul and Gemm for the float types oneDNN's f32 GEMM does not take
// directly: double through Eigen's blocked GEMM, float16 and bfloat16 widened to float (exact)
// and run on the cached f32 primitive, then rounded once. Integers keep gemm_plain.h.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "providers/cpu/math/elementwise.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

// True for the 16-bit float types that are widened to float.
template <typename T>
constexpr bool kWidensToFloat = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

// `count` values of `from` as floats (exact for float16 and bfloat16).
template <typename T>
std::vector<float> widen_to_float(const T* from, int64_t count) {
  std::vector<float> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out[static_cast<size_t>(i)] = static_cast<float>(load(from[i]));
  return out;
}

// A float16/bfloat16 tensor as a float tensor of the same shape.
Tensor widen_tensor_to_float(const Tensor& t);

template <typename T>
void narrow_from_float(const float* from, T* to, int64_t count) {
  for (int64_t i = 0; i < count; ++i) to[i] = convert_to<T>(from[i]);
}

// C = alpha * op(A) * op(B) (+ C when `accumulate`) for one row-major double matrix each:
// A is (M, K) or, transposed, stored (K, M); B is (K, N) or stored (N, K). Eigen's GEMM runs
// on the OpenMP threads the session set.
void gemm_double(const double* a, const double* b, double* c, int64_t m, int64_t k, int64_t n, bool trans_a,
                 bool trans_b, double alpha, bool accumulate);

}  // namespace onyx
