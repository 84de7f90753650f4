// CausalConvWithState (opset 27): depthwise causal 1-D convolution over [past_state, input]
// (zeros when no state), an optional fused SiLU, and the last k-1 positions as the new state.
// Used with LinearAttention by Gated DeltaNet / Mamba style models.
#include <cmath>

#include "providers/cpu/attention/float_io.h"
#include "providers/kernel_registry.h"
#include "runtime/common/parallel.h"

namespace onyx {

namespace {

[[noreturn]] void bad_causal_conv(const std::string& what) {
  throw_error(ErrorCode::kInvalidArgument, "CausalConvWithState: ", what);
}

class CausalConvWithStateKernel : public Kernel {
 public:
  explicit CausalConvWithStateKernel(const KernelInfo& info) {
    std::string activation = info.attributes().get_string("activation", "none");
    if (activation != "none" && activation != "silu" && activation != "swish") {
      throw_error(ErrorCode::kInvalidModel, "CausalConvWithState: unknown activation '",
                  activation, "' (none, silu, swish)");
    }
    silu_ = activation != "none";
  }

  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    const Tensor& weight = ctx.input(1);
    check_attention_float_type(input, "CausalConvWithState", "input");
    if (weight.dtype() != input.dtype()) bad_causal_conv("weight type differs from input");
    if (input.rank() != 3) bad_causal_conv("input must be [batch, channels, length], got " + shape_to_string(input.shape()));
    const int64_t B = input.dim(0), C = input.dim(1), L = input.dim(2);
    if (weight.rank() != 3 || weight.dim(0) != C || weight.dim(1) != 1 || weight.dim(2) < 1) {
      bad_causal_conv("weight " + shape_to_string(weight.shape()) + " must be [channels=" +
          std::to_string(C) + ", 1, k]");
    }
    const int64_t K = weight.dim(2), P = K - 1, W = P + L;  // W: padded length
    std::vector<float> x = to_float_vector(input), w = to_float_vector(weight);
    std::vector<float> bias;
    if (ctx.has_input(2)) {
      const Tensor& b = ctx.input(2);
      if (b.dtype() != input.dtype() || b.shape() != Shape{C}) {
        bad_causal_conv("bias " + shape_to_string(b.shape()) + " must be [" + std::to_string(C) + "]");
      }
      bias = to_float_vector(b);
    }
    std::vector<float> past;
    if (ctx.has_input(3)) {
      const Tensor& s = ctx.input(3);
      if (s.dtype() != input.dtype() || s.shape() != Shape{B, C, P}) {
        bad_causal_conv("past_state " + shape_to_string(s.shape()) + " must be " +
            shape_to_string({B, C, P}));
      }
      past = to_float_vector(s);
    }
    std::vector<float> out(static_cast<size_t>(B * C * L)), state(static_cast<size_t>(B * C * P));
    parallel_for(B * C, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, L * K)), ctx.threads(),
                 [&](int64_t begin, int64_t end) {
      std::vector<float> padded(W);
      for (int64_t bc = begin; bc < end; ++bc) {
        const int64_t c = bc % C;
        for (int64_t i = 0; i < P; ++i) padded[i] = past.empty() ? 0.0f : past[bc * P + i];
        std::copy(x.begin() + bc * L, x.begin() + (bc + 1) * L, padded.begin() + P);
        const float* wc = w.data() + c * K;
        const float b = bias.empty() ? 0.0f : bias[c];
        float* o = out.data() + bc * L;
        for (int64_t t = 0; t < L; ++t) {
          float acc = b;
          for (int64_t j = 0; j < K; ++j) acc += wc[j] * padded[t + j];
          o[t] = acc;
        }
        std::copy(padded.begin() + L, padded.end(), state.begin() + bc * P);
      }
    });
    Tensor& output = ctx.output(0, input.dtype(), input.shape());
    if (silu_) {
      // The reference rounds the convolution to the storage type before the activation.
      Tensor rounded(input.dtype(), input.shape());
      store_floats(out.data(), rounded);
      out = to_float_vector(rounded);
      for (float& v : out) v = v / (1.0f + std::exp(-v));
    }
    store_floats(out.data(), output);
    if (ctx.has_output(1)) {
      Tensor& present = ctx.output(1, input.dtype(), {B, C, P});
      store_floats(state.data(), present);
    }
  }

 private:
  bool silu_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "CausalConvWithState", 27, kOpsetOpenEnded,
                     CausalConvWithStateKernel);

}  // namespace onyx
