// Complex FFT in double precision for the signal kernels (DFT, STFT). Power-of-two lengths use
// an iterative radix-2 transform; other lengths use Bluestein's chirp-z algorithm on top of it,
// so every length costs O(n log n) and stays accurate (twiddles are computed from exact integer
// phases, never accumulated).
#pragma once

#include <complex>
#include <cstdint>
#include <vector>

namespace onyx {

using Complex = std::complex<double>;

class FftPlan {
 public:
  explicit FftPlan(int64_t n);  // n >= 1

  int64_t size() const { return n_; }
  // Complex values `run` needs as scratch.
  int64_t scratch_size() const { return bluestein_ ? m_ : 0; }
  // In-place unscaled transform of size() values: sign -1 forward, +1 when `inverse`.
  void run(Complex* data, bool inverse, Complex* scratch) const;

 private:
  void radix2(Complex* a, bool inverse) const;

  int64_t n_;
  int64_t m_;              // power-of-two length of the inner radix-2 transform
  bool bluestein_;
  std::vector<Complex> twiddles_;   // e^{-2*pi*i*k/m}, k < m/2
  std::vector<Complex> chirp_;      // Bluestein: e^{-pi*i*k^2/n}, k < n
  std::vector<Complex> filter_;     // Bluestein: FFT of the conjugate chirp filter, length m
};

}  // namespace onyx
