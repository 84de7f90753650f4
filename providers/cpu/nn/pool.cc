// Pooling: MaxPool (with Indices), AveragePool, LpPool and their Global forms, over any number
// of spatial dims; and the channels-last com.onyx forms of MaxPool and AveragePool. Each window is clipped to the input once per output position, so the inner
// loops run over contiguous input rows without per-element bounds checks.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "onnx_ops/nn_geometry.h"
#include "onnx_ops/op_schema.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

enum class PoolKind { kMax, kAverage, kLp };

// The clipped window of one output position: per dim, the first and last+1 kernel index that
// land inside the input, and the input coordinate of kernel index 0.
struct Window {
  static constexpr size_t kMaxRank = 8;
  int64_t start[kMaxRank], lo[kMaxRank], hi[kMaxRank];
  int64_t padded_count;  // positions inside the padded input (count_include_pad divisor)
};

inline void clip_window(const WindowGeometry& g, int64_t o, Window& w) {
  w.padded_count = 1;
  for (size_t d = g.rank(); d-- > 0;) {
    const int64_t pos = o % g.output[d];
    o /= g.output[d];
    const int64_t start = pos * g.strides[d] - g.pad_begin(d);
    const int64_t dil = g.dilations[d];
    w.start[d] = start;
    w.lo[d] = start >= 0 ? 0 : (-start + dil - 1) / dil;
    w.hi[d] = std::min<int64_t>(g.kernel[d], start >= g.input[d] ? 0 : (g.input[d] - 1 - start) / dil + 1);
    if (w.hi[d] < w.lo[d]) w.hi[d] = w.lo[d];
    const int64_t padded_end = g.input[d] + g.pad_end(d);
    w.padded_count *= std::min<int64_t>(g.kernel[d], (padded_end - 1 - start) / dil + 1);
  }
}

// Calls visit(flat_input_index) for every input position of the clipped window, row-major.
template <typename Visit>
inline void for_each_in_window(const WindowGeometry& g, const Window& w, const Visit& visit) {
  const size_t rank = g.rank();
  for (size_t d = 0; d < rank; ++d) {
    if (w.hi[d] <= w.lo[d]) return;
  }
  int64_t k[Window::kMaxRank];
  for (size_t d = 0; d < rank; ++d) k[d] = w.lo[d];
  const size_t last = rank - 1;
  const int64_t dil = g.dilations[last];
  while (true) {
    int64_t base = 0;
    for (size_t d = 0; d < last; ++d) base = (base + w.start[d] + k[d] * g.dilations[d]) * g.input[d + 1];
    base += w.start[last];
    for (int64_t kk = w.lo[last]; kk < w.hi[last]; ++kk) visit(base + kk * dil);
    size_t d = last;
    while (d-- > 0) {
      if (++k[d] < w.hi[d]) break;
      k[d] = w.lo[d];
    }
    if (d == static_cast<size_t>(-1)) return;
  }
}

// Converts a row-major flat spatial index into the column-major one (storage_order=1).
int64_t column_major_index(const WindowGeometry& g, int64_t index) {
  int64_t result = 0, scale = 1;
  std::vector<int64_t> coords(g.rank());
  for (size_t d = g.rank(); d-- > 0;) {
    coords[d] = index % g.input[d];
    index /= g.input[d];
  }
  for (size_t d = 0; d < g.rank(); ++d) {
    result += coords[d] * scale;
    scale *= g.input[d];
  }
  return result;
}

// Per-dim window tables (start, clipped kernel range, padded count) for each output position,
// so the 2-D loops do no divisions per output.
// True for 2x2 windows at stride 2, undilated, that all lie inside the image (no padding, and
// ceil_mode added no partial window): the pools with a four-tap fast path.
bool is_plain_2x2_window(const WindowGeometry& g) {
  if (g.rank() != 2) return false;
  for (size_t d = 0; d < 2; ++d) {
    if (g.kernel[d] != 2 || g.strides[d] != 2 || g.dilations[d] != 1 || g.pad_begin(d) != 0 ||
        2 * g.output[d] > g.input[d]) {
      return false;
    }
  }
  return true;
}

struct DimTable {
  std::vector<int64_t> start, lo, hi, padded;
};

DimTable dim_table(const WindowGeometry& g, size_t d) {
  DimTable t;
  for (int64_t o = 0; o < g.output[d]; ++o) {
    const int64_t start = o * g.strides[d] - g.pad_begin(d), dil = g.dilations[d];
    const int64_t lo = start >= 0 ? 0 : (-start + dil - 1) / dil;
    int64_t hi = std::min<int64_t>(g.kernel[d], start >= g.input[d] ? 0 : (g.input[d] - 1 - start) / dil + 1);
    t.start.push_back(start);
    t.lo.push_back(lo);
    t.hi.push_back(std::max(hi, lo));
    t.padded.push_back(std::min<int64_t>(g.kernel[d], (g.input[d] + g.pad_end(d) - 1 - start) / dil + 1));
  }
  return t;
}

