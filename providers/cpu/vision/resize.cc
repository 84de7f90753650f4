// CPU kernels of Resize (opsets 10-19+) and Upsample (7-9). Resizing is separable: each resized
// axis is one pass that writes out[o, j, :] = sum_t w[j][t] * in[o, idx[j][t], :] over
// contiguous inner rows, from a per-axis tap table built once per shape. This matches the ONNX
// reference, which also resizes axis by axis (antialias widens the taps of downsampled axes).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "onnx_ops/vision.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// Taps of one axis: `taps` inputs per output index, flattened [out_len][taps].
struct AxisTaps {
  int64_t taps = 1;
  std::vector<int64_t> index;
  std::vector<double> weight;
  std::vector<uint8_t> extrapolate;  // output index maps outside the ROI (tf_crop_and_resize)
};

double cubic_weight(double x, double a) {
  x = std::abs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0;
}

int64_t nearest_index(double x, NearestMode mode, double scale) {
  if (mode == NearestMode::kSimple) {
    return scale < 1 ? static_cast<int64_t>(std::ceil(x)) : static_cast<int64_t>(std::floor(x));
  }
  double base = std::floor(x);
  double ratio = x - base;
  if (ratio == 0) return static_cast<int64_t>(base);
  bool up = false;
  switch (mode) {
    case NearestMode::kRoundPreferFloor: up = ratio > 0.5; break;
    case NearestMode::kRoundPreferCeil: up = ratio >= 0.5; break;
    case NearestMode::kFloor: up = false; break;
    case NearestMode::kCeil: up = true; break;
    case NearestMode::kSimple: break;
  }
  return static_cast<int64_t>(base) + (up ? 1 : 0);
}

AxisTaps build_taps(const ResizeAttributes& attrs, int64_t in_len, int64_t out_len, double scale,
                    double roi_start, double roi_end) {
  AxisTaps t;
  const double s = attrs.antialias ? std::min(scale, 1.0) : 1.0;
  int64_t first = 0;  // offset of the first tap from `base`
  if (attrs.mode == ResizeMode::kLinear) {
    first = static_cast<int64_t>(std::floor(-1.0 / s)) + 1;
    t.taps = 2 - 2 * first;
  } else if (attrs.mode == ResizeMode::kCubic) {
    first = static_cast<int64_t>(std::floor(-2.0 / s)) + 1;
    t.taps = 2 - 2 * first;
  }
  t.index.resize(out_len * t.taps);
  t.weight.resize(out_len * t.taps);
  t.extrapolate.assign(out_len, 0);
  for (int64_t j = 0; j < out_len; ++j) {
    double x = resize_source_coordinate(attrs.transform, static_cast<double>(j), scale, in_len,
                                        out_len, roi_start, roi_end);
    int64_t* idx = &t.index[j * t.taps];
    double* w = &t.weight[j * t.taps];
    if (attrs.transform == CoordinateTransform::kTfCropAndResize &&
        (x < 0 || x > static_cast<double>(in_len - 1))) {
      t.extrapolate[j] = 1;
      for (int64_t k = 0; k < t.taps; ++k) idx[k] = 0, w[k] = 0;
      continue;
    }
    if (attrs.mode == ResizeMode::kNearest) {
      idx[0] = std::clamp<int64_t>(nearest_index(x, attrs.nearest_mode, scale), 0, in_len - 1);
      w[0] = 1;
      continue;
    }
    // The pixel left of x is the base, with ratio in (0, 1] (an integral x is ratio 1 from x-1).
    double fl = std::floor(x);
    int64_t base = static_cast<int64_t>(fl);
    double ratio = x - fl;
    if (ratio == 0) base -= 1, ratio = 1;
    double sum = 0;
    for (int64_t k = 0; k < t.taps; ++k) {
      double arg = (static_cast<double>(first + k) - ratio) * s;
      double v = attrs.mode == ResizeMode::kLinear ? std::max(0.0, 1 - std::abs(arg))
                                                    : cubic_weight(arg, attrs.cubic_coeff_a);
      int64_t raw = base + first + k;
      if (attrs.exclude_outside && (raw < 0 || raw >= in_len)) v = 0;
      w[k] = v;
      sum += v;
      idx[k] = std::clamp<int64_t>(raw, 0, in_len - 1);
    }
    if ((attrs.antialias || attrs.exclude_outside) && sum != 0) {
      for (int64_t k = 0; k < t.taps; ++k) w[k] /= sum;
    }
  }
  return t;
}

