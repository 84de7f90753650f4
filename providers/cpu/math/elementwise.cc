#include "providers/cpu/math/elementwise.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace onyx {

void half_to_float(const Float16* in, float* out, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
#endif
  for (; i < n; ++i) out[i] = static_cast<float>(in[i]);
}

void float_to_half(const float* in, Float16* out, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
#endif
  for (; i < n; ++i) out[i] = Float16(in[i]);
}

LegacyBroadcast::LegacyBroadcast(const KernelInfo& info) {
  if (info.opset() >= 7) return;
  active_ = true;
  broadcast_ = info.attributes().get_int("broadcast", 0) != 0;
  has_axis_ = info.attributes().has("axis");
  axis_ = info.attributes().get_int("axis", 0);
}

Tensor LegacyBroadcast::adapt(const Tensor& a, const Tensor& b, std::string_view op) const {
  if (!active_) return b;
  if (!broadcast_) {
    ONYX_CHECK(a.shape() == b.shape(), ErrorCode::kInvalidArgument, op, ": shapes ",
               shape_to_string(a.shape()), " and ", shape_to_string(b.shape()),
               " differ and attribute broadcast is 0");
    return b;
  }
  const int64_t rank_a = static_cast<int64_t>(a.rank());
  const int64_t rank_b = static_cast<int64_t>(b.rank());
  int64_t axis = has_axis_ ? axis_ : rank_a - rank_b;
  if (axis < 0 && has_axis_) axis += rank_a;
  ONYX_CHECK(axis >= 0 && axis + rank_b <= rank_a, ErrorCode::kInvalidArgument, op,
             ": legacy broadcast of shape ", shape_to_string(b.shape()), " into ",
             shape_to_string(a.shape()), " at axis ", axis_, " is out of range");
  Shape shape(static_cast<size_t>(rank_a - axis), 1);
  for (int64_t d = 0; d < rank_b; ++d) {
    ONYX_CHECK(b.dim(d) == 1 || b.dim(d) == a.dim(axis + d), ErrorCode::kInvalidArgument, op,
               ": legacy broadcast of shape ", shape_to_string(b.shape()), " into ",
               shape_to_string(a.shape()), " at axis ", axis, " does not match");
    shape[d] = b.dim(d);
  }
  return b.reshaped(shape);
}

}  // namespace onyx
