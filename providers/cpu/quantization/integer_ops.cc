// The integer matmul and conv ops: MatMulInteger and ConvInteger (int32 results), QLinearMatMul
// and QLinearConv (requantized to 8 bits). Products are accumulated exactly in int32 (matmul
// directly, conv after an int16 im2col), then rescaled as the ONNX reference does:
// multiplier a_scale * b_scale / y_scale in the scales' type, applied in double, round half
// to even, saturate. Nodes whose weights, scales and zero points are constants in the form
// onnxruntime.quantization writes run on oneDNN's int8 kernels instead (dnnl_integer.h).
#include <algorithm>
#include <cmath>

#include "onnx_ops/linalg.h"
#include "onnx_ops/nn_geometry.h"
#include "providers/cpu/nn/conv_reference.h"
#include "providers/cpu/quantization/dnnl_integer.h"
#include "providers/cpu/quantization/quant_values.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// Kernel::implementation() of the integer products: oneDNN's int8 primitives (constant weights,
// scales and zero points) or the portable loops below.
constexpr const char* kOneDnnInt8 = "oneDNN int8";
constexpr const char* kIntegerLoops = "reference loops";

using Int8Types = TypeList<uint8_t, int8_t>;

// A zero point or scale read as ints/floats, with one value or one per row/column/channel.
std::vector<int32_t> read_zero_point(const KernelContext& ctx, size_t i, int64_t per,
                                     DataType data_type, std::string_view op, std::string_view what) {
  if (!ctx.has_input(i)) return {0};
  const Tensor& t = ctx.input(i);
  if (t.dtype() != data_type) {
    throw_error(ErrorCode::kInvalidArgument, op, ": ", what, " type ", dtype_name(t.dtype()),
                " differs from its data's ", dtype_name(data_type));
  }
  if (t.element_count() != 1 && t.element_count() != per) {
    throw_error(ErrorCode::kInvalidArgument, op, ": ", what, " ", shape_to_string(t.shape()),
                " must have 1 or ", per, " elements");
  }
  const std::vector<float> values = read_as_float(t, op);
  return std::vector<int32_t>(values.begin(), values.end());
}

std::vector<float> read_scale(const KernelContext& ctx, size_t i, int64_t per, std::string_view op,
                              std::string_view what) {
  const Tensor& t = ctx.input(i);
  if (t.element_count() != 1 && t.element_count() != per) {
    throw_error(ErrorCode::kInvalidArgument, op, ": ", what, " ", shape_to_string(t.shape()),
                " must have 1 or ", per, " elements");
  }
  return read_as_float(t, op);
}

void check_int8_type(const Tensor& t, std::string_view op, std::string_view what) {
  if (t.dtype() != DataType::kUInt8 && t.dtype() != DataType::kInt8) {
    throw_error(ErrorCode::kNotImplemented, op, ": ", what, " type ", dtype_name(t.dtype()),
                " is not supported (uint8 or int8)");
  }
}

// Offset of batch `index` of an operand whose batch dims (`own`, padded) broadcast to `batch`.
int64_t batch_offset(const Shape& batch, const Shape& own, int64_t index) {
  int64_t offset = 0, stride = 1;
  for (size_t d = batch.size(); d-- > 0;) {
    const int64_t i = index % batch[d];
    index /= batch[d];
    if (own[d] != 1) offset += i * stride;
    stride *= own[d];
  }
  return offset;
}