// Linear and cubic: weighted sums in Acc (float, or double for double inputs).
template <typename Acc>
void interpolate_axis(const Acc* in, Acc* out, int64_t outer, int64_t in_len, int64_t out_len,
                      int64_t inner, const AxisTaps& t, Acc fill, int threads) {
  const int64_t taps = t.taps;
  std::vector<Acc> weights(t.weight.begin(), t.weight.end());
  const int64_t* index = t.index.data();
  const uint8_t* extrapolate = t.extrapolate.data();
  if (inner == 1) {
    // The innermost axis: a short dot product per output element along each line.
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / (out_len * taps));
    parallel_for(outer, grain, threads, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const Acc* line = in + o * in_len;
        Acc* dst = out + o * out_len;
        if (taps == 2) {
          for (int64_t j = 0; j < out_len; ++j) {
            const int64_t* idx = index + 2 * j;
            const Acc* w = weights.data() + 2 * j;
            const Acc v = w[0] * line[idx[0]] + w[1] * line[idx[1]];
            dst[j] = extrapolate[j] ? fill : v;
          }
        } else if (taps == 4) {
          for (int64_t j = 0; j < out_len; ++j) {
            const int64_t* idx = index + 4 * j;
            const Acc* w = weights.data() + 4 * j;
            const Acc v = w[0] * line[idx[0]] + w[1] * line[idx[1]] + w[2] * line[idx[2]] +
                          w[3] * line[idx[3]];
            dst[j] = extrapolate[j] ? fill : v;
          }
        } else {
          for (int64_t j = 0; j < out_len; ++j) {
            const int64_t* idx = index + taps * j;
            const Acc* w = weights.data() + taps * j;
            Acc acc = 0;
            for (int64_t k = 0; k < taps; ++k) acc += w[k] * line[idx[k]];
            dst[j] = extrapolate[j] ? fill : acc;
          }
        }
      }
    });
    return;
  }
  // Outer axes: each output row is a weighted sum of whole contiguous input rows.
  parallel_for(outer * out_len, std::max<int64_t>(1, kElementwiseGrain / (inner * taps)), threads,
               [&](int64_t r0, int64_t r1) {
                 int64_t o = r0 / out_len, j = r0 % out_len;
                 for (int64_t r = r0; r < r1; ++r) {
                   Acc* dst = out + r * inner;
                   if (extrapolate[j]) {
                     std::fill(dst, dst + inner, fill);
                   } else {
                     const int64_t* idx = index + j * taps;
                     const Acc* w = weights.data() + j * taps;
                     const Acc* plane = in + o * in_len * inner;
                     const Acc* s0 = plane + idx[0] * inner;
                     const Acc w0 = w[0];
                     for (int64_t i = 0; i < inner; ++i) dst[i] = w0 * s0[i];
                     for (int64_t k = 1; k < taps; ++k) {
                       const Acc* sk = plane + idx[k] * inner;
                       const Acc wk = w[k];
                       if (wk == 0) continue;
                       for (int64_t i = 0; i < inner; ++i) dst[i] += wk * sk[i];
                     }
                   }
                   if (++j == out_len) j = 0, ++o;
                 }
               });
}

template <typename Out, typename Acc>
Out from_acc(Acc v) {
  if constexpr (std::is_integral_v<Out>) {
    // Integers round to nearest and saturate, as ONNX's saturate_cast.
    Acc r = std::nearbyint(v);
    r = std::clamp<Acc>(r, static_cast<Acc>(std::numeric_limits<Out>::lowest()),
                        static_cast<Acc>(std::numeric_limits<Out>::max()));
    return static_cast<Out>(r);
  } else {
    return convert_to<Out>(v);
  }
}

