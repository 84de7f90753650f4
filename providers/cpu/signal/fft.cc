#include "providers/cpu/signal/fft.h"

#include <cmath>
#include <numbers>
#include <utility>

#include "runtime/common/error.h"

namespace onyx {
namespace {

int64_t next_power_of_two(int64_t n) {
  int64_t m = 1;
  while (m < n) m <<= 1;
  return m;
}

// e^{-2*pi*i*num/den} with the phase reduced first so large arguments keep full precision.
Complex unit_root(int64_t num, int64_t den) {
  const double angle = -2.0 * std::numbers::pi * static_cast<double>(num % den) /
                       static_cast<double>(den);
  return {std::cos(angle), std::sin(angle)};
}

}  // namespace

FftPlan::FftPlan(int64_t n) : n_(n) {
  ONYX_CHECK(n >= 1, ErrorCode::kInvalidArgument, "FFT length must be positive, got ", n);
  bluestein_ = (n & (n - 1)) != 0;
  m_ = bluestein_ ? next_power_of_two(2 * n - 1) : n;
  twiddles_.resize(static_cast<size_t>(m_ / 2));
  for (int64_t k = 0; k < m_ / 2; ++k) twiddles_[k] = unit_root(k, m_);
  if (!bluestein_) return;
  // jk = (j^2 + k^2 - (k-j)^2) / 2 turns the DFT into a convolution with the chirp.
  chirp_.resize(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) chirp_[k] = unit_root((k * k) % (2 * n), 2 * n);
  filter_.assign(static_cast<size_t>(m_), Complex(0.0, 0.0));
  filter_[0] = std::conj(chirp_[0]);
  for (int64_t k = 1; k < n; ++k) filter_[k] = filter_[m_ - k] = std::conj(chirp_[k]);
  radix2(filter_.data(), false);
}

void FftPlan::radix2(Complex* a, bool inverse) const {
  const int64_t m = m_;
  for (int64_t i = 1, j = 0; i < m; ++i) {
    int64_t bit = m >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (int64_t len = 2; len <= m; len <<= 1) {
    const int64_t half = len / 2, stride = m / len;
    for (int64_t start = 0; start < m; start += len) {
      for (int64_t k = 0; k < half; ++k) {
        Complex w = twiddles_[k * stride];
        if (inverse) w = std::conj(w);
        const Complex u = a[start + k];
        const Complex v = a[start + k + half] * w;
        a[start + k] = u + v;
        a[start + k + half] = u - v;
      }
    }
  }
}

void FftPlan::run(Complex* data, bool inverse, Complex* scratch) const {
  if (!bluestein_) {
    radix2(data, inverse);
    return;
  }
  // The inverse transform is the conjugate of the forward transform of the conjugate.
  for (int64_t k = 0; k < n_; ++k) {
    const Complex x = inverse ? std::conj(data[k]) : data[k];
    scratch[k] = x * chirp_[k];
  }
  for (int64_t k = n_; k < m_; ++k) scratch[k] = Complex(0.0, 0.0);
  radix2(scratch, false);
  for (int64_t k = 0; k < m_; ++k) scratch[k] *= filter_[k];
  radix2(scratch, true);
  const double scale = 1.0 / static_cast<double>(m_);
  for (int64_t k = 0; k < n_; ++k) {
    const Complex y = scratch[k] * chirp_[k] * scale;
    data[k] = inverse ? std::conj(y) : y;
  }
}

}  // namespace onyx
