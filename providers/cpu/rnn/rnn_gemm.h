// The small products of a recurrent kernel: out = init + A x B with B stored transposed-packed
// ([k, n] row-major, n contiguous) once per session. A step's product is a few rows (the
// batch) by a few hundred columns (the gates) over the hidden size: general GEMMs spend more
// time packing and blocking such shapes than multiplying, so this keeps a block of output
// packets per row in registers and streams B through them, two rows sharing each load.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace onyx::rnn {

namespace detail {

// Rows [0, R) of columns [c, c + NB packets): acc = init (or 0) + sum_p a[r, p] * bt[p, c:].
template <typename C, int R, int NB>
inline void gemm_block(int64_t c, int64_t k, const C* a, int64_t lda, const C* bt, int64_t ldb,
                       const C* init, int64_t ldi, C* out, int64_t ldo) {
  using namespace Eigen::internal;
  using P = typename packet_traits<C>::type;
  constexpr int PS = unpacket_traits<P>::size;
  P acc[R][NB];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NB; ++j)
      acc[r][j] = init ? ploadu<P>(init + r * ldi + c + j * PS) : pset1<P>(C(0));
  for (int64_t p = 0; p < k; ++p) {
    P b[NB];
    for (int j = 0; j < NB; ++j) b[j] = ploadu<P>(bt + p * ldb + c + j * PS);
    for (int r = 0; r < R; ++r) {
      const P av = pset1<P>(a[r * lda + p]);
      for (int j = 0; j < NB; ++j) acc[r][j] = pmadd(av, b[j], acc[r][j]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NB; ++j) pstoreu(out + r * ldo + c + j * PS, acc[r][j]);
}

template <typename C, int R>
inline void gemm_rows(int64_t n, int64_t k, const C* a, int64_t lda, const C* bt, int64_t ldb,
                      const C* init, int64_t ldi, C* out, int64_t ldo) {
  using P = typename Eigen::internal::packet_traits<C>::type;
  constexpr int PS = Eigen::internal::unpacket_traits<P>::size;
  constexpr int NB = 4;  // 4 packets x 2 rows = 8 accumulators: registers to spare on AVX2
  int64_t c = 0;
  for (; c + NB * PS <= n; c += NB * PS) gemm_block<C, R, NB>(c, k, a, lda, bt, ldb, init, ldi, out, ldo);
  for (; c + PS <= n; c += PS) gemm_block<C, R, 1>(c, k, a, lda, bt, ldb, init, ldi, out, ldo);
  for (; c < n; ++c) {
    for (int r = 0; r < R; ++r) {
      C acc = init ? init[r * ldi + c] : C(0);
      for (int64_t p = 0; p < k; ++p) acc += a[r * lda + p] * bt[p * ldb + c];
      out[r * ldo + c] = acc;
    }
  }
}

}  // namespace detail

// out[i, 0:n] = init[i, 0:n] + sum_p a[i, p] * bt[p, 0:n] for i < m; init null means zeros.
// `init` may be `out` itself (same strides): each output value is read before it is written.
// Summation order is fixed (p ascending) whatever m, so one row's result does not depend on
// which other rows share its call.
template <typename C>
void packed_gemm(int64_t m, int64_t n, int64_t k, const C* a, int64_t lda, const C* bt, int64_t ldb,
                 const C* init, int64_t ldi, C* out, int64_t ldo) {
  int64_t i = 0;
  for (; i + 2 <= m; i += 2) {
    detail::gemm_rows<C, 2>(n, k, a + i * lda, lda, bt, ldb, init ? init + i * ldi : nullptr, ldi,
                            out + i * ldo, ldo);
  }
  if (i < m) {
    detail::gemm_rows<C, 1>(n, k, a + i * lda, lda, bt, ldb, init ? init + i * ldi : nullptr, ldi,
                            out + i * ldo, ldo);
  }
}

}  // namespace onyx::rnn
