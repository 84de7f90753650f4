// The activation a fused CPU kernel (com.onyx NhwcConv, FusedMatMul) applies to its output,
// read once from the attributes runtime/optimizer/activation_fusion.h writes: as a oneDNN
// eltwise post-op on the primitive paths, and by apply() on the reference paths.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include <oneapi/dnnl/dnnl.hpp>

#include "onnx_ops/node_attributes.h"
#include "providers/cpu/activation/logistic_loops.h"
#include "runtime/common/error.h"

namespace onyx {

// y = f(y) for oneDNN's eltwise `algorithm` with its `alpha`/`beta`, for the paths that run
// outside a oneDNN primitive (reference kernels, small GEMVs, the few-channel convolution);
// `undef` leaves y alone. The switch picks a whole loop, so that the cheap activations
// vectorize: decided per element, the choice cost more than a ReLU itself.
template <typename T>
void apply_eltwise(dnnl::algorithm algorithm, float alpha, float beta, T* y, int64_t count) {
  using C = std::conditional_t<std::is_same_v<T, double>, double, float>;  // 16-bit floats in float
  const C a = alpha, b = beta;
  auto each = [&](auto f) {
    for (int64_t i = 0; i < count; ++i) y[i] = static_cast<T>(f(static_cast<C>(y[i])));
  };
  switch (algorithm) {
    case dnnl::algorithm::eltwise_relu:
      if (a == C(0)) return each([](C v) { return v < C(0) ? C(0) : v; });
      return each([a](C v) { return v < C(0) ? a * v : v; });  // alpha: LeakyRelu's slope
    case dnnl::algorithm::eltwise_clip: return each([a, b](C v) { return std::min(std::max(v, a), b); });
    case dnnl::algorithm::eltwise_hardswish:
      return each([](C v) { return v * std::max(C(0), std::min(C(1), v / C(6) + C(0.5))); });
    case dnnl::algorithm::eltwise_swish:
      if constexpr (std::is_same_v<T, float>) {
        if (a == C(1)) return silu_in_place(y, count);
      }
      return each([a](C v) { return v / (C(1) + std::exp(-a * v)); });
    case dnnl::algorithm::eltwise_logistic:
      if constexpr (std::is_same_v<T, float>) return logistic_in_place(y, count);
      return each([](C v) { return C(1) / (C(1) + std::exp(-v)); });
    case dnnl::algorithm::eltwise_tanh: return each([](C v) { return std::tanh(v); });
    case dnnl::algorithm::eltwise_gelu_erf:
      return each([](C v) { return C(0.5) * v * (C(1) + std::erf(v * C(0.7071067811865476))); });
    case dnnl::algorithm::eltwise_gelu_tanh:
      return each([](C v) { return C(0.5) * v * (C(1) + std::tanh((v + C(0.044715) * v * v * v) * C(0.7978845608028654))); });
    default: return;
  }
}

// True for the activations a oneDNN primitive should leave to apply_eltwise, run over its
// output right after it: SiLU and the logistic, whose loops here (logistic_loops.h) cost less
// than oneDNN 2.6's post-ops (on a Zen 4, its swish cost more than the convolution it followed).
inline bool runs_after_primitive(dnnl::algorithm algorithm, float alpha) {
  return (algorithm == dnnl::algorithm::eltwise_swish && alpha == 1.f) || algorithm == dnnl::algorithm::eltwise_logistic;
}

struct FusedActivation {
  std::string name;  // empty: none
  float alpha = 0.f, beta = 0.f;  // oneDNN's eltwise parameters
  bool gelu_tanh = false;         // Gelu's approximate="tanh"

  // Throws kInvalidModel naming `op` for an activation no fused kernel knows.
  static FusedActivation read(const NodeAttributes& attributes, std::string_view op) {
    FusedActivation a{attributes.get_string("activation", "")};
    if (a.name == "LeakyRelu") {
      a.alpha = attributes.get_float("alpha", 0.01f);
    } else if (a.name == "Clip") {
      a.alpha = attributes.get_float("clip_min", std::numeric_limits<float>::lowest());
      a.beta = attributes.get_float("clip_max", std::numeric_limits<float>::max());
    } else if (a.name == "Swish") {
      a.alpha = 1.f;  // x * sigmoid(x): SiLU
    } else if (a.name == "Gelu") {
      a.gelu_tanh = attributes.get_string("approximate", "none") == "tanh";
    } else if (!a.name.empty() && a.name != "Relu" && a.name != "HardSwish" && a.name != "Sigmoid" &&
               a.name != "Tanh") {
      throw_error(ErrorCode::kInvalidModel, op, ": unknown activation '", a.name, "'");
    }
    return a;
  }

  // `algorithm::undef` when there is none.
  dnnl::algorithm dnnl_algorithm() const {
    if (name == "Relu" || name == "LeakyRelu") return dnnl::algorithm::eltwise_relu;
    if (name == "Clip") return dnnl::algorithm::eltwise_clip;
    if (name == "HardSwish") return dnnl::algorithm::eltwise_hardswish;
    if (name == "Swish") return dnnl::algorithm::eltwise_swish;
    if (name == "Sigmoid") return dnnl::algorithm::eltwise_logistic;
    if (name == "Tanh") return dnnl::algorithm::eltwise_tanh;
    if (name == "Gelu") return gelu_tanh ? dnnl::algorithm::eltwise_gelu_tanh : dnnl::algorithm::eltwise_gelu_erf;
    return dnnl::algorithm::undef;
  }

  template <typename T>
  void apply(T* y, int64_t count) const {
    apply_eltwise(dnnl_algorithm(), alpha, beta, y, count);
  }
};

}  // namespace onyx
