// Cast and CastLike between every ONNX element type onyx stores: the standard numeric types and
// bool (one direct loop per pair), strings (parsed and formatted as NumPy does), and the packed
// or small formats (float8 kinds, E8M0, float4, int4/uint4, int2/uint2), which go through float.
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "onnx_ops/elementwise.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/cpu/math/small_floats.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

using StandardTypes = TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t,
                               uint8_t, uint16_t, uint32_t, uint64_t, bool>;

template <typename To, typename From>
inline To cast_value(From v) {
  using C = ComputeType<From>;
  const C x = static_cast<C>(v);
  if constexpr (std::is_same_v<To, bool>) {
    return x != C(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<C>) {
    // Through int64 so narrow targets wrap as NumPy's astype does; NaN and out-of-range values
    // give an unspecified number, never a trap.
    if (!(x > C(-9.3e18) && x < C(9.3e18))) return static_cast<To>(std::numeric_limits<int64_t>::min());
    return static_cast<To>(static_cast<int64_t>(x));
  } else {
    return convert_to<To>(x);
  }
}

// Shortest round-trip digits in NumPy's str() style: positional for 1e-4 <= |x| < 1e16,
// scientific otherwise, ".0" on integral values, "nan"/"inf".
template <typename F>
std::string format_float(F value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buffer[64];
  const F a = std::fabs(value);
  const bool positional = a == 0 || (a >= F(1e-4) && a < F(1e16));
  auto result = positional ? std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed)
                           : std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  std::string text(buffer, result.ptr);
  if (positional) {
    if (text.find('.') == std::string::npos) text += ".0";
    return text;
  }
  // NumPy writes at least two exponent digits: 1e-07.
  size_t e = text.find('e');
  std::string mantissa = text.substr(0, e);
  std::string exponent = text.substr(e + 1);
  char sign = exponent[0];
  std::string digits = exponent.substr(1);
  if (digits.size() < 2) digits = "0" + digits;
  return mantissa + "e" + sign + digits;
}

template <typename From>
std::string to_text(From v) {
  if constexpr (std::is_same_v<From, bool>) {
    return v ? "True" : "False";
  } else if constexpr (std::is_integral_v<From>) {
    return std::to_string(v);
  } else if constexpr (std::is_same_v<From, double>) {
    return format_float(v);
  } else {
    return format_float(static_cast<float>(v));
  }
}

template <typename To>
To from_text(const std::string& s) {
  const char* p = s.c_str();
  char* end = nullptr;
  if constexpr (std::is_same_v<To, bool>) {
    if (s == "True" || s == "true") return true;
    if (s == "False" || s == "false") return false;
    return std::strtod(p, &end) != 0.0;
  } else if constexpr (std::is_integral_v<To> && std::is_signed_v<To>) {
    return static_cast<To>(std::strtoll(p, &end, 10));
  } else if constexpr (std::is_integral_v<To>) {
    return static_cast<To>(std::strtoull(p, &end, 10));
  } else {
    // strtod reads "NaN", "INF", "+INF", "-inf" and exponents.
    return convert_to<To>(std::strtod(p, &end));
  }
}

bool is_packed_int(DataType t) {
  return t == DataType::kInt4 || t == DataType::kUInt4 || t == DataType::kInt2 ||
         t == DataType::kUInt2;
}

bool is_small_float(DataType t) {
  return small_float_format(t).exponent_bits != 0 || t == DataType::kFloat8E8M0;
}

// Packed int decode: element i of a 4-bit (2-bit) type is nibble (pair) i, low bits first.
float packed_int_decode(DataType t, const uint8_t* data, int64_t i) {
  const int bits = (t == DataType::kInt4 || t == DataType::kUInt4) ? 4 : 2;
  const int per_byte = 8 / bits;
  const int raw = (data[i / per_byte] >> ((i % per_byte) * bits)) & ((1 << bits) - 1);
  const bool is_signed = t == DataType::kInt4 || t == DataType::kInt2;
  return static_cast<float>(is_signed && raw >= (1 << (bits - 1)) ? raw - (1 << bits) : raw);
}

void packed_int_encode(DataType t, uint8_t* data, int64_t i, float value) {
  const int bits = (t == DataType::kInt4 || t == DataType::kUInt4) ? 4 : 2;
  const int per_byte = 8 / bits;
  const int64_t whole = cast_value<int64_t>(value);  // truncate, then wrap like astype
  const uint8_t raw = static_cast<uint8_t>(whole & ((1 << bits) - 1));
  const int shift = static_cast<int>(i % per_byte) * bits;
  uint8_t& byte = data[i / per_byte];
  byte = static_cast<uint8_t>((byte & ~(((1 << bits) - 1) << shift)) | (raw << shift));
}

