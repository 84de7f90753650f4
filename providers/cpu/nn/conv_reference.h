// Plain direct convolution and transposed convolution over any number of spatial dims. They
// serve the types oneDNN is not used for (double, 16-bit floats) and are the oracle the oneDNN
// path is tested against, so they favour obviousness over speed (still no per-element alloc).
#pragma once

#include <cstdint>
#include <vector>

#include "onnx_ops/nn_geometry.h"
#include "providers/cpu/math/elementwise.h"

namespace onyx {

// Table of a window's kernel positions: for each flattened kernel index, its dilated offset
// along every spatial dim.
inline std::vector<int64_t> kernel_offsets(const WindowGeometry& g) {
  const size_t rank = g.rank();
  const int64_t count = g.kernel_count();
  std::vector<int64_t> offsets(static_cast<size_t>(count) * rank);
  for (int64_t k = 0; k < count; ++k) {
    int64_t rest = k;
    for (size_t d = rank; d-- > 0;) {
      offsets[static_cast<size_t>(k) * rank + d] = (rest % g.kernel[d]) * g.dilations[d];
      rest /= g.kernel[d];
    }
  }
  return offsets;
}

// Flattened input index of (window start `start` + kernel offset), or -1 when it falls in padding.
inline int64_t window_input_index(const WindowGeometry& g, const int64_t* start, const int64_t* offset) {
  int64_t index = 0;
  for (size_t d = 0; d < g.rank(); ++d) {
    const int64_t pos = start[d] + offset[d];
    if (pos < 0 || pos >= g.input[d]) return -1;
    index = index * g.input[d] + pos;
  }
  return index;
}

// Window start (output position * stride - pad_begin) per dim for flattened output index `o`.
inline void window_start(const WindowGeometry& g, int64_t o, int64_t* start) {
  for (size_t d = g.rank(); d-- > 0;) {
    start[d] = (o % g.output[d]) * g.strides[d] - g.pad_begin(d);
    o /= g.output[d];
  }
}

// y[n, m, out...] = bias[m] + sum over the group's channels and the window of x * w.
// x: [N, C, in...], w: [M, C/group, k...], bias: [M] or null.
template <typename T>
void conv_reference(const T* x, const T* w, const T* bias, T* y, int64_t batch, int64_t channels,
                    int64_t maps, int64_t group, const WindowGeometry& g, int threads) {
  using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
  const int64_t in_size = g.input_count(), out_size = g.output_count(), k_size = g.kernel_count();
  const int64_t c_per_group = channels / group, m_per_group = maps / group;
  const std::vector<int64_t> offsets = kernel_offsets(g);
  const size_t rank = g.rank();
  parallel_for(batch * maps, 1, threads, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> start(rank);
    std::vector<int64_t> input_index(static_cast<size_t>(k_size));
    for (int64_t nm = begin; nm < end; ++nm) {
      const int64_t n = nm / maps, m = nm % maps;
      const int64_t c0 = (m / m_per_group) * c_per_group;
      T* out = y + nm * out_size;
      for (int64_t o = 0; o < out_size; ++o) {
        window_start(g, o, start.data());
        for (int64_t k = 0; k < k_size; ++k) {
          input_index[static_cast<size_t>(k)] =
              window_input_index(g, start.data(), offsets.data() + static_cast<size_t>(k) * rank);
        }
        Acc sum = bias ? static_cast<Acc>(load(bias[m])) : Acc(0);
        for (int64_t c = 0; c < c_per_group; ++c) {
          const T* xc = x + (n * channels + c0 + c) * in_size;
          const T* wc = w + (m * c_per_group + c) * k_size;
          for (int64_t k = 0; k < k_size; ++k) {
            const int64_t i = input_index[static_cast<size_t>(k)];
            if (i >= 0) sum += static_cast<Acc>(load(xc[i])) * static_cast<Acc>(load(wc[k]));
          }
        }
        out[o] = convert_to<T>(sum);
      }
    }
  });
}

// Transposed convolution by scattering each input element through the kernel.
// x: [N, C, in...], w: [C, M/group, k...], y: [N, M, out...] where `g.output` is y's size.
template <typename T>
void conv_transpose_reference(const T* x, const T* w, const T* bias, T* y, int64_t batch,
                              int64_t channels, int64_t maps, int64_t group,
                              const WindowGeometry& g, int threads) {
  using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
  const int64_t in_size = g.input_count(), out_size = g.output_count(), k_size = g.kernel_count();
  const int64_t c_per_group = channels / group, m_per_group = maps / group;
  const std::vector<int64_t> offsets = kernel_offsets(g);
  const size_t rank = g.rank();
  parallel_for(batch * maps, 1, threads, [&](int64_t begin, int64_t end) {
    std::vector<Acc> acc(static_cast<size_t>(out_size));
    std::vector<int64_t> pos(rank);
    for (int64_t nm = begin; nm < end; ++nm) {
      const int64_t n = nm / maps, m = nm % maps;
      const int64_t gi = m / m_per_group, mg = m % m_per_group;
      std::fill(acc.begin(), acc.end(), bias ? static_cast<Acc>(load(bias[m])) : Acc(0));
      for (int64_t c = 0; c < c_per_group; ++c) {
        const int64_t ci = gi * c_per_group + c;
        const T* xc = x + (n * channels + ci) * in_size;
        const T* wc = w + (ci * m_per_group + mg) * k_size;
        for (int64_t i = 0; i < in_size; ++i) {
          const Acc xv = static_cast<Acc>(load(xc[i]));
          int64_t rest = i;
          for (size_t d = rank; d-- > 0;) {
            pos[d] = (rest % g.input[d]) * g.strides[d] - g.pad_begin(d);
            rest /= g.input[d];
          }
          for (int64_t k = 0; k < k_size; ++k) {
            int64_t o = 0;
            bool inside = true;
            for (size_t d = 0; d < rank && inside; ++d) {
              const int64_t p = pos[d] + offsets[static_cast<size_t>(k) * rank + d];
              inside = p >= 0 && p < g.output[d];
              o = o * g.output[d] + p;
            }
            if (inside) acc[static_cast<size_t>(o)] += xv * static_cast<Acc>(load(wc[k]));
          }
        }
      }
      T* out = y + nm * out_size;
      for (int64_t o = 0; o < out_size; ++o) out[o] = convert_to<T>(acc[static_cast<size_t>(o)]);
    }
  });
}

}  // namespace onyx
