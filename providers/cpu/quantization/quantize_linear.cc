// QuantizeLinear (10-13: per tensor/axis; 19: float8 and saturate; 21: int4/uint4 and blocked;
// 23+: output_dtype, precision, int2/uint2, float4), DequantizeLinear (same versions) and
// DynamicQuantizeLinear (uint8). Rounding is half to even, as the ONNX reference's np.rint.
#include <algorithm>
#include <cmath>
#include <limits>

#include <immintrin.h>

#include "onnx_ops/quantization.h"
#include "providers/cpu/quantization/quant_values.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

constexpr int64_t kQuantGrain = 16384;

// Calls emit(flat_index, quotient, param_index) for every element, with the quotient x / scale
// computed in C and rounded to `round_to` (a 16-bit float when the division happens in one).
template <typename X, typename C, DataType kRoundTo, typename Emit>
void for_each_quotient_in(const X* x, const QuantParamLayout& layout, const float* scale,
                          int threads, const Emit& emit) {
  const int64_t rows = layout.outer * layout.axis_dim, inner = layout.inner;
  // Chunks split rows too, so a per-tensor quantization (one row) still runs in parallel.
  parallel_for(rows * inner, kQuantGrain, threads, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin / inner; r * inner < end; ++r) {
      const int64_t base = layout.index(r / layout.axis_dim, r % layout.axis_dim, 0);
      const X* row = x + r * inner;
      const int64_t i_end = std::min(inner, end - r * inner);
      for (int64_t i = std::max<int64_t>(0, begin - r * inner); i < i_end; ++i) {
        const int64_t p = base + i * layout.inner_stride;
        C q;
        if constexpr (kRoundTo == DataType::kFloat16 || kRoundTo == DataType::kBFloat16) {
          // Operands and quotient all rounded to the 16-bit type (precision may name it for
          // float inputs: the reference casts both before dividing).
          using H = std::conditional_t<kRoundTo == DataType::kFloat16, Float16, BFloat16>;
          const float xv = static_cast<float>(H(static_cast<float>(load(row[i]))));
          const float sv = static_cast<float>(H(scale[p]));
          q = static_cast<C>(static_cast<float>(H(xv / sv)));
        } else {
          q = static_cast<C>(load(row[i])) / static_cast<C>(scale[p]);
        }
        emit(r * inner + i, q, p);
      }
    }
  });
}

// The rounding type as a template argument, so the per-element loop has no branch on it.
template <typename X, typename C, typename Emit>
void for_each_quotient(const X* x, const QuantParamLayout& layout, const float* scale,
                       DataType round_to, int threads, const Emit& emit) {
  if (round_to == DataType::kFloat16) {
    for_each_quotient_in<X, C, DataType::kFloat16>(x, layout, scale, threads, emit);
  } else if (round_to == DataType::kBFloat16) {
    for_each_quotient_in<X, C, DataType::kBFloat16>(x, layout, scale, threads, emit);
  } else {
    for_each_quotient_in<X, C, DataType::kFloat>(x, layout, scale, threads, emit);
  }
}

template <typename C>
inline C clamp_rounded(C q, float zp, float lo, float hi) {
  C v = std::nearbyint(q) + static_cast<C>(zp);
  // NaN goes to the low end, as the reference's int32 cast of NaN then clip does.
  if (!(v >= lo)) return lo;
  return v > hi ? hi : v;
}