using PoolFloatTypes = TypeList<float, double, Float16, BFloat16>;
using MaxPoolTypes = TypeList<float, double, Float16, BFloat16, int8_t, uint8_t>;

class PoolKernel final : public Kernel {
 public:
  PoolKernel(const KernelInfo& info, PoolKind kind, bool global)
      : kind_(kind), global_(global), op_(info.node().op_type) {
    const NodeAttributes& attrs = info.attributes();
    if (!global) {
      attrs_ = WindowAttributes::read(attrs);
      if (attrs_.kernel_shape.empty()) {
        throw_error(ErrorCode::kInvalidModel, info.node().describe(), ": kernel_shape is required");
      }
    }
    count_include_pad_ = attrs.get_int("count_include_pad", 0) != 0;
    storage_order_ = attrs.get_int("storage_order", 0);
    const Attribute* p = attrs.find("p");
    if (p) p_ = p->kind == Attribute::Kind::kFloat ? p->f : static_cast<float>(p->i);
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.rank() < 3 || x.rank() - 2 > Window::kMaxRank) {
      throw_error(ErrorCode::kInvalidArgument, op_, ": input must be [N, C, spatial...] with 1 to ",
                  Window::kMaxRank, " spatial dims, got ", shape_to_string(x.shape()));
    }
    std::vector<int64_t> spatial(x.shape().begin() + 2, x.shape().end());
    WindowAttributes attrs = attrs_;
    if (global_) attrs.kernel_shape = spatial;
    WindowGeometry g = forward_window_geometry(attrs, spatial, attrs.kernel_shape, op_);
    Shape y_shape{x.dim(0), x.dim(1)};
    y_shape.insert(y_shape.end(), g.output.begin(), g.output.end());
    Tensor& y = ctx.output(0, x.dtype(), y_shape);
    Tensor* indices = nullptr;
    if (kind_ == PoolKind::kMax && ctx.has_output(1)) {
      indices = &ctx.output(1, DataType::kInt64, y_shape);
    }
    if (y.element_count() == 0) return;
    auto run = [&]<typename T>() { pool<T>(x, g, y, indices, ctx.threads()); };
    if (kind_ == PoolKind::kMax) dispatch_dtype_or_throw<MaxPoolTypes>(x.dtype(), op_, run);
    else dispatch_dtype_or_throw<PoolFloatTypes>(x.dtype(), op_, run);
  }

 private:
  // The common 2-D case: plain nested loops over the clipped window rows and columns.
  template <typename T>
  void pool_2d(const Tensor& x, const WindowGeometry& g, Tensor& y, Tensor* indices, int threads) const {
    using A = std::conditional_t<std::is_same_v<T, double>, double, ComputeType<T>>;
    const DimTable th = dim_table(g, 0), tw = dim_table(g, 1);
    const int64_t height = g.input[0], width = g.input[1], oh_count = g.output[0], ow_count = g.output[1];
    const int64_t dh = g.dilations[0], dw = g.dilations[1];
    const int64_t planes = x.dim(0) * x.dim(1), in_size = height * width, out_size = oh_count * ow_count;
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    int64_t* pi = indices ? indices->mutable_data<int64_t>() : nullptr;
    const bool is_max = kind_ == PoolKind::kMax;
    const int64_t work = std::max<int64_t>(1, out_size * g.kernel_count());
    parallel_for(planes, std::max<int64_t>(1, 16384 / work), threads, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        const T* in = px + plane * in_size;
        T* out = py + plane * out_size;
        for (int64_t oh = 0; oh < oh_count; ++oh) {
          const int64_t hlo = th.lo[oh], hhi = th.hi[oh], hs = th.start[oh];
          for (int64_t ow = 0; ow < ow_count; ++ow) {
            const int64_t wlo = tw.lo[ow], whi = tw.hi[ow], ws = tw.start[ow];
            if (is_max && !pi) {  // no argmax to track: a branch-free max the compiler vectorizes
              A best = std::numeric_limits<A>::lowest();
              if constexpr (std::is_floating_point_v<A>) best = -std::numeric_limits<A>::infinity();
              for (int64_t kh = hlo; kh < hhi; ++kh) {
                const T* row = in + (hs + kh * dh) * width + ws;
                for (int64_t kw = wlo; kw < whi; ++kw) {
                  const A v = static_cast<A>(load(row[kw * dw]));
                  best = v > best ? v : best;
                }
              }
              out[oh * ow_count + ow] = convert_to<T>(best);
            } else if (is_max) {
              A best = std::numeric_limits<A>::lowest();
              if constexpr (std::is_floating_point_v<A>) best = -std::numeric_limits<A>::infinity();
              // The first maximum in window order wins; selects instead of branches (random
              // data mispredicts a branch about every other tap).
              int64_t best_offset = -1;
              for (int64_t kh = hlo; kh < hhi; ++kh) {
                const int64_t row_offset = (hs + kh * dh) * width + ws;
                const T* row = in + row_offset;
                for (int64_t kw = wlo; kw < whi; ++kw) {
                  const A v = static_cast<A>(load(row[kw * dw]));
                  const bool take = (best_offset < 0) | (v > best);
                  best = take ? v : best;
                  best_offset = take ? row_offset + kw * dw : best_offset;
                }
              }
              out[oh * ow_count + ow] = convert_to<T>(best);
              if (pi) {
                const int64_t index = best_offset < 0                ? 0
                                      : storage_order_ == 1 ? (best_offset % width) * height + best_offset / width
                                                            : best_offset;
                pi[plane * out_size + oh * ow_count + ow] = plane * in_size + index;
              }
            } else {
              A sum = 0;
              for (int64_t kh = hlo; kh < hhi; ++kh) {
                const T* row = in + (hs + kh * dh) * width + ws;
                for (int64_t kw = wlo; kw < whi; ++kw) sum += static_cast<A>(load(row[kw * dw]));
              }
              const int64_t count = count_include_pad_ ? th.padded[oh] * tw.padded[ow] : (hhi - hlo) * (whi - wlo);
              out[oh * ow_count + ow] = convert_to<T>(count > 0 ? sum / static_cast<A>(count) : A(0));
            }
          }
        }
      }
    });
  }

  // 2-D max pooling tap by tap: for each kernel tap, one pass over an output row updates every
  // position the tap reaches inside the image, so the inner loop is a plain strided max with no
  // per-element bounds checks or window bookkeeping. With indices (row-major storage order) it
  // also keeps each output's argmax; taps come in window order and only a strictly larger value
  // (or the first tap) takes over, so the first maximum wins as in pool_2d.
  template <typename T, bool kIndices>
  void max_pool_2d_by_taps(const Tensor& x, const WindowGeometry& g, Tensor& y, int64_t* pi, int threads) const {
    using A = std::conditional_t<std::is_same_v<T, double>, double, ComputeType<T>>;
    const int64_t height = g.input[0], width = g.input[1], oh_count = g.output[0], ow_count = g.output[1];
    const int64_t sh = g.strides[0], sw = g.strides[1], dh = g.dilations[0], dw = g.dilations[1];
    const int64_t ph = g.pad_begin(0), pw = g.pad_begin(1);
    const int64_t planes = x.dim(0) * x.dim(1), in_size = height * width, out_size = oh_count * ow_count;
    // Per kernel column: the output columns whose tap lands inside the image.
    std::vector<int64_t> ow_begin(static_cast<size_t>(g.kernel[1])), ow_end(static_cast<size_t>(g.kernel[1]));
    for (int64_t kw = 0; kw < g.kernel[1]; ++kw) {
      const int64_t shift = pw - kw * dw;  // w = ow * sw - shift
      const int64_t first = shift <= 0 ? 0 : (shift + sw - 1) / sw;
      const int64_t last = width - 1 + shift < 0 ? -1 : (width - 1 + shift) / sw;
      ow_begin[static_cast<size_t>(kw)] = std::min(first, ow_count);
      ow_end[static_cast<size_t>(kw)] = std::max(ow_begin[static_cast<size_t>(kw)], std::min(last + 1, ow_count));
    }
    // Offset of each kernel tap from its window's origin, to turn a tap number into an index.
    std::vector<int64_t> tap_offset;
    for (int64_t kh = 0; kIndices && kh < g.kernel[0]; ++kh) {
      for (int64_t kw = 0; kw < g.kernel[1]; ++kw) tap_offset.push_back(kh * dh * width + kw * dw);
    }
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    const int64_t work = std::max<int64_t>(1, out_size * g.kernel_count());
    parallel_for(planes, std::max<int64_t>(1, 16384 / work), threads, [&](int64_t begin, int64_t end) {
      std::vector<A> best(static_cast<size_t>(ow_count));
      std::vector<int32_t> best_tap(kIndices ? static_cast<size_t>(ow_count) : 0);
      for (int64_t plane = begin; plane < end; ++plane) {
        const T* in = px + plane * in_size;
        T* out = py + plane * out_size;
        for (int64_t oh = 0; oh < oh_count; ++oh) {
          std::fill(best.begin(), best.end(), -std::numeric_limits<A>::infinity());
          if constexpr (kIndices) std::fill(best_tap.begin(), best_tap.end(), -1);
          for (int64_t kh = 0; kh < g.kernel[0]; ++kh) {
            const int64_t h = oh * sh - ph + kh * dh;
            if (h < 0 || h >= height) continue;
            const T* row = in + h * width;
            for (int64_t kw = 0; kw < g.kernel[1]; ++kw) {
              const int64_t offset = kw * dw - pw;  // input column of output column 0
              A* b = best.data();
              const int64_t first = ow_begin[static_cast<size_t>(kw)], last = ow_end[static_cast<size_t>(kw)];
              if constexpr (kIndices) {
                // The winning tap's number, not its offset: the same width as a float and loop
                // invariant, so the select vectorizes; offsets are rebuilt once per row below.
                int32_t* bt = best_tap.data();
                const int32_t tap = static_cast<int32_t>(kh * g.kernel[1] + kw);
                for (int64_t ow = first; ow < last; ++ow) {
                  const A v = static_cast<A>(load(row[ow * sw + offset]));
                  const A current = b[ow];
                  const int32_t current_tap = bt[ow];
                  const bool take = (current_tap < 0) | (v > current);
                  b[ow] = take ? v : current;
                  bt[ow] = take ? tap : current_tap;
                }
              } else {
                for (int64_t ow = first; ow < last; ++ow) {
                  const A v = static_cast<A>(load(row[ow * sw + offset]));
                  b[ow] = v > b[ow] ? v : b[ow];
                }
              }
            }
          }
          for (int64_t ow = 0; ow < ow_count; ++ow) out[oh * ow_count + ow] = convert_to<T>(best[static_cast<size_t>(ow)]);
          if constexpr (kIndices) {
            // A window wholly in the padding has no argmax: index 0 of the plane, as pool_2d.
            int64_t* indices_row = pi + plane * out_size + oh * ow_count;
            const int64_t window_origin = (oh * sh - ph) * width - pw;
            for (int64_t ow = 0; ow < ow_count; ++ow) {
              const int32_t tap = best_tap[static_cast<size_t>(ow)];
              const int64_t offset = window_origin + ow * sw + tap_offset[static_cast<size_t>(std::max(tap, 0))];
              indices_row[ow] = plane * in_size + (tap < 0 ? 0 : offset);
            }
          }
        }
      }
    });
  }

  // 2x2 windows at stride 2 wholly inside the image (LeNet's and VGG's pools, and the training
  // CNN's): four taps per output from two input rows, no per-tap column tables. Ties and NaNs
  // as max_pool_2d_by_taps: the first tap always counts, a later one only when greater.

  template <typename T, bool kIndices>
  static void max_pool_2x2_row(const T* __restrict top, const T* __restrict bottom, T* __restrict out,
                               int64_t* __restrict indices, int64_t first_index, int64_t width, int64_t ow_count) {
    int64_t ow = 0;
#ifdef __AVX512F__
    if constexpr (std::is_same_v<T, float>) {
      // 16 outputs at a time: 32 floats of each row, split into even and odd columns; the last
      // block masked (an image 28 wide has 14 outputs a row: all of them in the masked block).
      const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
      const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
      const __m512i lanes_low = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
      const int64_t tap_offset[4] = {0, 1, width, width + 1};
      for (; ow < ow_count; ow += 16) {
        const int64_t count = std::min<int64_t>(16, ow_count - ow);
        const auto mask_of = [](int64_t lanes) {
          return static_cast<__mmask16>(lanes >= 16 ? 0xffff : lanes <= 0 ? 0 : (1u << lanes) - 1);
        };
        const __mmask16 first_half = mask_of(2 * count), second_half = mask_of(2 * count - 16);
        const __m512 t0 = _mm512_maskz_loadu_ps(first_half, top + 2 * ow);
        const __m512 t1 = _mm512_maskz_loadu_ps(second_half, top + 2 * ow + 16);
        const __m512 b0 = _mm512_maskz_loadu_ps(first_half, bottom + 2 * ow);
        const __m512 b1 = _mm512_maskz_loadu_ps(second_half, bottom + 2 * ow + 16);
        const __m512 taps[4] = {_mm512_permutex2var_ps(t0, even, t1), _mm512_permutex2var_ps(t0, odd, t1),
                                _mm512_permutex2var_ps(b0, even, b1), _mm512_permutex2var_ps(b0, odd, b1)};
        __m512 best = taps[0];
        __mmask16 took[4] = {0, 0, 0, 0};
        for (int k = 1; k < 4; ++k) {
          took[k] = _mm512_cmp_ps_mask(taps[k], best, _CMP_GT_OQ);  // NaN taps never win
          best = _mm512_mask_mov_ps(best, took[k], taps[k]);
        }
        const __mmask16 outputs = mask_of(count);
        _mm512_mask_storeu_ps(out + ow, outputs, best);
        if constexpr (kIndices) {
          // A later winner overrides an earlier one, as in the scalar loop below.
          for (int half = 0; half < 2; ++half) {
            const __m512i column = _mm512_add_epi64(_mm512_set1_epi64(first_index + 2 * (ow + 8 * half)), lanes_low);
            __m512i index = column;
            for (int k = 1; k < 4; ++k) {
              const __mmask8 lanes = static_cast<__mmask8>(took[k] >> (8 * half));
              index = _mm512_mask_add_epi64(index, lanes, column, _mm512_set1_epi64(tap_offset[k]));
            }
            _mm512_mask_storeu_epi64(indices + ow + 8 * half, static_cast<__mmask8>(outputs >> (8 * half)), index);
          }
        }
      }
    }
#endif
    for (; ow < ow_count; ++ow) {
      const T taps[4] = {top[2 * ow], top[2 * ow + 1], bottom[2 * ow], bottom[2 * ow + 1]};
      T best = taps[0];
      int64_t tap = 0;
      for (int64_t k = 1; k < 4; ++k) {
        const bool take = taps[k] > best;
        best = take ? taps[k] : best;
        tap = take ? k : tap;
      }
      out[ow] = best;
      if constexpr (kIndices) indices[ow] = first_index + (tap >> 1) * width + 2 * ow + (tap & 1);
    }
  }

  template <typename T, bool kIndices>
  static void max_pool_2x2(const Tensor& x, const WindowGeometry& g, Tensor& y, int64_t* pi, int threads) {
    const int64_t height = g.input[0], width = g.input[1], oh_count = g.output[0], ow_count = g.output[1];
    const int64_t rows = x.dim(0) * x.dim(1) * oh_count;  // output rows over all planes
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    parallel_for(rows, std::max<int64_t>(1, 16384 / (4 * ow_count)), threads, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t plane = r / oh_count, oh = r % oh_count;
        const int64_t first_index = plane * height * width + 2 * oh * width;  // the window row's first input
        const T* top = px + first_index;
        max_pool_2x2_row<T, kIndices>(top, top + width, py + r * ow_count, kIndices ? pi + r * ow_count : nullptr,
                                      first_index, width, ow_count);
      }
    });
  }

  template <typename T>
  void pool(const Tensor& x, const WindowGeometry& g, Tensor& y, Tensor* indices, int threads) const {
    if constexpr (std::is_floating_point_v<T>) {
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        if (kind_ == PoolKind::kMax && is_plain_2x2_window(g)) {
          if (indices == nullptr) return max_pool_2x2<T, false>(x, g, y, nullptr, threads);
          if (storage_order_ == 0) return max_pool_2x2<T, true>(x, g, y, indices->mutable_data<int64_t>(), threads);
        }
      }
      if (g.rank() == 2 && kind_ == PoolKind::kMax && indices == nullptr) {
        return max_pool_2d_by_taps<T, false>(x, g, y, nullptr, threads);
      }
      if (g.rank() == 2 && kind_ == PoolKind::kMax && storage_order_ == 0 &&
          g.kernel_count() <= std::numeric_limits<int32_t>::max()) {
        return max_pool_2d_by_taps<T, true>(x, g, y, indices->mutable_data<int64_t>(), threads);
      }
    }
    if (g.rank() == 2 && kind_ != PoolKind::kLp) return pool_2d<T>(x, g, y, indices, threads);
    using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
    const int64_t planes = x.dim(0) * x.dim(1);
    const int64_t in_size = g.input_count(), out_size = g.output_count();
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    int64_t* pi = indices ? indices->mutable_data<int64_t>() : nullptr;
    const int64_t work = std::max<int64_t>(1, out_size * g.kernel_count());
    parallel_for(planes, std::max<int64_t>(1, 16384 / work), threads, [&](int64_t begin, int64_t end) {
      Window w;
      for (int64_t plane = begin; plane < end; ++plane) {
        const T* in = px + plane * in_size;
        T* out = py + plane * out_size;
        for (int64_t o = 0; o < out_size; ++o) {
          clip_window(g, o, w);
          if (kind_ == PoolKind::kMax) {
            using M = ComputeType<T>;
            M best = std::numeric_limits<M>::lowest();
            if constexpr (std::is_floating_point_v<M>) best = -std::numeric_limits<M>::infinity();
            int64_t best_index = -1;
            for_each_in_window(g, w, [&](int64_t i) {
              M v = load(in[i]);
              if (best_index < 0 || v > best) {
                best = v;
                best_index = i;
              }
            });
            out[o] = convert_to<T>(best);
            if (pi) {
              int64_t index = best_index < 0 ? 0 : best_index;
              if (storage_order_ == 1) index = column_major_index(g, index);
              pi[plane * out_size + o] = plane * in_size + index;
            }
          } else if (kind_ == PoolKind::kAverage) {
            Acc sum = 0;
            int64_t count = 0;
            for_each_in_window(g, w, [&](int64_t i) {
              sum += static_cast<Acc>(load(in[i]));
              ++count;
            });
            const int64_t divisor = count_include_pad_ ? w.padded_count : count;
            out[o] = convert_to<T>(divisor > 0 ? sum / static_cast<Acc>(divisor) : Acc(0));
          } else {
            Acc sum = 0;
            const Acc p = static_cast<Acc>(p_);
            for_each_in_window(g, w, [&](int64_t i) {
              Acc v = std::abs(static_cast<Acc>(load(in[i])));
              sum += p == Acc(2) ? v * v : (p == Acc(1) ? v : std::pow(v, p));
            });
            out[o] = convert_to<T>(p == Acc(2) ? std::sqrt(sum) : (p == Acc(1) ? sum : std::pow(sum, Acc(1) / p)));
          }
        }
      }
    });
  }

  PoolKind kind_;
  bool global_;
  std::string op_;
  WindowAttributes attrs_;
  bool count_include_pad_ = false;
  int64_t storage_order_ = 0;
  float p_ = 2.0f;
};

