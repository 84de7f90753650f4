#include "providers/cpu/activation/logistic_loops.h"

#include <cmath>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace onyx {

namespace {

#ifdef __AVX512F__
// exp(x): x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for precision), exp(r) by the
// Cephes polynomial, times 2^n. Clamped to [-104, 89]: below, exp is 0 in float; above, 2^128
// makes it infinite, as std::exp overflows (so -inf / (1 + exp(inf)) is NaN, as in the tail loop).
inline __m512 exp_of(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.f)), _mm512_set1_ps(89.f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.4426950408889634f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
  return _mm512_scalef_ps(_mm512_add_ps(p, _mm512_set1_ps(1.f)), n);
}

// 1 + exp(-x). A NaN x stays NaN in the callers' numerator (silu) or through the clamp's
// operand order (min/max return their second operand, the bound, for a NaN: so logistic
// restores NaNs explicitly).
inline __m512 one_plus_exp_of_minus(__m512 x) {
  return _mm512_add_ps(exp_of(_mm512_sub_ps(_mm512_setzero_ps(), x)), _mm512_set1_ps(1.f));
}
#endif

}  // namespace

void logistic_in_place(float* y, int64_t count) {
  int64_t i = 0;
#ifdef __AVX512F__
  for (; i + 16 <= count; i += 16) {
    const __m512 x = _mm512_loadu_ps(y + i);
    __m512 result = _mm512_div_ps(_mm512_set1_ps(1.f), one_plus_exp_of_minus(x));
    const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    result = _mm512_mask_mov_ps(result, nan, x);
    _mm512_storeu_ps(y + i, result);
  }
#endif
  for (; i < count; ++i) y[i] = 1.f / (1.f + std::exp(-y[i]));
}

void silu_in_place(float* y, int64_t count) {
  int64_t i = 0;
#ifdef __AVX512F__
  for (; i + 16 <= count; i += 16) {
    const __m512 x = _mm512_loadu_ps(y + i);
    _mm512_storeu_ps(y + i, _mm512_div_ps(x, one_plus_exp_of_minus(x)));
  }
#endif
  for (; i < count; ++i) y[i] = y[i] / (1.f + std::exp(-y[i]));
}

}  // namespace onyx