class QuantizeLinearKernel final : public Kernel {
 public:
  explicit QuantizeLinearKernel(const KernelInfo& info)
      : axis_(info.attributes().get_int("axis", 1)),
        block_size_(info.attributes().get_int("block_size", 0)),
        saturate_(info.attributes().get_int("saturate", 1) != 0),
        output_dtype_(info.attributes().get_int("output_dtype", 0)),
        precision_(info.attributes().get_int("precision", 0)) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& scale = ctx.input(1);
    const bool has_zp = ctx.has_input(2);
    DataType out = output_dtype_ ? dtype_from_code(static_cast<int32_t>(output_dtype_)) : DataType::kUInt8;
    if (has_zp) {
      const DataType zp_type = ctx.input(2).dtype();
      if (output_dtype_ && zp_type != out) {
        throw_error(ErrorCode::kInvalidArgument, "QuantizeLinear: output_dtype ", dtype_name(out),
                    " differs from y_zero_point's type ", dtype_name(zp_type));
      }
      out = zp_type;
    }
    if (!is_quantized_type(out)) {
      throw_error(ErrorCode::kNotImplemented, "QuantizeLinear: output type ", dtype_name(out),
                  " is not supported on CPU");
    }
    const QuantParamLayout layout =
        quant_param_layout(x.shape(), scale.shape(), axis_, block_size_, "QuantizeLinear");
    const std::vector<float> scales = read_as_float(scale, "QuantizeLinear");
    std::vector<float> zps(scales.size(), 0.0f);
    if (has_zp) {
      const Tensor& zp = ctx.input(2);
      if (zp.shape() != scale.shape() && !(zp.element_count() == 1 && scale.element_count() == 1)) {
        throw_error(ErrorCode::kInvalidArgument, "QuantizeLinear: y_zero_point ",
                    shape_to_string(zp.shape()), " must have y_scale's shape ",
                    shape_to_string(scale.shape()));
      }
      zps = read_as_float(zp, "QuantizeLinear");
    }
    DataType round_to = precision_ ? dtype_from_code(static_cast<int32_t>(precision_))
                        : x.dtype() == scale.dtype() ? x.dtype()
                                                     : DataType::kFloat;
    Tensor& y = ctx.output(0, out, x.shape());
    const bool ok = dispatch_dtype(TypeList<float, Float16, BFloat16, int32_t>{}, x.dtype(), [&]<typename X>() {
      using C = std::conditional_t<std::is_same_v<X, int32_t>, double, float>;
      run<X, C>(x.data<X>(), layout, scales.data(), zps.data(), round_to, out, y, ctx.threads());
    });
    if (!ok) {
      throw_error(ErrorCode::kNotImplemented, "QuantizeLinear: input type ", dtype_name(x.dtype()),
                  " is not supported on CPU");
    }
  }

 private:
  // Float to 8 bits with one scale (a QDQ model's activations, between its integer ops): a
  // flat loop, 16 values at a time with AVX-512 (GCC does not vectorize the rounding and the
  // narrowing), where the general one pays index arithmetic per element: a quarter of an int8
  // ResNet's time went there. The same division, rounding half to even and clamping (NaN to
  // the low end, as in clamp_rounded), so the same results.
  template <typename Y>
  static void run_per_tensor(const float* x, float scale, float zp, Y* y, int64_t n, int threads) {
    constexpr float lo = std::numeric_limits<Y>::min(), hi = std::numeric_limits<Y>::max();
    parallel_for(n, kQuantGrain, threads, [&](int64_t begin, int64_t end) {
      int64_t i = begin;
#ifdef __AVX512F__
      const __m512 s = _mm512_set1_ps(scale), z = _mm512_set1_ps(zp);
      const __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
      for (; i + 16 <= end; i += 16) {
        __m512 v = _mm512_div_ps(_mm512_loadu_ps(x + i), s);
        v = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), z);
        v = _mm512_min_ps(_mm512_max_ps(v, low), high);  // max_ps gives its second operand for NaN
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v)));
      }
