// CPU kernels of DFT (17: axis attribute; 20: axis input) and STFT. Every 1-D line along the
// transformed axis is gathered into a double-precision complex buffer, transformed with FftPlan
// and written back, lines in parallel. The inverse one-sided DFT (irfft) rebuilds the full
// Hermitian spectrum first, ignoring the imaginary parts of the DC and Nyquist bins as NumPy does.
#include <algorithm>
#include <vector>

#include "onnx_ops/signal.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/cpu/signal/fft.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {


struct DftParams {
  int64_t outer = 1, length = 0, inner = 1;  // input viewed as [outer, length, inner, channels]
  int64_t channels = 1;                       // 1 real, 2 complex
  int64_t n = 0;                              // transform length
  int64_t out_length = 0;
  bool inverse = false, onesided = false;
};

template <typename T>
void run_dft(const T* x, T* y, const DftParams& p, int threads) {
  const FftPlan plan(p.n);
  const int64_t lines = p.outer * p.inner;
  const bool irfft = p.inverse && p.onesided;
  const int64_t out_channels = irfft ? 1 : 2;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(p.n, 1));
  parallel_for(lines, grain, threads, [&](int64_t begin, int64_t end) {
    std::vector<Complex> buf(static_cast<size_t>(p.n));
    std::vector<Complex> scratch(static_cast<size_t>(plan.scratch_size()));
    for (int64_t line = begin; line < end; ++line) {
      const int64_t o = line / p.inner, i = line % p.inner;
      const T* src = x + (o * p.length * p.inner + i) * p.channels;
      auto at = [&](int64_t k) {
        const T* e = src + k * p.inner * p.channels;
        return Complex(to_double(e[0]), p.channels == 2 ? to_double(e[1]) : 0.0);
      };
      std::fill(buf.begin(), buf.end(), Complex(0.0, 0.0));
      if (irfft) {
        const int64_t half = std::min(p.length, p.n / 2 + 1);
        for (int64_t k = 0; k < half; ++k) buf[k] = at(k);
        buf[0].imag(0.0);
        if (p.n % 2 == 0 && p.n / 2 < half) buf[p.n / 2].imag(0.0);
        for (int64_t k = p.n / 2 + 1; k < p.n; ++k) buf[k] = std::conj(buf[p.n - k]);
      } else {
        const int64_t copy = std::min(p.length, p.n);
        for (int64_t k = 0; k < copy; ++k) buf[k] = at(k);
      }
      plan.run(buf.data(), p.inverse, scratch.data());
      const double scale = p.inverse ? 1.0 / static_cast<double>(p.n) : 1.0;
      T* dst = y + (o * p.out_length * p.inner + i) * out_channels;
      for (int64_t k = 0; k < p.out_length; ++k) {
        T* e = dst + k * p.inner * out_channels;
        e[0] = convert_to<T>(buf[k].real() * scale);
        if (!irfft) e[1] = convert_to<T>(buf[k].imag() * scale);
      }
    }
  });
}

class DftKernel final : public Kernel {
 public:
  explicit DftKernel(const KernelInfo& info)
      : opset_(info.opset()), axis_attr_(info.attributes().get_int("axis", 1)),
        inverse_(info.attributes().get_int("inverse", 0) != 0),
        onesided_(info.attributes().get_int("onesided", 0) != 0) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    int64_t axis = axis_attr_;
    if (opset_ >= 20) {
      axis = ctx.has_input(2) ? signal_scalar_int(ctx.input(2), "DFT", "axis") : -2;
    }
    axis = dft_axis(axis, x.rank());
    const int64_t channels = x.shape().back();
    ONYX_CHECK(channels == 1 || channels == 2, ErrorCode::kInvalidArgument,
               "DFT: the last dim must be 1 (real) or 2 (complex), got shape ",
               shape_to_string(x.shape()));
    DftParams p;
    p.channels = channels;
    p.inverse = inverse_;
    p.onesided = onesided_;
    p.length = x.dim(axis);
    for (int64_t d = 0; d < axis; ++d) p.outer *= x.dim(d);
    for (size_t d = axis + 1; d + 1 < x.rank(); ++d) p.inner *= x.dim(d);
    p.n = ctx.has_input(1) ? signal_scalar_int(ctx.input(1), "DFT", "dft_length")
                           : dft_default_length(p.length, inverse_, onesided_);
    ONYX_CHECK(p.n >= 1, ErrorCode::kInvalidArgument, "DFT: dft_length must be positive, got ",
               p.n, " for input shape ", shape_to_string(x.shape()));
    const Shape out_shape = dft_output_shape(x.shape(), axis, p.n, inverse_, onesided_);
    p.out_length = out_shape[axis];
    Tensor& y = ctx.output(0, x.dtype(), out_shape);
    if (y.element_count() == 0) return;
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), "DFT", [&]<typename T>() {
      run_dft<T>(x.data<T>(), y.mutable_data<T>(), p, ctx.threads());
    });
  }

 private:
  int64_t opset_;
  int64_t axis_attr_;
  bool inverse_, onesided_;
};

