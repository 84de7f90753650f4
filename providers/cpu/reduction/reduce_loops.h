// The loops behind every CPU Reduce* kernel, over a ReducePlan: when the innermost axis is
// reduced, contiguous rows fold into one value through many independent lanes (so the compiler
// vectorizes a float sum without reassociation flags); when it is kept, whole rows accumulate
// elementwise into a tile of outputs, never gathering strided elements. Outputs run in
// parallel; a reduction with fewer outputs than threads splits its rows instead and combines
// the partial results. Ops are small structs (init, pre, combine, post) on the accumulator type.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "onnx_ops/reduction.h"
#include "providers/cpu/math/elementwise.h"

namespace onyx {

// Accumulator of T: float for 16-bit floats, 64 bits for narrower integers.
template <typename T>
struct WideOf {
  using type = T;
};
template <>
struct WideOf<Float16> {
  using type = float;
};
template <>
struct WideOf<BFloat16> {
  using type = float;
};
template <>
struct WideOf<int8_t> {
  using type = int64_t;
};
template <>
struct WideOf<int16_t> {
  using type = int64_t;
};
template <>
struct WideOf<int32_t> {
  using type = int64_t;
};
template <>
struct WideOf<uint8_t> {
  using type = uint64_t;
};
template <>
struct WideOf<uint16_t> {
  using type = uint64_t;
};
template <>
struct WideOf<uint32_t> {
  using type = uint64_t;
};

// Elements converted per step and outputs accumulated per tile (fits L1 with its inputs).
constexpr int64_t kReduceTile = 512;
constexpr int64_t kReduceGrain = 16384;

// n <= kReduceTile elements as the accumulator type; `src` itself when no conversion is needed.
template <typename T, typename A>
inline const A* widen(const T* src, int64_t n, A* buf) {
  if constexpr (std::is_same_v<T, A>) {
    return src;
  } else {
    int64_t i = 0;
#if defined(__F16C__)
    if constexpr (std::is_same_v<T, Float16> && std::is_same_v<A, float>) {
      for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(buf + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                      reinterpret_cast<const __m128i*>(src + i))));
      }
    }
#endif
    for (; i < n; ++i) buf[i] = static_cast<A>(load(src[i]));
    return buf;
  }
}

// Folds elements [begin, end) of the rows of one output (rows of plan.row_length() at
// `base` + row offset) into `acc`. `s` is the op's per-output shift (LogSumExp's max).
template <typename Op, typename T, typename A>
A fold_rows(const ReducePlan& plan, const T* x, int64_t base, int64_t begin, int64_t end, A acc,
            A s) {
  constexpr int kLanes = 16;
  const int64_t len = plan.row_length();
  if (len < kLanes && plan.row_count() == 1) {  // short rows: lanes would cost more than they save
    for (int64_t i = begin; i < end; ++i) acc = Op::combine(acc, Op::pre(A(load(x[base + i])), s));
    return acc;
  }
  A lanes[kLanes];
  for (int j = 0; j < kLanes; ++j) lanes[j] = Op::init();
  A buf[kReduceTile];
  plan.for_each_row(begin / len, (end + len - 1) / len, [&](int64_t r, int64_t offset) {
    const int64_t lo = std::max<int64_t>(begin - r * len, 0);
    const int64_t hi = std::min<int64_t>(end - r * len, len);
    const T* row = x + base + offset;
    for (int64_t c = lo; c < hi; c += kReduceTile) {
      const int64_t m = std::min<int64_t>(kReduceTile, hi - c);
      const A* p = widen<T, A>(row + c, m, buf);
      int64_t i = 0;
      for (; i + kLanes <= m; i += kLanes) {
        // Unrolling first would leave 16 scalar accumulators; as a loop it becomes one vector.
#pragma GCC unroll 1
        for (int j = 0; j < kLanes; ++j) lanes[j] = Op::combine(lanes[j], Op::pre(p[i + j], s));
      }
      for (; i < m; ++i) acc = Op::combine(acc, Op::pre(p[i], s));
    }
  });
  for (int j = 0; j < kLanes; ++j) acc = Op::combine(acc, lanes[j]);
  return acc;
}

// Accumulates rows [begin, end) of block `base` into acc[0, m) for columns [c0, c0 + m).
// `s` points at the shifts of those columns (or is null when the op has none).
template <typename Op, typename T, typename A>
void accumulate_rows(const ReducePlan& plan, const T* x, int64_t base, int64_t c0, int64_t m,
                     int64_t begin, int64_t end, A* acc, const A* s) {
  A buf[kReduceTile];
  plan.for_each_row(begin, end, [&](int64_t, int64_t offset) {
    const A* p = widen<T, A>(x + base + offset + c0, m, buf);
    if constexpr (Op::kShifted) {
      for (int64_t j = 0; j < m; ++j) acc[j] = Op::combine(acc[j], Op::pre(p[j], s[j]));
    } else {
      for (int64_t j = 0; j < m; ++j) acc[j] = Op::combine(acc[j], Op::pre(p[j], A(0)));
    }
  });
}

