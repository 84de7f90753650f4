// Unary float kernels written as Eigen array expressions, which vectorize exp, log, tanh, erf,
// sin and friends (scalar libm per element is 12-60x slower). 16-bit floats go through a small
// float buffer per block.
#pragma once

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>

#include "providers/cpu/math/elementwise.h"

namespace onyx {

// out = expr(in) elementwise, where expr maps an Eigen array (of float for 16-bit inputs) to an
// array expression of the same size.
template <typename T, typename Expr>
void eigen_unary(const T* in, T* out, int64_t n, int threads, const Expr& expr) {
  parallel_for(n, kElementwiseGrain, threads, [&](int64_t begin, int64_t end) {
    if constexpr (kIsHalf<T>) {
      constexpr int64_t kBlock = 1024;
      alignas(64) float in_buffer[kBlock];
      alignas(64) float out_buffer[kBlock];
      for (int64_t b = begin; b < end; b += kBlock) {
        const int64_t len = std::min(kBlock, end - b);
        if constexpr (std::is_same_v<T, Float16>) {
          half_to_float(in + b, in_buffer, len);
        } else {
          for (int64_t i = 0; i < len; ++i) in_buffer[i] = static_cast<float>(in[b + i]);
        }
        Eigen::Map<const Eigen::ArrayXf> x(in_buffer, len);
        Eigen::Map<Eigen::ArrayXf> y(out_buffer, len);
        y = expr(x);
        if constexpr (std::is_same_v<T, Float16>) {
          float_to_half(out_buffer, out + b, len);
        } else {
          for (int64_t i = 0; i < len; ++i) out[b + i] = T(out_buffer[i]);
        }
      }
    } else {
      using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
      Eigen::Map<const Array> x(in + begin, end - begin);
      Eigen::Map<Array> y(out + begin, end - begin);
      y = expr(x);
    }
  });
}

// Same on tensors: allocates output 0 with the input's type and shape.
template <typename T, typename Expr>
void eigen_unary(KernelContext& ctx, const Tensor& in, const Expr& expr) {
  Tensor& out = ctx.output(0, in.dtype(), in.shape());
  eigen_unary(in.data<T>(), out.mutable_data<T>(), in.element_count(), ctx.threads(), expr);
}

}  // namespace onyx
