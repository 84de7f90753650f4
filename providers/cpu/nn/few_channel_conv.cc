#include "providers/cpu/nn/few_channel_conv.h"

#include <algorithm>
#include <cstring>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "runtime/common/parallel.h"

namespace onyx {

// A named namespace, not an anonymous one: the unity build compiles this file together with
// others whose helpers (elementwise.h's load) would collide.
namespace few_channel_conv_detail {

// 16 floats: one AVX-512 register, or two or four narrower ones, as the target allows.
constexpr int64_t kLanes = 16;
typedef float Vector __attribute__((vector_size(kLanes * sizeof(float))));

inline Vector load_vector(const float* p) {
  Vector v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The first `count` lanes of memory (a last, partial block of maps; the rest read as 0) and
// back. Masked moves where AVX-512 has them: lane by lane, a block of 8 maps cost more than
// its multiplies.
inline Vector load_partial(const float* p, int64_t count) {
  if (count == kLanes) return load_vector(p);
#ifdef __AVX512F__
  return reinterpret_cast<Vector>(_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1), p));
#else
  Vector v{};
  for (int64_t i = 0; i < count; ++i) v[i] = p[i];
  return v;
#endif
}

inline void store_vector(float* p, const Vector& v, int64_t count) {
  if (count == kLanes) {
    std::memcpy(p, &v, sizeof v);
    return;
  }
#ifdef __AVX512F__
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << count) - 1), reinterpret_cast<__m512>(v));
#else
  for (int64_t i = 0; i < count; ++i) p[i] = v[i];
#endif
}

struct Geometry {
  int64_t taps;              // kernel_h * kernel_w * channels: the terms of each output value
  const int64_t* offsets;    // per tap, where its input lies from the window's corner (floats)
  int64_t pixel_step;        // floats from one output pixel's window corner to the next one's
  int64_t maps, padded_maps;
};

// `Pixels` output pixels (consecutive along the row) times `Blocks` vectors of maps, from map
// block `block`: `in` is the padded input at the first pixel's window corner, `out` the first
// pixel's outputs. Template sizes keep every accumulator in a register; the taps are one flat
// loop over precomputed offsets, since nested loops over rows, columns and one to four
// channels cost more in control than in multiplies.
template <int Pixels, int Blocks>
void accumulate(const Geometry& g, const float* in, const float* packed, int64_t block, const float* bias,
                const float* residual, float* out) {
  const int64_t taps = g.taps, pixel_step = g.pixel_step, padded_maps = g.padded_maps, maps = g.maps;
  const int64_t* offsets = g.offsets;
  const float* weights_of_block = packed + block * kLanes;
  Vector acc[Pixels][Blocks];
  for (int b = 0; b < Blocks; ++b) {
    const Vector start = bias ? load_vector(bias + (block + b) * kLanes) : Vector{};
    for (int p = 0; p < Pixels; ++p) acc[p][b] = start;
  }
  for (int64_t t = 0; t < taps; ++t) {
    const float* tap = in + offsets[t];
    const float* w = weights_of_block + t * padded_maps;
    Vector weights[Blocks];
    for (int b = 0; b < Blocks; ++b) weights[b] = load_vector(w + b * kLanes);
    for (int p = 0; p < Pixels; ++p) {
      const float value = tap[p * pixel_step];
      for (int b = 0; b < Blocks; ++b) acc[p][b] += value * weights[b];
    }
  }
  for (int p = 0; p < Pixels; ++p) {
    for (int b = 0; b < Blocks; ++b) {
      const int64_t first = (block + b) * kLanes;
      const int64_t count = std::min(kLanes, maps - first);
      float* target = out + p * maps + first;
      Vector sum = acc[p][b];
      if (residual) sum += load_partial(residual + p * maps + first, count);
      store_vector(target, sum, count);
    }
  }
}

// Every map of `Pixels` pixels, up to 16 accumulators at a time: 8 pixels when there are at
// most two map blocks (each accumulator is a chain of dependent multiply-adds, and it takes 8
// such chains to keep both of a core's FMA units busy), 4 pixels of up to 4 blocks otherwise.
template <int Pixels>
void accumulate_all_maps(const Geometry& g, const float* in, const float* packed, const float* bias,
                         const float* residual, float* out) {
  constexpr int64_t kMaxBlocks = Pixels >= 8 ? 2 : 4;
  const int64_t blocks = g.padded_maps / kLanes;
  for (int64_t block = 0; block < blocks;) {
    const int64_t now = std::min(kMaxBlocks, blocks - block);
    if constexpr (kMaxBlocks >= 4) {
      if (now == 4) {
        accumulate<Pixels, 4>(g, in, packed, block, bias, residual, out);
        block += 4;
        continue;
      }
      if (now == 3) {
        accumulate<Pixels, 3>(g, in, packed, block, bias, residual, out);
        block += 3;
        continue;
      }
    }
    if (now == 2) {
      accumulate<Pixels, 2>(g, in, packed, block, bias, residual, out);
      block += 2;
    } else {
      accumulate<Pixels, 1>(g, in, packed, block, bias, residual, out);
      block += 1;
    }
  }
}

}  // namespace few_channel_conv_detail

bool FewChannelConv::fits(const ConvShapes& s) {
  return !s.transposed && s.group == 1 && s.geometry.rank() == 2 && s.channels >= 1 && s.channels <= kMaxChannels;
}