// y[o] = post(fold of the inputs of output o) for every output; `shift` has one value per output
// for ops with kShifted, else is null. `x` must not be empty.
template <typename Op, typename T, typename A, typename Out>
void run_reduce(const ReducePlan& plan, const T* x, Out* y, const A* shift, int threads) {
  const int64_t blocks = plan.block_count();
  const int64_t rows = plan.row_count();
  const int64_t n = plan.reduced_count();
  auto shift_at = [&](int64_t o) { return shift ? shift[o] : A(0); };
  if (plan.inner_reduced()) {
    const int64_t len = plan.row_length();
    const int64_t total = rows * len;
    if (blocks < threads && threads > 1 && total >= 2 * kReduceGrain) {
      // Few outputs: split each output's elements across threads, then combine the partials.
      const int64_t pieces = std::min<int64_t>(threads, total / kReduceGrain);
      std::unique_ptr<A[]> partial(new A[pieces]);  // not std::vector: A may be bool
      plan.for_each_block(0, blocks, [&](int64_t o, int64_t base) {
        const A s = shift_at(o);
        parallel_for(pieces, 1, threads, [&](int64_t p0, int64_t p1) {
          for (int64_t p = p0; p < p1; ++p) {
            partial[p] = fold_rows<Op>(plan, x, base, total * p / pieces,
                                       total * (p + 1) / pieces, Op::init(), s);
          }
        });
        A acc = Op::init();
        for (int64_t p = 0; p < pieces; ++p) acc = Op::combine(acc, partial[p]);
        y[o] = convert_to<Out>(Op::post(acc, n, s));
      });
      return;
    }
    const int64_t grain = std::max<int64_t>(1, kReduceGrain / std::max<int64_t>(total, 1));
    parallel_for(blocks, grain, threads, [&](int64_t b0, int64_t b1) {
      plan.for_each_block(b0, b1, [&](int64_t o, int64_t base) {
        const A s = shift_at(o);
        y[o] = convert_to<Out>(Op::post(fold_rows<Op>(plan, x, base, 0, total, Op::init(), s), n, s));
      });
    });
    return;
  }
  // Innermost axis kept: tiles of block_width columns accumulate whole rows.
  const int64_t width = plan.block_width();
  const int64_t tiles = (width + kReduceTile - 1) / kReduceTile;
  const int64_t items = blocks * tiles;
  auto tile_columns = [&](int64_t t, int64_t& c0, int64_t& m) {
    c0 = t * kReduceTile;
    m = std::min<int64_t>(kReduceTile, width - c0);
  };
  if (items < threads && threads > 1 && rows * width >= 2 * kReduceGrain) {
    const int64_t pieces = std::min<int64_t>(std::min<int64_t>(threads, rows),
                                             rows * width / kReduceGrain);
    std::unique_ptr<A[]> partial(new A[pieces * kReduceTile]);
    plan.for_each_block(0, blocks, [&](int64_t b, int64_t base) {
      for (int64_t t = 0; t < tiles; ++t) {
        int64_t c0, m;
        tile_columns(t, c0, m);
        const int64_t o0 = b * width + c0;
        const A* s = shift ? shift + o0 : nullptr;
        parallel_for(pieces, 1, threads, [&](int64_t p0, int64_t p1) {
          for (int64_t p = p0; p < p1; ++p) {
            A* acc = partial.get() + p * kReduceTile;
            std::fill(acc, acc + m, Op::init());
            accumulate_rows<Op>(plan, x, base, c0, m, rows * p / pieces, rows * (p + 1) / pieces,
                                acc, s);
          }
        });
        for (int64_t p = 1; p < pieces; ++p) {
          const A* part = partial.get() + p * kReduceTile;
          for (int64_t j = 0; j < m; ++j) partial[j] = Op::combine(partial[j], part[j]);
        }
        for (int64_t j = 0; j < m; ++j) {
          y[o0 + j] = convert_to<Out>(Op::post(partial[j], n, shift_at(o0 + j)));
        }
      }
    });
    return;
  }
  const int64_t grain =
      std::max<int64_t>(1, kReduceGrain / std::max<int64_t>(rows * std::min(width, kReduceTile), 1));
  parallel_for(items, grain, threads, [&](int64_t i0, int64_t i1) {
    A acc[kReduceTile];
    plan.for_each_block(i0 / tiles, (i1 + tiles - 1) / tiles, [&](int64_t b, int64_t base) {
      for (int64_t t = std::max(i0 - b * tiles, int64_t{0}); t < std::min(i1 - b * tiles, tiles);
           ++t) {
        int64_t c0, m;
        tile_columns(t, c0, m);
        const int64_t o0 = b * width + c0;
        std::fill(acc, acc + m, Op::init());
        accumulate_rows<Op>(plan, x, base, c0, m, 0, rows, acc, shift ? shift + o0 : nullptr);
        for (int64_t j = 0; j < m; ++j) {
          y[o0 + j] = convert_to<Out>(Op::post(acc[j], n, shift_at(o0 + j)));
        }
      }
    });
  });
}

}  // namespace onyx