#endif
      for (; i < end; ++i) {
        const float v = std::nearbyint(x[i] / scale) + zp;
        y[i] = static_cast<Y>(v >= lo ? (v > hi ? hi : v) : lo);
      }
    });
  }

  template <typename X, typename C>
  void run(const X* x, const QuantParamLayout& layout, const float* scale, const float* zp,
           DataType round_to, DataType out, Tensor& y, int threads) const {
    if constexpr (std::is_same_v<X, float>) {
      const bool per_tensor = layout.axis_stride == 0 && layout.outer_stride == 0 && layout.inner_stride == 0;
      if (per_tensor && round_to == DataType::kFloat && out == DataType::kUInt8) {
        return run_per_tensor(x, scale[0], zp[0], y.mutable_data<uint8_t>(), y.element_count(), threads);
      }
      if (per_tensor && round_to == DataType::kFloat && out == DataType::kInt8) {
        return run_per_tensor(x, scale[0], zp[0], y.mutable_data<int8_t>(), y.element_count(), threads);
      }
    }
    float lo, hi;
    quant_range(out, lo, hi);
    const bool direct = dispatch_dtype(TypeList<uint8_t, int8_t, uint16_t, int16_t>{}, out, [&]<typename Y>() {
      Y* dst = y.mutable_data<Y>();
      for_each_quotient<X, C>(x, layout, scale, round_to, threads, [&](int64_t i, C q, int64_t p) {
        dst[i] = static_cast<Y>(clamp_rounded<C>(q, zp[p], lo, hi));
      });
    });
    if (direct) return;
    const int64_t n = y.element_count();
    auto* bytes = static_cast<uint8_t*>(y.mutable_raw_data());
    if (is_packed_int_type(out)) {
      // Quantize into bytes first: neighbouring elements share a packed byte, so threads must
      // not write them.
      std::vector<int8_t> values(static_cast<size_t>(n));
      for_each_quotient<X, C>(x, layout, scale, round_to, threads, [&](int64_t i, C q, int64_t p) {
        values[i] = static_cast<int8_t>(clamp_rounded<C>(q, zp[p], lo, hi));
      });
      const int bits = packed_bits(out), per_byte = 8 / bits, mask = (1 << bits) - 1;
      std::fill(bytes, bytes + y.byte_size(), uint8_t{0});
      for (int64_t i = 0; i < n; ++i) {
        bytes[i / per_byte] |= static_cast<uint8_t>((values[i] & mask) << ((i % per_byte) * bits));
      }
      return;
    }
    const SmallFloatFormat format = small_float_format(out);
    if (out == DataType::kFloat4E2M1) {
      std::vector<uint8_t> codes(static_cast<size_t>(n));
      for_each_quotient<X, C>(x, layout, scale, round_to, threads, [&](int64_t i, C q, int64_t p) {
        codes[i] = small_float_encode(format, static_cast<float>(q + static_cast<C>(zp[p])), true);
      });
      std::fill(bytes, bytes + y.byte_size(), uint8_t{0});
      for (int64_t i = 0; i < n; ++i) bytes[i / 2] |= static_cast<uint8_t>((codes[i] & 0xF) << ((i % 2) * 4));
      return;
    }
    const bool saturate = saturate_;
    for_each_quotient<X, C>(x, layout, scale, round_to, threads, [&](int64_t i, C q, int64_t p) {
      bytes[i] = small_float_encode(format, static_cast<float>(q + static_cast<C>(zp[p])), saturate);
    });
  }

  int64_t axis_, block_size_;
  bool saturate_;
  int64_t output_dtype_, precision_;
};