FewChannelConv::FewChannelConv(const float* weights, int64_t maps, int64_t channels, int64_t kernel_h,
                               int64_t kernel_w)
    : maps_(maps), channels_(channels), kernel_h_(kernel_h), kernel_w_(kernel_w),
      padded_maps_((maps + few_channel_conv_detail::kLanes - 1) / few_channel_conv_detail::kLanes *
                   few_channel_conv_detail::kLanes),
      packed_(static_cast<size_t>(kernel_h * kernel_w * channels * padded_maps_), 0.f) {
  for (int64_t m = 0; m < maps; ++m) {
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t kh = 0; kh < kernel_h; ++kh) {
        for (int64_t kw = 0; kw < kernel_w; ++kw) {
          packed_[static_cast<size_t>(((kh * kernel_w + kw) * channels + c) * padded_maps_ + m)] =
              weights[((m * channels + c) * kernel_h + kh) * kernel_w + kw];
        }
      }
    }
  }
}

size_t FewChannelConv::scratch_bytes(const ConvShapes& s) const {
  const WindowGeometry& g = s.geometry;
  const int64_t padded_h = g.input[0] + g.pad_begin(0) + g.pad_end(0);
  const int64_t padded_w = g.input[1] + g.pad_begin(1) + g.pad_end(1);
  // The bias padded to whole vectors first, then the padded input.
  return static_cast<size_t>(padded_maps_ + s.batch * padded_h * padded_w * channels_) * sizeof(float);
}

void FewChannelConv::run(const ConvShapes& s, const float* x, const float* bias, const float* residual, float* y,
                         const FusedActivation& activation, void* scratch, int threads) const {
  const WindowGeometry& wg = s.geometry;
  const int64_t height = wg.input[0], width = wg.input[1];
  const int64_t out_h = wg.output[0], out_w = wg.output[1];
  const int64_t top = wg.pad_begin(0), left = wg.pad_begin(1);
  const int64_t padded_h = height + top + wg.pad_end(0), padded_w = width + left + wg.pad_end(1);
  namespace fc = few_channel_conv_detail;
  // Taps in the packed weights' order: kernel row, column, channel.
  std::vector<int64_t> offsets;
  offsets.reserve(static_cast<size_t>(kernel_h_ * kernel_w_ * channels_));
  for (int64_t kh = 0; kh < kernel_h_; ++kh) {
    for (int64_t kw = 0; kw < kernel_w_; ++kw) {
      for (int64_t c = 0; c < channels_; ++c) {
        offsets.push_back((kh * wg.dilations[0] * padded_w + kw * wg.dilations[1]) * channels_ + c);
      }
    }
  }
  const fc::Geometry g{static_cast<int64_t>(offsets.size()), offsets.data(), wg.strides[1] * channels_, maps_,
                       padded_maps_};
  const int64_t stride_h = wg.strides[0], stride_w = wg.strides[1];

  float* padded_bias = static_cast<float*>(scratch);
  float* padded = padded_bias + padded_maps_;
  if (bias) {
    std::copy_n(bias, maps_, padded_bias);
    std::fill(padded_bias + maps_, padded_bias + padded_maps_, 0.f);
  }
  const int64_t padded_row = padded_w * channels_;
  parallel_for(s.batch * padded_h, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, padded_row)), threads,
               [&](int64_t begin, int64_t end) {
                 for (int64_t r = begin; r < end; ++r) {
                   const int64_t n = r / padded_h, ih = r % padded_h - top;
                   float* target = padded + r * padded_row;
                   if (ih < 0 || ih >= height) {
                     std::fill_n(target, padded_row, 0.f);
                     continue;
                   }
                   std::fill_n(target, left * channels_, 0.f);
                   std::copy_n(x + (n * height + ih) * width * channels_, width * channels_, target + left * channels_);
                   std::fill(target + (left + width) * channels_, target + padded_row, 0.f);
                 }
               });

  const float* bias_vectors = bias ? padded_bias : nullptr;
  // Chunks of at least 2^18 multiply-adds (about 5 us): a layer smaller than two of them runs on
  // one thread, since a parallel region's start and join cost about as much (cnn_fashion's
  // first layer, 113 000 of them, took 5.4 us on one thread and 8.2 us split in two).
  const int64_t work_per_row = out_w * kernel_h_ * kernel_w_ * channels_ * padded_maps_;
  parallel_for(s.batch * out_h, std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(1, work_per_row)), threads,
               [&](int64_t begin, int64_t end) {
                 for (int64_t r = begin; r < end; ++r) {
                   const int64_t n = r / out_h, oh = r % out_h;
                   const float* in_row = padded + (n * padded_h + oh * stride_h) * padded_row;
                   float* out_row = y + r * out_w * maps_;
                   const float* residual_row = residual ? residual + r * out_w * maps_ : nullptr;
                   int64_t ow = 0;
                   if (padded_maps_ <= 2 * fc::kLanes) {
                     for (; ow + 8 <= out_w; ow += 8) {
                       fc::accumulate_all_maps<8>(g, in_row + ow * stride_w * channels_, packed_.data(), bias_vectors,
                                                  residual_row ? residual_row + ow * maps_ : nullptr,
                                                  out_row + ow * maps_);
                     }
                   }
                   for (; ow + 4 <= out_w; ow += 4) {
                     fc::accumulate_all_maps<4>(g, in_row + ow * stride_w * channels_, packed_.data(), bias_vectors,
                                            residual_row ? residual_row + ow * maps_ : nullptr, out_row + ow * maps_);
                   }
                   for (; ow < out_w; ++ow) {
                     fc::accumulate_all_maps<1>(g, in_row + ow * stride_w * channels_, packed_.data(), bias_vectors,
                                            residual_row ? residual_row + ow * maps_ : nullptr, out_row + ow * maps_);
                   }
                   activation.apply(out_row, out_w * maps_);
                 }
               });
}

}  // namespace onyx