// c[batch, m, n] = sum_k (a[m,k] - za[m]) * (b[k,n] - zb[n]) in int32. Operands are widened to
// int16 with the zero point removed first so the inner loop is a plain vector multiply-add.
template <typename TA, typename TB>
void integer_matmul(const TA* a, const TB* b, const std::vector<int32_t>& za,
                    const std::vector<int32_t>& zb, const MatMulShape& s, int32_t* c, int threads) {
  const int64_t m = s.m, k = s.k, n = s.n;
  const int64_t b_batches = shape_element_count(s.b_batch);
  std::vector<int16_t> bw(static_cast<size_t>(b_batches * k * n));
  for (int64_t i = 0; i < b_batches * k; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      bw[i * n + j] = static_cast<int16_t>(b[i * n + j] - zb[zb.size() == 1 ? 0 : j]);
    }
  }
  // Tasks are (row, block of columns) so a single-row product (batch 1) still splits.
  constexpr int64_t kColumnBlock = 256;
  const int64_t rows = s.batch_count() * m;
  const int64_t blocks = (n + kColumnBlock - 1) / kColumnBlock;
  parallel_for(rows * blocks, std::max<int64_t>(1, 16384 / std::max<int64_t>(k * std::min(n, kColumnBlock), 1)),
               threads, [&](int64_t begin, int64_t end) {
    std::vector<int16_t> arow(static_cast<size_t>(k));
    int64_t converted = -1;  // the row arow holds
    for (int64_t t = begin; t < end; ++t) {
      const int64_t r = t / blocks, j0 = (t % blocks) * kColumnBlock;
      const int64_t j1 = std::min(n, j0 + kColumnBlock);
      const int64_t bi = r / m, row = r % m;
      const int16_t* bb = bw.data() + batch_offset(s.batch, s.b_batch, bi) * k * n;
      if (converted != r) {
        const TA* ar = a + (batch_offset(s.batch, s.a_batch, bi) * m + row) * k;
        const int32_t zr = za[za.size() == 1 ? 0 : row];
        for (int64_t i = 0; i < k; ++i) arow[i] = static_cast<int16_t>(ar[i] - zr);
        converted = r;
      }
      int32_t* out = c + r * n;
      std::fill(out + j0, out + j1, 0);
      for (int64_t i = 0; i < k; ++i) {
        const int32_t av = arow[i];
        const int16_t* brow = bb + i * n;
        for (int64_t j = j0; j < j1; ++j) out[j] += av * brow[j];
      }
    }
  });
}

// Multiplier a_scale * b_scale / y_scale evaluated in the scales' type (float16 rounds each
// step, as NumPy's float16 arithmetic does).
double requant_multiplier(float sa, float sb, float sy, DataType scale_type) {
  if (scale_type == DataType::kFloat16) {
    const float p = static_cast<float>(Float16(sa * sb));
    return static_cast<float>(Float16(p / sy));
  }
  if (scale_type == DataType::kBFloat16) {
    const float p = static_cast<float>(BFloat16(sa * sb));
    return static_cast<float>(BFloat16(p / sy));
  }
  return (sa * sb) / sy;
}

template <typename Y>
void requantize(const int32_t* acc, int64_t rows, int64_t n, const std::vector<float>& row_scale,
                const std::vector<float>& col_scale, float y_scale, DataType scale_type,
                int32_t y_zero, int64_t row_period, Y* y, int threads) {
  constexpr double lo = std::numeric_limits<Y>::min(), hi = std::numeric_limits<Y>::max();
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), threads,
               [&](int64_t begin, int64_t end) {
    std::vector<double> mult(static_cast<size_t>(n));
    for (int64_t r = begin; r < end; ++r) {
      const float sr = row_scale[row_scale.size() == 1 ? 0 : r % row_period];
      for (int64_t j = 0; j < n; ++j) {
        mult[j] = requant_multiplier(sr, col_scale[col_scale.size() == 1 ? 0 : j], y_scale, scale_type);
      }
      for (int64_t j = 0; j < n; ++j) {
        const double v = std::nearbyint(static_cast<double>(acc[r * n + j]) * mult[j] + y_zero);
        y[r * n + j] = static_cast<Y>(std::clamp(v, lo, hi));
      }
    }
  });
}

class MatMulIntegerKernel final : public Kernel {
 public:
  explicit MatMulIntegerKernel(const KernelInfo& info)
      : qlinear_(info.node().op_type == "QLinearMatMul"),
        fast_(DnnlIntegerConv::create(info, true, qlinear_, nullptr, 1)) {}

  std::string implementation() const override { return fast_ ? kOneDnnInt8 : kIntegerLoops; }