class ResizeKernel final : public Kernel {
 public:
  ResizeKernel(const KernelInfo& info, std::string op)
      : op_(std::move(op)), opset_(info.opset()),
        attrs_(ResizeAttributes::read(info.attributes(), info.opset(), op_)) {
    if (op_ == "Upsample" && opset_ < 9) {
      ONYX_CHECK(info.attributes().has("scales"), ErrorCode::kInvalidModel,
                 "Upsample-", opset_, ": missing required attribute 'scales'");
      for (float s : info.attributes().get_floats("scales")) attr_scales_.push_back(s);
    }
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    std::vector<double> roi, scales;
    std::vector<int64_t> sizes;
    bool have_scales = false, have_sizes = false;
    if (op_ == "Upsample" && opset_ < 9) {
      scales = attr_scales_;
      have_scales = true;
    } else {
      const size_t scales_index = (op_ == "Upsample" || opset_ < 11) ? 1 : 2;
      if (ctx.has_input(scales_index) && ctx.input(scales_index).element_count() > 0) {
        const Tensor& s = ctx.input(scales_index);
        ONYX_CHECK(s.dtype() == DataType::kFloat || s.dtype() == DataType::kDouble ||
                       s.dtype() == DataType::kFloat16 || s.dtype() == DataType::kBFloat16, ErrorCode::kInvalidArgument, op_,
                   ": 'scales' must be a float tensor, got ", dtype_name(s.dtype()));
        for (int64_t i = 0; i < s.element_count(); ++i) scales.push_back(s.element_as_double(i));
        have_scales = true;
      }
      if (op_ == "Resize" && opset_ >= 11) {
        if (ctx.has_input(3) && ctx.input(3).element_count() > 0) {
          sizes = ctx.input(3).to_int64_vector();
          have_sizes = true;
        }
        if (ctx.has_input(1)) {
          const Tensor& r = ctx.input(1);
          for (int64_t i = 0; i < r.element_count(); ++i) roi.push_back(r.element_as_double(i));
        }
      }
    }
    ONYX_CHECK(!(have_scales && have_sizes), ErrorCode::kInvalidArgument, op_,
               ": only one of 'scales' and 'sizes' may be given");
    ResizeGeometry g = resolve_resize(x.shape(), attrs_, &roi, have_scales ? &scales : nullptr,
                                      have_sizes ? &sizes : nullptr, op_);
    Tensor& y = ctx.output(0, x.dtype(), g.output);
    if (y.element_count() == 0) return;
    ONYX_CHECK(x.element_count() > 0, ErrorCode::kInvalidArgument, op_,
               ": cannot resize empty input ", shape_to_string(x.shape()), " to ",
               shape_to_string(g.output));
    if (attrs_.mode == ResizeMode::kNearest) {
      bool ok = dispatch_dtype(
          TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t, uint8_t,
                   uint16_t, uint32_t, uint64_t>{},
          x.dtype(), [&]<typename T>() { run_nearest<T>(x, y, g, ctx.threads()); });
      if (!ok) unsupported(x.dtype());
      return;
    }
    dispatch_dtype_or_throw<NumericTypes>(x.dtype(), op_, [&]<typename T>() {
      using Acc = std::conditional_t<std::is_same_v<T, double> || std::is_same_v<T, int64_t> ||
                                         std::is_same_v<T, uint64_t> ||
                                         std::is_same_v<T, int32_t> ||
                                         std::is_same_v<T, uint32_t>,
                                     double, float>;
      run_interpolate<T, Acc>(x, y, g, ctx.threads());
    });
  }

 private:
  [[noreturn]] void unsupported(DataType dtype) const {
    throw_error(ErrorCode::kNotImplemented, op_, ": element type ", dtype_name(dtype),
                " is not supported on CPU");
  }

  // Axes that change, in order; the reference skips axes with scale 1, same size, full ROI.
  std::vector<int64_t> active_axes(const Shape& in, const ResizeGeometry& g) const {
    std::vector<int64_t> axes;
    for (size_t a = 0; a < in.size(); ++a) {
      bool identity = std::abs(g.scales[a] - 1.0) <= 1e-9 && g.output[a] == in[a] &&
                      (attrs_.transform != CoordinateTransform::kTfCropAndResize ||
                       (std::abs(g.roi_start[a]) <= 1e-9 && std::abs(g.roi_end[a] - 1) <= 1e-9));
      if (!identity) axes.push_back(static_cast<int64_t>(a));
    }
    return axes;
  }