template <PoolKind kKind, bool kGlobal>
std::unique_ptr<Kernel> make_pool(const KernelInfo& info) {
  return std::make_unique<PoolKernel>(info, kKind, kGlobal);
}

// com.onyx NhwcMaxPool / NhwcAveragePool and their Global forms, which the channels-last pass
// (runtime/optimizer/channels_last.h) writes: X and Y are [N, spatial..., C], so each window
// tap is one contiguous run of C values and the inner loop vectorizes over channels.
class NhwcPoolKernel final : public Kernel {
 public:
  NhwcPoolKernel(const KernelInfo& info, PoolKind kind, bool global)
      : kind_(kind), global_(global), op_(info.node().op_type) {
    if (!global) {
      attrs_ = WindowAttributes::read(info.attributes());
      if (attrs_.kernel_shape.empty()) {
        throw_error(ErrorCode::kInvalidModel, info.node().describe(), ": kernel_shape is required");
      }
    }
    count_include_pad_ = info.attributes().get_int("count_include_pad", 0) != 0;
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.rank() < 3 || x.rank() - 2 > Window::kMaxRank) {
      throw_error(ErrorCode::kInvalidArgument, op_, ": input must be [N, spatial..., C] with 1 to ",
                  Window::kMaxRank, " spatial dims, got ", shape_to_string(x.shape()));
    }
    std::vector<int64_t> spatial(x.shape().begin() + 1, x.shape().end() - 1);
    WindowAttributes attrs = attrs_;
    if (global_) attrs.kernel_shape = spatial;
    WindowGeometry g = forward_window_geometry(attrs, spatial, attrs.kernel_shape, op_);
    Shape y_shape{x.dim(0)};
    y_shape.insert(y_shape.end(), g.output.begin(), g.output.end());
    y_shape.push_back(x.shape().back());
    Tensor& y = ctx.output(0, x.dtype(), y_shape);
    if (y.element_count() == 0) return;
    dispatch_dtype_or_throw<TypeList<float, double>>(x.dtype(), op_, [&]<typename T>() {
      if (kind_ == PoolKind::kMax) pool<true, T>(x, g, y, ctx.threads());
      else pool<false, T>(x, g, y, ctx.threads());
    });
  }

 private:
  // Accumulates one window tap (C contiguous values) into `out`. The kind is a template
  // argument so that the channel loop compiles to vector max/add instructions: decided per
  // tap at run time, it cost more than the pooling itself on small channel counts.
  template <bool kMax, typename T>
  static void accumulate(const T* __restrict tap, T* __restrict out, int64_t channels) {
    if constexpr (kMax) {
      for (int64_t c = 0; c < channels; ++c) out[c] = tap[c] > out[c] ? tap[c] : out[c];
    } else {
      for (int64_t c = 0; c < channels; ++c) out[c] += tap[c];
    }
  }

  template <bool kMax, typename T>
  static void start(T* out, int64_t channels) {
    std::fill_n(out, channels, kMax ? -std::numeric_limits<T>::infinity() : T(0));
  }

  template <bool kMax, typename T>
  void finish(T* out, int64_t channels, int64_t taps, int64_t padded_taps) const {
    if constexpr (!kMax) {
      const int64_t divisor = count_include_pad_ ? padded_taps : taps;
      const T scale = divisor > 0 ? T(1) / static_cast<T>(divisor) : T(0);
      for (int64_t c = 0; c < channels; ++c) out[c] *= scale;
    }
  }

  // One output position's channels [0, kBlock) from `corner` (its window's first tap when
  // unclipped): the running max or sum stays in registers across the window's taps, where
  // accumulating into the output tap by tap waited on each tap's store before the next load.
  // kBlock is 16 when the channels come in 16s (one AVX-512 register of floats), else 8.
  template <bool kMax, typename T, int64_t kBlock>
  static void pool_channel_block(const T* corner, T* out, int64_t hlo, int64_t hhi, int64_t wlo, int64_t whi,
                                 int64_t row_stride, int64_t tap_stride, T scale) {
    // A vector of the block's channels (GCC/Clang vector extension): written as an array, the
    // compiler kept the lanes in separate scalar registers.
    typedef T Lanes __attribute__((vector_size(kBlock * sizeof(T))));  // (an alias would drop the attribute)
    Lanes acc = Lanes{} + (kMax ? -std::numeric_limits<T>::infinity() : T(0));
    for (int64_t kh = hlo; kh < hhi; ++kh) {
      for (int64_t kw = wlo; kw < whi; ++kw) {
        Lanes tap;
        std::memcpy(&tap, corner + kh * row_stride + kw * tap_stride, sizeof tap);
        if constexpr (kMax) {
          acc = tap > acc ? tap : acc;  // as accumulate(): a NaN tap leaves the maximum
        } else {
          acc += tap;
        }
      }
    }
    if constexpr (!kMax) acc *= scale;
    std::memcpy(out, &acc, sizeof acc);
  }

  // The common 2-D case with per-dim tables: no divisions per output position.
  template <bool kMax, typename T>
  void pool_2d(const Tensor& x, const WindowGeometry& g, Tensor& y, int threads) const {
    const DimTable th = dim_table(g, 0), tw = dim_table(g, 1);
    const int64_t channels = x.shape().back(), width = g.input[1], oh_count = g.output[0], ow_count = g.output[1];
    const int64_t in_size = g.input_count() * channels, dh = g.dilations[0], dw = g.dilations[1];
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    const int64_t work = std::max<int64_t>(1, ow_count * channels * g.kernel_count());
    parallel_for(x.dim(0) * oh_count, std::max<int64_t>(1, 16384 / work), threads, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t oh = row % oh_count;
        const T* in = px + (row / oh_count) * in_size;
        for (int64_t ow = 0; ow < ow_count; ++ow) {
          T* out = py + (row * ow_count + ow) * channels;
          const int64_t hlo = th.lo[oh], hhi = th.hi[oh], wlo = tw.lo[ow], whi = tw.hi[ow];
          const int64_t taps = (hhi - hlo) * (whi - wlo), padded_taps = th.padded[oh] * tw.padded[ow];
          const T* corner = in + (th.start[oh] * width + tw.start[ow]) * channels;
          const int64_t divisor = count_include_pad_ ? padded_taps : taps;
          const T scale = divisor > 0 ? T(1) / static_cast<T>(divisor) : T(0);
          int64_t c = 0;
          if (channels % 16 == 0) {
            for (; c < channels; c += 16) {
              pool_channel_block<kMax, T, 16>(corner + c, out + c, hlo, hhi, wlo, whi, dh * width * channels,
                                              dw * channels, scale);
            }
          }
          for (; c + 8 <= channels; c += 8) {
            pool_channel_block<kMax, T, 8>(corner + c, out + c, hlo, hhi, wlo, whi, dh * width * channels, dw * channels,
                                           scale);
          }
          if (c == channels) continue;
          start<kMax>(out + c, channels - c);  // the last channels, fewer than a block
          for (int64_t kh = hlo; kh < hhi; ++kh) {
            for (int64_t kw = wlo; kw < whi; ++kw) {
              accumulate<kMax>(corner + kh * dh * width * channels + kw * dw * channels + c, out + c, channels - c);
            }
          }
          finish<kMax>(out + c, channels - c, taps, padded_taps);
        }
      }
    });
  }

  // The max pool of most CNNs, 2x2 windows at stride 2 that all lie inside the image
  // (is_plain_2x2_window): two input rows per output row, four taps per position and no tables.
  // Positions of few channels (8 or 16) spent more in pool_2d's per-position bookkeeping than
  // in their maxima.
  // One output row of max_pool_2x2 from its two input rows. `kChannels` > 0 fixes the channel
  // count at compile time (8 and 16: one vector), so the loop has no alias checks or remainders.
  template <typename T, int64_t kChannels>
  static void max_pool_2x2_row(const T* __restrict top, const T* __restrict bottom, T* __restrict out,
                               int64_t ow_count, int64_t runtime_channels) {
    const int64_t channels = kChannels > 0 ? kChannels : runtime_channels;
    auto max_of = [](T acc, T tap) { return tap > acc ? tap : acc; };  // as accumulate(): NaN taps ignored
    for (int64_t ow = 0; ow < ow_count; ++ow) {
      const T* t = top + 2 * ow * channels;
      const T* b = bottom + 2 * ow * channels;
      T* o = out + ow * channels;
      for (int64_t c = 0; c < channels; ++c) {
        T acc = max_of(-std::numeric_limits<T>::infinity(), t[c]);
        acc = max_of(acc, t[channels + c]);
        acc = max_of(acc, b[c]);
        o[c] = max_of(acc, b[channels + c]);
      }
    }
  }

  template <typename T>
  static void max_pool_2x2(const Tensor& x, const WindowGeometry& g, Tensor& y, int threads) {
    const int64_t channels = x.shape().back(), width = g.input[1], oh_count = g.output[0], ow_count = g.output[1];
    const int64_t in_size = g.input_count() * channels, row = width * channels;
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    auto row_kernel = channels == 8    ? &max_pool_2x2_row<T, 8>
                      : channels == 16 ? &max_pool_2x2_row<T, 16>
                                       : &max_pool_2x2_row<T, 0>;
    parallel_for(x.dim(0) * oh_count, std::max<int64_t>(1, 16384 / (4 * ow_count * channels)), threads,
                 [&](int64_t begin, int64_t end) {
                   for (int64_t r = begin; r < end; ++r) {
                     const T* top = px + (r / oh_count) * in_size + 2 * (r % oh_count) * row;
                     row_kernel(top, top + row, py + r * ow_count * channels, ow_count, channels);
                   }
                 });
  }

  template <bool kMax, typename T>
  void pool(const Tensor& x, const WindowGeometry& g, Tensor& y, int threads) const {
    if constexpr (kMax) {
      if (is_plain_2x2_window(g)) return max_pool_2x2<T>(x, g, y, threads);
    }
    if (g.rank() == 2) return pool_2d<kMax, T>(x, g, y, threads);
    const int64_t channels = x.shape().back(), in_count = g.input_count(), out_count = g.output_count();
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    const int64_t work = std::max<int64_t>(1, channels * g.kernel_count());
    parallel_for(x.dim(0) * out_count, std::max<int64_t>(1, 16384 / work), threads, [&](int64_t begin, int64_t end) {
      Window w;
      for (int64_t position = begin; position < end; ++position) {
        const T* in = px + (position / out_count) * in_count * channels;
        T* out = py + position * channels;
        clip_window(g, position % out_count, w);
        int64_t taps = 0;
        start<kMax>(out, channels);
        for_each_in_window(g, w, [&](int64_t i) {
          accumulate<kMax>(in + i * channels, out, channels);
          ++taps;
        });
        finish<kMax>(out, channels, taps, w.padded_count);
      }
    });
  }

  PoolKind kind_;
  bool global_;
  std::string op_;
  WindowAttributes attrs_;
  bool count_include_pad_ = false;
};