  void compute(KernelContext& ctx) override {
    const char* op = qlinear_ ? "QLinearMatMul" : "MatMulInteger";
    const size_t ib = qlinear_ ? 3 : 1;
    const Tensor& a = ctx.input(0);
    if (fast_ && fast_->run(ctx, a)) return;
    const Tensor& b = ctx.input(ib);
    if (qlinear_ && (small_float_format(a.dtype()).exponent_bits != 0 ||
                     small_float_format(b.dtype()).exponent_bits != 0)) {
      compute_float8(ctx, a, b);
      return;
    }
    check_int8_type(a, op, "A");
    check_int8_type(b, op, "B");
    const MatMulShape s = matmul_shape(a.shape(), b.shape(), op);
    const std::vector<int32_t> za = read_zero_point(ctx, qlinear_ ? 2 : 2, s.m, a.dtype(), op, "a_zero_point");
    const std::vector<int32_t> zb = read_zero_point(ctx, qlinear_ ? 5 : 3, s.n, b.dtype(), op, "b_zero_point");
    std::vector<int32_t> acc_buffer;
    int32_t* acc;
    Tensor* out = nullptr;
    if (qlinear_) {
      acc_buffer.resize(static_cast<size_t>(shape_element_count(s.output)));
      acc = acc_buffer.data();
    } else {
      out = &ctx.output(0, DataType::kInt32, s.output);
      acc = out->mutable_data<int32_t>();
    }
    dispatch_dtype(Int8Types{}, a.dtype(), [&]<typename TA>() {
      dispatch_dtype(Int8Types{}, b.dtype(), [&]<typename TB>() {
        integer_matmul(a.data<TA>(), b.data<TB>(), za, zb, s, acc, ctx.threads());
      });
    });
    if (!qlinear_) return;
    const std::vector<float> sa = read_scale(ctx, 1, s.m, op, "a_scale");
    const std::vector<float> sb = read_scale(ctx, 4, s.n, op, "b_scale");
    const std::vector<float> sy = read_scale(ctx, 6, 1, op, "y_scale");
    const DataType y_type = ctx.has_input(7) ? ctx.input(7).dtype() : a.dtype();
    const std::vector<int32_t> zy = read_zero_point(ctx, 7, 1, y_type, op, "y_zero_point");
    Tensor& y = ctx.output(0, y_type, s.output);
    const int64_t rows = s.batch_count() * s.m;
    const bool ok = dispatch_dtype(Int8Types{}, y_type, [&]<typename Y>() {
      requantize<Y>(acc, rows, s.n, sa, sb, sy[0], ctx.input(1).dtype(), zy[0], s.m,
                    y.mutable_data<Y>(), ctx.threads());
    });
    if (!ok) {
      throw_error(ErrorCode::kNotImplemented, op, ": output type ", dtype_name(y_type),
                  " is not supported (uint8 or int8)");
    }
  }

 private:
  // QLinearMatMul on float8 operands (opset 21): dequantize both to float, multiply in double,
  // quantize into y's type (its zero point's type, else A's) with saturation.
  static void compute_float8(KernelContext& ctx, const Tensor& a, const Tensor& b) {
    const char* op = "QLinearMatMul";
    const MatMulShape s = matmul_shape(a.shape(), b.shape(), op);
    std::vector<float> av = read_as_float(a, op), bv = read_as_float(b, op);
    const std::vector<float> sa = read_scale(ctx, 1, s.m, op, "a_scale");
    const std::vector<float> sb = read_scale(ctx, 4, s.n, op, "b_scale");
    const std::vector<float> sy = read_scale(ctx, 6, 1, op, "y_scale");
    std::vector<float> za = ctx.has_input(2) ? read_scale(ctx, 2, s.m, op, "a_zero_point") : std::vector<float>{0};
    std::vector<float> zb = ctx.has_input(5) ? read_scale(ctx, 5, s.n, op, "b_zero_point") : std::vector<float>{0};
    const DataType y_type = ctx.has_input(7) ? ctx.input(7).dtype() : a.dtype();
    const float zy = ctx.has_input(7) ? read_as_float(ctx.input(7), op)[0] : 0.0f;
    const SmallFloatFormat format = small_float_format(y_type);
    float lo = 0, hi = 0;
    quant_range(y_type, lo, hi);
    if (format.exponent_bits == 0 && hi == 0) {
      throw_error(ErrorCode::kNotImplemented, op, ": output type ", dtype_name(y_type), " is not supported");
    }
    const int64_t m = s.m, k = s.k, n = s.n;
    Tensor& y = ctx.output(0, y_type, s.output);
    auto* bytes = static_cast<uint8_t*>(y.mutable_raw_data());
    for (int64_t bi = 0; bi < s.batch_count(); ++bi) {
      const float* ab = av.data() + batch_offset(s.batch, s.a_batch, bi) * m * k;
      const float* bb = bv.data() + batch_offset(s.batch, s.b_batch, bi) * k * n;
      for (int64_t r = 0; r < m; ++r) {
        const double ar_scale = sa[sa.size() == 1 ? 0 : r], ar_zero = za[za.size() == 1 ? 0 : r];
        for (int64_t j = 0; j < n; ++j) {
          const double bz = zb[zb.size() == 1 ? 0 : j];
          double sum = 0;
          for (int64_t i = 0; i < k; ++i) sum += (ab[r * k + i] - ar_zero) * (bb[i * n + j] - bz);
          const double v = sum * ar_scale * sb[sb.size() == 1 ? 0 : j] / sy[0] + zy;
          const int64_t at = (bi * m + r) * n + j;
          if (format.exponent_bits != 0) {
            bytes[at] = small_float_encode(format, static_cast<float>(v), true);
          } else if (y_type == DataType::kUInt8) {
            bytes[at] = static_cast<uint8_t>(std::clamp(std::nearbyint(v), 0.0, 255.0));
          } else {
            reinterpret_cast<int8_t*>(bytes)[at] = static_cast<int8_t>(std::clamp(std::nearbyint(v), -128.0, 127.0));
          }
        }
      }
    }
  }