  // Nearest is one N-d gather: per-axis tables of input offsets, no intermediate passes.
  template <typename T>
  void run_nearest(const Tensor& x, Tensor& y, const ResizeGeometry& g, int threads) {
    const T fill = convert_to<T>(attrs_.extrapolation_value);
    const Shape& in = x.shape();
    std::vector<int64_t> axes = active_axes(in, g);
    if (axes.empty()) {
      std::memcpy(y.mutable_raw_data(), x.raw_data(), x.byte_size());
      return;
    }
    const size_t rank = in.size();
    std::vector<int64_t> in_strides(rank, 1);
    for (size_t d = rank; d-- > 1;) in_strides[d - 1] = in_strides[d] * in[d];
    // offsets[d][j]: input offset of output index j along d; -1 marks extrapolation.
    std::vector<std::vector<int64_t>> offsets(rank);
    for (size_t d = 0; d < rank; ++d) {
      offsets[d].resize(g.output[d]);
      if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) == axes.end()) {
        for (int64_t j = 0; j < g.output[d]; ++j) offsets[d][j] = j * in_strides[d];
        continue;
      }
      AxisTaps taps =
          build_taps(attrs_, in[d], g.output[d], g.scales[d], g.roi_start[d], g.roi_end[d]);
      for (int64_t j = 0; j < g.output[d]; ++j) {
        offsets[d][j] = taps.extrapolate[j] ? -1 : taps.index[j] * in_strides[d];
      }
    }
    const int64_t last = g.output[rank - 1];
    const int64_t rows = y.element_count() / std::max<int64_t>(last, 1);
    const T* src = x.data<T>();
    T* dst = y.mutable_data<T>();
    const int64_t* last_off = offsets[rank - 1].data();
    parallel_for(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(last, 1)),
                 threads, [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     int64_t base = 0, rest = r;
                     bool outside = false;
                     for (size_t d = rank - 1; d-- > 0;) {
                       const int64_t o = offsets[d][rest % g.output[d]];
                       rest /= g.output[d];
                       if (o < 0) outside = true;
                       base += o;
                     }
                     T* out = dst + r * last;
                     if (outside) {
                       std::fill(out, out + last, fill);
                       continue;
                     }
                     const T* row = src + base;
                     for (int64_t k = 0; k < last; ++k) {
                       out[k] = last_off[k] < 0 ? fill : row[last_off[k]];
                     }
                   }
                 });
  }

  template <typename T, typename Acc>
  void run_interpolate(const Tensor& x, Tensor& y, const ResizeGeometry& g, int threads) {
    Shape cur = x.shape();
    std::vector<int64_t> axes = active_axes(cur, g);
    // The innermost axis is a strided gather per element; when it grows, resize it first,
    // while the data is smallest (the passes commute: each is linear with weights summing
    // to 1).
    const int64_t innermost = static_cast<int64_t>(cur.size()) - 1;
    if (axes.size() > 1 && axes.back() == innermost && g.output[innermost] > cur[innermost]) {
      std::rotate(axes.rbegin(), axes.rbegin() + 1, axes.rend());
    }
    const int64_t n_in = x.element_count();
    // Two ping-pong buffers, left uninitialised (every element is written).
    std::unique_ptr<Acc[]> bufs[2];
    int64_t caps[2] = {0, 0};
    auto buffer = [&](int which, int64_t n) {
      if (caps[which] < n) {
        bufs[which] = std::make_unique_for_overwrite<Acc[]>(static_cast<size_t>(n));
        caps[which] = n;
      }
      return bufs[which].get();
    };
    int cur_buf = -1;  // which buffer `src` lives in; -1: the input itself
    const Acc* src;
    if constexpr (std::is_same_v<T, Acc>) {
      src = x.data<T>();
    } else {
      Acc* a = buffer(0, n_in);
      const T* xi = x.data<T>();
      if constexpr (std::is_same_v<T, Float16>) {
        half_to_float(xi, a, n_in);
      } else {
        for (int64_t i = 0; i < n_in; ++i) a[i] = static_cast<Acc>(load(xi[i]));
      }
      src = a;
      cur_buf = 0;
    }
    const Acc fill = static_cast<Acc>(attrs_.extrapolation_value);
    T* out = y.mutable_data<T>();
    for (size_t n = 0; n < axes.size(); ++n) {
      const int64_t axis = axes[n];
      AxisTaps taps = build_taps(attrs_, cur[axis], g.output[axis], g.scales[axis],
                                 g.roi_start[axis], g.roi_end[axis]);
      Shape next = cur;
      next[axis] = g.output[axis];
      Acc* dst;
      int next_buf = cur_buf == 0 ? 1 : 0;
      if constexpr (std::is_same_v<T, Acc>) {
        dst = n + 1 == axes.size() ? out : buffer(next_buf, shape_element_count(next));
      } else {
        dst = buffer(next_buf, shape_element_count(next));
      }
      interpolate_axis(src, dst, outer_of(cur, axis), cur[axis], next[axis], inner_of(cur, axis),
                       taps, fill, threads);
      src = dst;
      cur_buf = next_buf;
      cur = next;
    }
    if constexpr (std::is_same_v<T, Acc>) {
      if (axes.empty()) std::memcpy(out, src, x.byte_size());
    } else {
      const int64_t n_out = y.element_count();
      if constexpr (std::is_same_v<T, Float16>) {
        float_to_half(src, out, n_out);
      } else {
        for (int64_t i = 0; i < n_out; ++i) out[i] = from_acc<T>(src[i]);
      }
    }
  }

  static int64_t outer_of(const Shape& s, int64_t axis) {
    int64_t v = 1;
    for (int64_t i = 0; i < axis; ++i) v *= s[i];
    return v;
  }
  static int64_t inner_of(const Shape& s, int64_t axis) {
    int64_t v = 1;
    for (size_t i = axis + 1; i < s.size(); ++i) v *= s[i];
    return v;
  }

  std::string op_;
  int64_t opset_;
  ResizeAttributes attrs_;
  std::vector<double> attr_scales_;
};

std::unique_ptr<Kernel> make_resize(const KernelInfo& info) {
  return std::make_unique<ResizeKernel>(info, "Resize");
}
std::unique_ptr<Kernel> make_upsample(const KernelInfo& info) {
  return std::make_unique<ResizeKernel>(info, "Upsample");
}

}  // namespace

ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "Resize", 10, kOpsetOpenEnded, make_resize);
// Upsample was deprecated (removed) at opset 10.
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "Upsample", 7, 9, make_upsample);

}  // namespace onyx
