// Portable GEMM loops for the integer MatMul and Gemm (no BLAS serves them; the float types go
// through gemm_library.h). Row-major, inner loop over contiguous output columns so it
// vectorizes; integers wrap like two's complement instead of overflowing into UB.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "providers/cpu/math/elementwise.h"

namespace onyx {

template <typename T, typename = void>
struct GemmAcc {
  using type = ComputeType<T>;
};
template <typename T>
struct GemmAcc<T, std::enable_if_t<std::is_integral_v<T>>> {
  using type = std::make_unsigned_t<std::conditional_t<(sizeof(T) < 4), int32_t, T>>;
};
// The type a GEMM accumulates in: float for 16-bit floats, unsigned (wrapping) for integers.
template <typename T>
using GemmAccType = typename GemmAcc<T>::type;

// acc[m, n] = sum_k A[m, k] * B[k, n] for rows [row_begin, row_end); A is (M, K) or its
// transpose, B is (K, N) or its transpose. `acc` has N entries per row.
template <typename T>
void gemm_rows(const T* a, const T* b, GemmAccType<T>* acc, int64_t row_begin, int64_t row_end,
               int64_t m, int64_t k, int64_t n, bool trans_a, bool trans_b) {
  using Acc = GemmAccType<T>;
  for (int64_t i = row_begin; i < row_end; ++i) {
    Acc* out = acc + (i - row_begin) * n;
    if (trans_b && !trans_a) {  // both operands contiguous along k: dot products
      const T* arow = a + i * k;
      for (int64_t j = 0; j < n; ++j) {
        const T* brow = b + j * k;
        Acc sum = Acc(0);
        for (int64_t p = 0; p < k; ++p) sum += static_cast<Acc>(load(arow[p])) * static_cast<Acc>(load(brow[p]));
        out[j] = sum;
      }
      continue;
    }
    for (int64_t j = 0; j < n; ++j) out[j] = Acc(0);
    for (int64_t p = 0; p < k; ++p) {
      const Acc x = static_cast<Acc>(load(trans_a ? a[p * m + i] : a[i * k + p]));
      if (trans_b) {
        for (int64_t j = 0; j < n; ++j) out[j] += x * static_cast<Acc>(load(b[j * k + p]));
      } else {
        const T* brow = b + p * n;
        for (int64_t j = 0; j < n; ++j) out[j] += x * static_cast<Acc>(load(brow[j]));
      }
    }
  }
}

// C = A * B for one batch, parallel over rows.
template <typename T>
void gemm_plain(const T* a, const T* b, T* c, int64_t m, int64_t k, int64_t n, bool trans_a,
                bool trans_b, int threads) {
  using Acc = GemmAccType<T>;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n * k));
  parallel_for(m, grain, threads, [&](int64_t begin, int64_t end) {
    std::vector<Acc> acc(static_cast<size_t>(n));
    for (int64_t i = begin; i < end; ++i) {
      gemm_rows(a, b, acc.data(), i, i + 1, m, k, n, trans_a, trans_b);
      for (int64_t j = 0; j < n; ++j) c[i * n + j] = convert_to<T>(acc[j]);
    }
  });
}

}  // namespace onyx
