// CPU kernels of HannWindow, HammingWindow, BlackmanWindow and MelWeightMatrix (opset 17). The
// values are computed in double and converted to output_datatype (float by default).
#include <cmath>
#include <numbers>
#include <vector>

#include "onnx_ops/signal.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

Tensor& write_doubles(KernelContext& ctx, DataType dtype, const Shape& shape,
                      const std::vector<double>& values, std::string_view op) {
  Tensor& out = ctx.output(0, dtype, shape);
  dispatch_dtype_or_throw<NumericTypes>(dtype, op, [&]<typename T>() {
    T* y = out.mutable_data<T>();
    for (size_t i = 0; i < values.size(); ++i) y[i] = convert_to<T>(values[i]);
  });
  return out;
}

enum class WindowKind { kHann, kHamming, kBlackman };

class WindowKernel final : public Kernel {
 public:
  WindowKernel(const KernelInfo& info, WindowKind kind)
      : op_(info.node().op_type), kind_(kind),
        periodic_(info.attributes().get_int("periodic", 1) != 0),
        dtype_(static_cast<DataType>(info.attributes().get_int("output_datatype", 1))) {}

  void compute(KernelContext& ctx) override {
    const int64_t size = signal_scalar_int(ctx.input(0), op_, "size");
    ONYX_CHECK(size >= 0, ErrorCode::kInvalidArgument, op_, ": size must be >= 0, got ", size);
    // A periodic window is the first `size` points of a symmetric one of size+1 points.
    const double denom = static_cast<double>(periodic_ ? size : size - 1);
    std::vector<double> w(static_cast<size_t>(size));
    const double two_pi = 2.0 * std::numbers::pi;
    for (int64_t n = 0; n < size; ++n) {
      const double x = static_cast<double>(n) / denom;
      switch (kind_) {
        case WindowKind::kHann: w[n] = 0.5 - 0.5 * std::cos(two_pi * x); break;
        case WindowKind::kHamming:
          w[n] = 25.0 / 46.0 - (21.0 / 46.0) * std::cos(two_pi * x);
          break;
        case WindowKind::kBlackman:
          w[n] = 0.42 - 0.5 * std::cos(two_pi * x) + 0.08 * std::cos(2.0 * two_pi * x);
          break;
      }
    }
    write_doubles(ctx, dtype_, {size}, w, op_);
  }

 private:
  std::string op_;
  WindowKind kind_;
  bool periodic_;
  DataType dtype_;
};

double scalar_double(const Tensor& t, std::string_view what) {
  ONYX_CHECK(t.element_count() == 1, ErrorCode::kInvalidArgument, "MelWeightMatrix: ", what,
             " must be a scalar, got shape ", shape_to_string(t.shape()));
  return t.element_as_double(0);
}

// Triangular filters between mel-spaced points, following the ONNX reference implementation
// (points snapped to DFT bins with floor((dft_length + 1) * hz / sample_rate)).
class MelWeightMatrixKernel final : public Kernel {
 public:
  explicit MelWeightMatrixKernel(const KernelInfo& info)
      : dtype_(static_cast<DataType>(info.attributes().get_int("output_datatype", 1))) {}

  void compute(KernelContext& ctx) override {
    const int64_t mel_bins = signal_scalar_int(ctx.input(0), "MelWeightMatrix", "num_mel_bins");
    const int64_t dft_length = signal_scalar_int(ctx.input(1), "MelWeightMatrix", "dft_length");
    const double sample_rate = scalar_double(ctx.input(2), "sample_rate");
    const double lower = scalar_double(ctx.input(3), "lower_edge_hertz");
    const double upper = scalar_double(ctx.input(4), "upper_edge_hertz");
    ONYX_CHECK(mel_bins > 0 && dft_length > 0 && sample_rate > 0, ErrorCode::kInvalidArgument,
               "MelWeightMatrix: num_mel_bins (", mel_bins, "), dft_length (", dft_length,
               ") and sample_rate (", sample_rate, ") must be positive");
    ONYX_CHECK(0 <= lower && lower <= upper, ErrorCode::kInvalidArgument,
               "MelWeightMatrix: need 0 <= lower_edge_hertz (", lower, ") <= upper_edge_hertz (",
               upper, ")");
    const int64_t spectrogram_bins = dft_length / 2 + 1;
    const double low_mel = 2595.0 * std::log1p(lower / 700.0) / std::log(10.0);
    const double high_mel = 2595.0 * std::log1p(upper / 700.0) / std::log(10.0);
    const double step = (high_mel - low_mel) / static_cast<double>(mel_bins + 2);
    std::vector<int64_t> points(static_cast<size_t>(mel_bins + 2));
    for (int64_t i = 0; i < mel_bins + 2; ++i) {
      const double mel = static_cast<double>(i) * step + low_mel;
      const double hz = 700.0 * std::expm1(mel / 2595.0 * std::log(10.0));
      points[i] = static_cast<int64_t>(std::floor(static_cast<double>(dft_length + 1) * hz / sample_rate));
      ONYX_CHECK(points[i] >= 0 && points[i] < spectrogram_bins, ErrorCode::kInvalidArgument,
                 "MelWeightMatrix: upper_edge_hertz ", upper, " maps past the ", spectrogram_bins,
                 " spectrogram bins (sample_rate ", sample_rate, ")");
    }
    std::vector<double> w(static_cast<size_t>(spectrogram_bins * mel_bins), 0.0);
    for (int64_t i = 0; i < mel_bins; ++i) {
      const int64_t left = points[i], center = points[i + 1], right = points[i + 2];
      if (center == left) {
        w[center * mel_bins + i] = 1.0;
      } else {
        for (int64_t j = left; j <= center; ++j) {
          w[j * mel_bins + i] = static_cast<double>(j - left) / static_cast<double>(center - left);
        }
      }
      for (int64_t j = center; j < right; ++j) {
        w[j * mel_bins + i] = static_cast<double>(right - j) / static_cast<double>(right - center);
      }
    }
    write_doubles(ctx, dtype_, {spectrogram_bins, mel_bins}, w, "MelWeightMatrix");
  }

 private:
  DataType dtype_;
};

std::unique_ptr<Kernel> make_hann(const KernelInfo& info) {
  return std::make_unique<WindowKernel>(info, WindowKind::kHann);
}
std::unique_ptr<Kernel> make_hamming(const KernelInfo& info) {
  return std::make_unique<WindowKernel>(info, WindowKind::kHamming);
}
std::unique_ptr<Kernel> make_blackman(const KernelInfo& info) {
  return std::make_unique<WindowKernel>(info, WindowKind::kBlackman);
}

}  // namespace

ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "HannWindow", 17, kOpsetOpenEnded, make_hann);
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "HammingWindow", 17, kOpsetOpenEnded, make_hamming);
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "BlackmanWindow", 17, kOpsetOpenEnded, make_blackman);
ONYX_REGISTER_KERNEL("CPU", "", "MelWeightMatrix", 17, kOpsetOpenEnded, MelWeightMatrixKernel);

}  // namespace onyx