  bool qlinear_;
  std::unique_ptr<DnnlIntegerConv> fast_;  // null: the loops above
};

// ConvInteger, QLinearConv and com.onyx NhwcQLinearConv (QLinearConv with X and Y
// channels-last, written by the channels-last pass so that a quantized network's chain of
// convolutions needs no layout change between them).
class ConvIntegerKernel final : public Kernel {
 public:
  explicit ConvIntegerKernel(const KernelInfo& info)
      : qlinear_(info.node().op_type != "ConvInteger"),
        channels_last_(info.node().op_type == "NhwcQLinearConv"),
        attrs_(WindowAttributes::read(info.attributes())),
        group_(info.attributes().get_int("group", 1)),
        fast_(DnnlIntegerConv::create(info, false, qlinear_, &attrs_, group_, channels_last_)) {}

  std::string implementation() const override { return fast_ ? kOneDnnInt8 : kIntegerLoops; }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (fast_ && fast_->run(ctx, x)) return;
    if (!channels_last_) {
      compute_reference(ctx, x, [&](DataType type, const Shape& shape) -> Tensor& { return ctx.output(0, type, shape); });
      return;
    }
    // A case oneDNN does not take (nonzero weight zero points, say): the loops, on X and Y
    // transposed channels-first and back.
    if (x.rank() < 3) {
      throw_error(ErrorCode::kInvalidArgument, "NhwcQLinearConv: X ", shape_to_string(x.shape()), " must have rank >= 3");
    }
    const int64_t rank = static_cast<int64_t>(x.rank());
    std::vector<int64_t> to_first{0, rank - 1}, to_last{0};
    for (int64_t d = 1; d < rank - 1; ++d) to_first.push_back(d);
    for (int64_t d = 2; d < rank; ++d) to_last.push_back(d);
    to_last.push_back(1);
    Shape first_shape;
    for (int64_t d : to_first) first_shape.push_back(x.dim(static_cast<size_t>(d)));
    Tensor x_first(x.dtype(), first_shape);
    transpose_data(x.dtype(), x.raw_data(), x.shape(), to_first, x_first.mutable_raw_data(), ctx.threads());
    Tensor y_first;
    compute_reference(ctx, x_first, [&](DataType type, const Shape& shape) -> Tensor& {
      y_first = Tensor(type, shape);
      return y_first;
    });
    Shape last_shape;
    for (int64_t d : to_last) last_shape.push_back(y_first.dim(static_cast<size_t>(d)));
    Tensor& y = ctx.output(0, y_first.dtype(), last_shape);
    transpose_data(y_first.dtype(), y_first.raw_data(), y_first.shape(), to_last, y.mutable_raw_data(), ctx.threads());
  }

 private:
  // The portable loops on a channels-first `x`, into the tensor `output(type, shape)` gives.
  template <typename Output>
  void compute_reference(KernelContext& ctx, const Tensor& x, Output&& output) const {
    const char* op = qlinear_ ? "QLinearConv" : "ConvInteger";
    const size_t iw = qlinear_ ? 3 : 1;
    const Tensor& w = ctx.input(iw);
    check_int8_type(x, op, "x");
    check_int8_type(w, op, "w");
    const Shape& xs = x.shape();
    const Shape& ws = w.shape();
    if (xs.size() < 3 || ws.size() != xs.size()) {
      throw_error(ErrorCode::kInvalidArgument, op, ": x ", shape_to_string(xs), " and w ",
                  shape_to_string(ws), " must have the same rank >= 3");
    }
    if (group_ <= 0 || xs[1] != ws[1] * group_ || ws[0] % group_ != 0) {
      throw_error(ErrorCode::kInvalidArgument, op, ": x ", shape_to_string(xs), " has ", xs[1],
                  " channels but w ", shape_to_string(ws), " with group ", group_, " expects ",
                  ws[1] * group_);
    }
    std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
    std::vector<int64_t> spatial(xs.begin() + 2, xs.end());
    const WindowGeometry g = forward_window_geometry(attrs_, spatial, kernel, op);
    const int64_t batch = xs[0], channels = xs[1], maps = ws[0];
    const std::vector<int32_t> zx = read_zero_point(ctx, qlinear_ ? 2 : 2, 1, x.dtype(), op, "x_zero_point");
    const std::vector<int32_t> zw = read_zero_point(ctx, qlinear_ ? 5 : 3, maps, w.dtype(), op, "w_zero_point");
    Shape out_shape = {batch, maps};
    out_shape.insert(out_shape.end(), g.output.begin(), g.output.end());
    std::vector<int32_t> acc_buffer;
    int32_t* acc;
    if (qlinear_) {
      acc_buffer.resize(static_cast<size_t>(shape_element_count(out_shape)));
      acc = acc_buffer.data();
    } else {
      acc = output(DataType::kInt32, out_shape).template mutable_data<int32_t>();
    }
    dispatch_dtype(Int8Types{}, x.dtype(), [&]<typename TX>() {
      dispatch_dtype(Int8Types{}, w.dtype(), [&]<typename TW>() {
        integer_conv(x.data<TX>(), w.data<TW>(), zx[0], zw, batch, channels, maps, g, acc,
                     ctx.threads());
      });
    });
    if (qlinear_ && ctx.has_input(8)) {
      const Tensor& b = ctx.input(8);
      if (b.dtype() != DataType::kInt32 || b.element_count() != maps) {
        throw_error(ErrorCode::kInvalidArgument, op, ": B ", shape_to_string(b.shape()),
                    " must be int32 with ", maps, " elements");
      }
      const int32_t* bias = b.data<int32_t>();
      const int64_t plane = g.output_count();
      for (int64_t r = 0; r < batch * maps; ++r) {
        for (int64_t o = 0; o < plane; ++o) acc[r * plane + o] += bias[r % maps];
      }
    }
    if (!qlinear_) return;
    const std::vector<float> sx = read_scale(ctx, 1, 1, op, "x_scale");
    const std::vector<float> sw = read_scale(ctx, 4, maps, op, "w_scale");
    const std::vector<float> sy = read_scale(ctx, 6, 1, op, "y_scale");
    const DataType y_type = ctx.has_input(7) ? ctx.input(7).dtype() : x.dtype();
    const std::vector<int32_t> zy = read_zero_point(ctx, 7, 1, y_type, op, "y_zero_point");
    Tensor& y = output(y_type, out_shape);
    // Viewed as rows of one output map each: the row's channel picks the weight scale.
    const int64_t plane = g.output_count();
    const bool ok = dispatch_dtype(Int8Types{}, y_type, [&]<typename Y>() {
      requantize<Y>(acc, batch * maps, plane, sw, sx, sy[0], ctx.input(1).dtype(), zy[0],
                    maps, y.mutable_data<Y>(), ctx.threads());
    });
    if (!ok) {
      throw_error(ErrorCode::kNotImplemented, op, ": output type ", dtype_name(y_type),
                  " is not supported (uint8 or int8)");
    }
  }

  // y[n, m] = sum over the group's channels and window of (x - zx) * (w[m] - zw[m]) in int32:
  // im2col of one image and group into int16 columns (padding reads as zero after the zero
  // point is removed, as in the reference), then rows of weights times the columns.
  template <typename TX, typename TW>
  void integer_conv(const TX* x, const TW* w, int32_t zx, const std::vector<int32_t>& zw,
                    int64_t batch, int64_t channels, int64_t maps, const WindowGeometry& g,
                    int32_t* y, int threads) const {
    const int64_t in_size = g.input_count(), out_size = g.output_count(), k_size = g.kernel_count();
    const int64_t cg = channels / group_, mg = maps / group_, depth = cg * k_size;
    const std::vector<int64_t> offsets = kernel_offsets(g);
    const size_t rank = g.rank();
    // Input index of every (kernel position, output position), -1 in the padding.
    std::vector<int64_t> index(static_cast<size_t>(k_size * out_size));
    std::vector<int64_t> start(rank);
    for (int64_t o = 0; o < out_size; ++o) {
      window_start(g, o, start.data());
      for (int64_t k = 0; k < k_size; ++k) {
        index[k * out_size + o] = window_input_index(g, start.data(), offsets.data() + k * rank);
      }
    }
    std::vector<int16_t> wq(static_cast<size_t>(maps * depth));
    for (int64_t m = 0; m < maps; ++m) {
      const int32_t z = zw[zw.size() == 1 ? 0 : m];
      for (int64_t i = 0; i < depth; ++i) wq[m * depth + i] = static_cast<int16_t>(w[m * depth + i] - z);
    }
    std::vector<int16_t> col(static_cast<size_t>(depth * out_size));
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t gi = 0; gi < group_; ++gi) {
        parallel_for(depth, std::max<int64_t>(1, 16384 / std::max<int64_t>(out_size, 1)), threads,
                     [&](int64_t begin, int64_t end) {
          for (int64_t row = begin; row < end; ++row) {
            const int64_t c = row / k_size, k = row % k_size;
            const TX* xc = x + (n * channels + gi * cg + c) * in_size;
            const int64_t* idx = index.data() + k * out_size;
            int16_t* dst = col.data() + row * out_size;
            for (int64_t o = 0; o < out_size; ++o) {
              dst[o] = idx[o] < 0 ? int16_t{0} : static_cast<int16_t>(xc[idx[o]] - zx);
            }
          }
        });
        parallel_for(mg, 1, threads, [&](int64_t begin, int64_t end) {
          for (int64_t mm = begin; mm < end; ++mm) {
            const int64_t m = gi * mg + mm;
            int32_t* out = y + (n * maps + m) * out_size;
            std::fill(out, out + out_size, 0);
            const int16_t* wr = wq.data() + m * depth;
            for (int64_t i = 0; i < depth; ++i) {
              const int32_t wv = wr[i];
              if (wv == 0) continue;
              const int16_t* cr = col.data() + i * out_size;
              for (int64_t o = 0; o < out_size; ++o) out[o] += wv * cr[o];
            }
          }
        });
      }
    }
  }

  bool qlinear_;
  bool channels_last_;  // NhwcQLinearConv
  WindowAttributes attrs_;
  int64_t group_;
  std::unique_ptr<DnnlIntegerConv> fast_;  // null: integer_conv
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "MatMulInteger", 10, kOpsetOpenEnded, MatMulIntegerKernel);
ONYX_REGISTER_KERNEL("CPU", "", "QLinearMatMul", 10, kOpsetOpenEnded, MatMulIntegerKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ConvInteger", 10, kOpsetOpenEnded, ConvIntegerKernel);
ONYX_REGISTER_KERNEL("CPU", "", "QLinearConv", 10, kOpsetOpenEnded, ConvIntegerKernel);
ONYX_REGISTER_KERNEL("CPU", kOnyxDomain, "NhwcQLinearConv", 1, kOpsetOpenEnded, ConvIntegerKernel);

}  // namespace onyx