template <PoolKind kKind, bool kGlobal>
std::unique_ptr<Kernel> make_nhwc_pool(const KernelInfo& info) {
  return std::make_unique<NhwcPoolKernel>(info, kKind, kGlobal);
}

}  // namespace

ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "MaxPool", 1, kOpsetOpenEnded, (make_pool<PoolKind::kMax, false>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "AveragePool", 1, kOpsetOpenEnded,
                             (make_pool<PoolKind::kAverage, false>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "LpPool", 1, kOpsetOpenEnded, (make_pool<PoolKind::kLp, false>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "GlobalMaxPool", 1, kOpsetOpenEnded, (make_pool<PoolKind::kMax, true>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "GlobalAveragePool", 1, kOpsetOpenEnded,
                             (make_pool<PoolKind::kAverage, true>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "GlobalLpPool", 1, kOpsetOpenEnded, (make_pool<PoolKind::kLp, true>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", kOnyxDomain, "NhwcMaxPool", 1, kOpsetOpenEnded,
                             (make_nhwc_pool<PoolKind::kMax, false>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", kOnyxDomain, "NhwcAveragePool", 1, kOpsetOpenEnded,
                             (make_nhwc_pool<PoolKind::kAverage, false>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", kOnyxDomain, "NhwcGlobalMaxPool", 1, kOpsetOpenEnded,
                             (make_nhwc_pool<PoolKind::kMax, true>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", kOnyxDomain, "NhwcGlobalAveragePool", 1, kOpsetOpenEnded,
                             (make_nhwc_pool<PoolKind::kAverage, true>));

}  // namespace onyx