class DequantizeLinearKernel final : public Kernel {
 public:
  explicit DequantizeLinearKernel(const KernelInfo& info)
      : axis_(info.attributes().get_int("axis", 1)),
        block_size_(info.attributes().get_int("block_size", 0)),
        output_dtype_(info.attributes().get_int("output_dtype", 0)) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& scale = ctx.input(1);
    const QuantParamLayout layout =
        quant_param_layout(x.shape(), scale.shape(), axis_, block_size_, "DequantizeLinear");
    const std::vector<float> scales = read_as_float(scale, "DequantizeLinear");
    std::vector<float> zps(scales.size(), 0.0f);
    if (ctx.has_input(2)) {
      const Tensor& zp = ctx.input(2);
      if (zp.dtype() != x.dtype()) {
        throw_error(ErrorCode::kInvalidArgument, "DequantizeLinear: x_zero_point type ",
                    dtype_name(zp.dtype()), " differs from x's ", dtype_name(x.dtype()));
      }
      if (zp.shape() != scale.shape() && !(zp.element_count() == 1 && scale.element_count() == 1)) {
        throw_error(ErrorCode::kInvalidArgument, "DequantizeLinear: x_zero_point ",
                    shape_to_string(zp.shape()), " must have x_scale's shape ",
                    shape_to_string(scale.shape()));
      }
      zps = read_as_float(zp, "DequantizeLinear");
    }
    const DataType out =
        output_dtype_ ? dtype_from_code(static_cast<int32_t>(output_dtype_)) : scale.dtype();
    Tensor& y = ctx.output(0, out, x.shape());
    const bool ok = dispatch_dtype(TypeList<float, Float16, BFloat16>{}, out, [&]<typename Y>() {
      Y* dst = y.mutable_data<Y>();
      const bool typed = dispatch_dtype(TypeList<uint8_t, int8_t, uint16_t, int16_t, int32_t>{}, x.dtype(), [&]<typename X>() {
        using C = std::conditional_t<std::is_same_v<X, int32_t>, double, float>;
        run<X, C>(x.data<X>(), layout, scales.data(), zps.data(), dst, ctx.threads());
      });
      if (!typed) {
        const std::vector<float> values = read_as_float(x, "DequantizeLinear");
        run<float, float>(values.data(), layout, scales.data(), zps.data(), dst, ctx.threads());
      }
    });
    if (!ok) {
      throw_error(ErrorCode::kNotImplemented, "DequantizeLinear: output type ", dtype_name(out),
                  " is not supported on CPU");
    }
  }

 private:
  template <typename X, typename C, typename Y>
  static void run(const X* x, const QuantParamLayout& layout, const float* scale, const float* zp,
                  Y* y, int threads) {
    const int64_t rows = layout.outer * layout.axis_dim, inner = layout.inner;
    parallel_for(rows * inner, kQuantGrain, threads, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin / inner; r * inner < end; ++r) {
        const int64_t base = layout.index(r / layout.axis_dim, r % layout.axis_dim, 0);
        const int64_t i0 = std::max<int64_t>(0, begin - r * inner);
        const int64_t i1 = std::min(inner, end - r * inner);
        const X* row = x + r * inner;
        Y* out = y + r * inner;
        if (layout.inner_stride == 0) {
          const C s = scale[base], z = zp[base];
          for (int64_t i = i0; i < i1; ++i) out[i] = convert_to<Y>((static_cast<C>(row[i]) - z) * s);
        } else {
          for (int64_t i = i0; i < i1; ++i) {
            const int64_t p = base + i;
            out[i] = convert_to<Y>((static_cast<C>(row[i]) - static_cast<C>(zp[p])) * static_cast<C>(scale[p]));
          }
        }
      }
    });
  }

  int64_t axis_, block_size_, output_dtype_;
};

class DynamicQuantizeLinearKernel final : public Kernel {
 public:
  explicit DynamicQuantizeLinearKernel(const KernelInfo&) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DataType::kFloat) {
      throw_error(ErrorCode::kNotImplemented, "DynamicQuantizeLinear: input type ",
                  dtype_name(x.dtype()), " is not supported (float only)");
    }
    const float* data = x.data<float>();
    const int64_t n = x.element_count();
    // The range always includes 0 so that 0 is exactly representable.
    float lo = 0.0f, hi = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, data[i]);
      hi = std::max(hi, data[i]);
    }
    const float scale = (hi == lo ? 1.0f : hi - lo) / 255.0f;
    const float zp = std::nearbyint(std::clamp(0.0f - lo / scale, 0.0f, 255.0f));
    uint8_t* y = ctx.output(0, DataType::kUInt8, x.shape()).mutable_data<uint8_t>();
    parallel_for(n, kQuantGrain, ctx.threads(), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        y[i] = static_cast<uint8_t>(clamp_rounded<float>(data[i] / scale, zp, 0.0f, 255.0f));
      }
    });
    if (ctx.has_output(1)) ctx.output(1, DataType::kFloat, {}).mutable_data<float>()[0] = scale;
    if (ctx.has_output(2)) ctx.output(2, DataType::kUInt8, {}).mutable_data<uint8_t>()[0] = static_cast<uint8_t>(zp);
  }
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "QuantizeLinear", 10, kOpsetOpenEnded, QuantizeLinearKernel);
ONYX_REGISTER_KERNEL("CPU", "", "DequantizeLinear", 10, kOpsetOpenEnded, DequantizeLinearKernel);
ONYX_REGISTER_KERNEL("CPU", "", "DynamicQuantizeLinear", 11, kOpsetOpenEnded, DynamicQuantizeLinearKernel);

}  // namespace onyx