class CastKernel final : public Kernel {
 public:
  explicit CastKernel(const KernelInfo& info)
      : like_(info.node().op_type == "CastLike"),
        saturate_(info.attributes().get_int("saturate", 1) != 0),
        round_mode_(info.attributes().get_string("round_mode", "up")) {
    if (!like_) to_ = cast_target_type(info.attributes());
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const DataType to = like_ ? ctx.input(1).dtype() : to_;
    Tensor& out = ctx.output(0, to, x.shape());
    const int64_t n = x.element_count();
    if (x.dtype() == to) {
      if (to == DataType::kString) {
        for (int64_t i = 0; i < n; ++i) out.mutable_data<std::string>()[i] = x.data<std::string>()[i];
      } else {
        std::memcpy(out.mutable_raw_data(), x.raw_data(), x.byte_size());
      }
      return;
    }
    if (x.dtype() == DataType::kFloat && to == DataType::kFloat16) {
      parallel_for(n, kElementwiseGrain, ctx.threads(), [&](int64_t begin, int64_t end) {
        float_to_half(x.data<float>() + begin, out.mutable_data<Float16>() + begin, end - begin);
      });
      return;
    }
    if (x.dtype() == DataType::kFloat16 && to == DataType::kFloat) {
      parallel_for(n, kElementwiseGrain, ctx.threads(), [&](int64_t begin, int64_t end) {
        half_to_float(x.data<Float16>() + begin, out.mutable_data<float>() + begin, end - begin);
      });
      return;
    }
    const bool direct = dispatch_dtype(StandardTypes{}, x.dtype(), [&]<typename From>() {
      dispatch_dtype(StandardTypes{}, to, [&]<typename To>() {
        unary_map(x.data<From>(), out.mutable_data<To>(), n, ctx.threads(),
                  [](auto v) { return cast_value<To>(v); });
      });
    }) && dispatch_dtype(StandardTypes{}, to, []<typename>() {});
    if (direct) return;
    if (x.dtype() == DataType::kString) {
      const std::string* in = x.data<std::string>();
      if (dispatch_dtype(StandardTypes{}, to, [&]<typename To>() {
            To* o = out.mutable_data<To>();
            for (int64_t i = 0; i < n; ++i) o[i] = from_text<To>(in[i]);
          })) {
        return;
      }
    } else if (to == DataType::kString) {
      std::string* o = out.mutable_data<std::string>();
      if (dispatch_dtype(StandardTypes{}, x.dtype(), [&]<typename From>() {
            const From* in = x.data<From>();
            for (int64_t i = 0; i < n; ++i) o[i] = to_text(in[i]);
          })) {
        return;
      }
    }
    // The packed and small formats: everything they hold is exact in float.
    std::vector<float> wide(static_cast<size_t>(n));
    decode_to_float(x, wide.data());
    encode_from_float(wide.data(), n, out);
  }

 private:
  void decode_to_float(const Tensor& x, float* wide) const {
    const int64_t n = x.element_count();
    const DataType t = x.dtype();
    const auto* bytes = static_cast<const uint8_t*>(x.raw_data());
    if (is_packed_int(t)) {
      for (int64_t i = 0; i < n; ++i) wide[i] = packed_int_decode(t, bytes, i);
    } else if (t == DataType::kFloat8E8M0) {
      for (int64_t i = 0; i < n; ++i) wide[i] = e8m0_decode(bytes[i]);
    } else if (t == DataType::kFloat4E2M1) {
      const SmallFloatFormat f = small_float_format(t);
      for (int64_t i = 0; i < n; ++i) wide[i] = small_float_decode(f, (bytes[i / 2] >> ((i % 2) * 4)) & 0xF);
    } else if (is_small_float(t)) {
      const SmallFloatFormat f = small_float_format(t);
      for (int64_t i = 0; i < n; ++i) wide[i] = small_float_decode(f, bytes[i]);
    } else if (t == DataType::kString) {
      for (int64_t i = 0; i < n; ++i) wide[i] = from_text<float>(x.data<std::string>()[i]);
    } else if (!dispatch_dtype(StandardTypes{}, t, [&]<typename From>() {
                 const From* in = x.data<From>();
                 for (int64_t i = 0; i < n; ++i) wide[i] = cast_value<float>(in[i]);
               })) {
      unsupported(t);
    }
  }

  void encode_from_float(const float* wide, int64_t n, Tensor& out) const {
    const DataType t = out.dtype();
    auto* bytes = static_cast<uint8_t*>(out.mutable_raw_data());
    if (is_packed_int(t)) {
      std::memset(bytes, 0, out.byte_size());
      for (int64_t i = 0; i < n; ++i) packed_int_encode(t, bytes, i, wide[i]);
    } else if (t == DataType::kFloat8E8M0) {
      for (int64_t i = 0; i < n; ++i) bytes[i] = e8m0_encode(wide[i], saturate_, round_mode_);
    } else if (t == DataType::kFloat4E2M1) {
      const SmallFloatFormat f = small_float_format(t);
      std::memset(bytes, 0, out.byte_size());
      for (int64_t i = 0; i < n; ++i) {
        bytes[i / 2] |= static_cast<uint8_t>(small_float_encode(f, wide[i], saturate_) << ((i % 2) * 4));
      }
    } else if (is_small_float(t)) {
      const SmallFloatFormat f = small_float_format(t);
      for (int64_t i = 0; i < n; ++i) bytes[i] = small_float_encode(f, wide[i], saturate_);
    } else if (t == DataType::kString) {
      for (int64_t i = 0; i < n; ++i) out.mutable_data<std::string>()[i] = format_float(wide[i]);
    } else if (!dispatch_dtype(StandardTypes{}, t, [&]<typename To>() {
                 To* o = out.mutable_data<To>();
                 for (int64_t i = 0; i < n; ++i) o[i] = cast_value<To>(wide[i]);
               })) {
      unsupported(t);
    }
  }

  [[noreturn]] static void unsupported(DataType t) {
    throw_error(ErrorCode::kNotImplemented, "Cast: element type ", dtype_name(t),
                " is not supported on CPU");
  }

  bool like_;
  bool saturate_;
  std::string round_mode_;
  DataType to_ = DataType::kUndefined;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Cast", 1, kOpsetOpenEnded, CastKernel);
ONYX_REGISTER_KERNEL("CPU", "", "CastLike", 15, kOpsetOpenEnded, CastKernel);

}  // namespace onyx