template <typename T>
void run_stft(const T* x, const T* window, T* y, int64_t batch, int64_t length, int64_t channels,
              int64_t frames, int64_t step, int64_t window_size, int64_t n, int64_t bins,
              int threads) {
  const FftPlan plan(n);
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(n, 1));
  parallel_for(batch * frames, grain, threads, [&](int64_t begin, int64_t end) {
    std::vector<Complex> buf(static_cast<size_t>(n));
    std::vector<Complex> scratch(static_cast<size_t>(plan.scratch_size()));
    for (int64_t job = begin; job < end; ++job) {
      const int64_t b = job / frames, f = job % frames;
      const T* src = x + b * length * channels;
      std::fill(buf.begin(), buf.end(), Complex(0.0, 0.0));
      const int64_t start = f * step;
      const int64_t copy = std::min({window_size, n, length - start});
      for (int64_t k = 0; k < copy; ++k) {
        const T* e = src + (start + k) * channels;
        const double w = window != nullptr ? to_double(window[k]) : 1.0;
        buf[k] = Complex(to_double(e[0]) * w, channels == 2 ? to_double(e[1]) * w : 0.0);
      }
      plan.run(buf.data(), false, scratch.data());
      T* dst = y + job * bins * 2;
      for (int64_t k = 0; k < bins; ++k) {
        dst[2 * k] = convert_to<T>(buf[k].real());
        dst[2 * k + 1] = convert_to<T>(buf[k].imag());
      }
    }
  });
}

class StftKernel final : public Kernel {
 public:
  explicit StftKernel(const KernelInfo& info)
      : onesided_(info.attributes().get_int("onesided", 1) != 0) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    ONYX_CHECK(x.rank() == 3 && (x.dim(2) == 1 || x.dim(2) == 2), ErrorCode::kInvalidArgument,
               "STFT: signal must have shape [batch, length, 1 or 2], got ",
               shape_to_string(x.shape()));
    const int64_t step = signal_scalar_int(ctx.input(1), "STFT", "frame_step");
    ONYX_CHECK(step > 0, ErrorCode::kInvalidArgument, "STFT: frame_step must be positive, got ", step);
    const Tensor* window = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    if (window != nullptr) {
      ONYX_CHECK(window->rank() == 1, ErrorCode::kInvalidArgument,
                 "STFT: window must be 1-D, got shape ", shape_to_string(window->shape()));
      ONYX_CHECK(window->dtype() == x.dtype(), ErrorCode::kInvalidArgument, "STFT: window is ",
                 dtype_name(window->dtype()), " but signal is ", dtype_name(x.dtype()));
    }
    int64_t frame_length = -1;
    if (ctx.has_input(3)) {
      frame_length = signal_scalar_int(ctx.input(3), "STFT", "frame_length");
    } else {
      frame_length = window != nullptr ? window->dim(0) : x.dim(1);
    }
    const int64_t window_size = window != nullptr ? window->dim(0) : frame_length;
    ONYX_CHECK(frame_length >= 1 && frame_length <= x.dim(1), ErrorCode::kInvalidArgument,
               "STFT: frame_length ", frame_length, " must be in [1, signal length ", x.dim(1), "]");
    ONYX_CHECK(window == nullptr || window_size == frame_length, ErrorCode::kInvalidArgument,
               "STFT: window length ", window_size, " differs from frame_length ", frame_length);
    const int64_t frames = (x.dim(1) - frame_length) / step + 1;
    const int64_t bins = onesided_ ? frame_length / 2 + 1 : frame_length;
    Tensor& y = ctx.output(0, x.dtype(), {x.dim(0), frames, bins, 2});
    if (y.element_count() == 0) return;
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), "STFT", [&]<typename T>() {
      run_stft<T>(x.data<T>(), window != nullptr ? window->data<T>() : nullptr,
                  y.mutable_data<T>(), x.dim(0), x.dim(1), x.dim(2), frames, step, window_size,
                  frame_length, bins, ctx.threads());
    });
  }

 private:
  bool onesided_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "DFT", 17, kOpsetOpenEnded, DftKernel);
ONYX_REGISTER_KERNEL("CPU", "", "STFT", 17, kOpsetOpenEnded, StftKernel);

}  // namespace onyx
