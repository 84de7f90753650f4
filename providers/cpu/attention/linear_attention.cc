// LinearAttention (opset 27): the recurrent form of linear attention. Each (batch, KV head)
// keeps a d_k x d_v state S; per step it is decayed (gated rules: S *= exp(g)), corrected
// (delta rules: v <- beta * (v - S^T k)), updated (S += k v^T) and read by every query head of
// the group (o = scale * q^T S). The state is float whatever the storage types.
#include <cmath>

#include "providers/cpu/attention/float_io.h"
#include "providers/kernel_registry.h"
#include "runtime/common/parallel.h"

namespace onyx {

namespace {

[[noreturn]] void bad_linear_attention(const std::string& what) {
  throw_error(ErrorCode::kInvalidArgument, "LinearAttention: ", what);
}

class LinearAttentionKernel : public Kernel {
 public:
  explicit LinearAttentionKernel(const KernelInfo& info) {
    const NodeAttributes& a = info.attributes();
    q_heads_ = a.require_int("q_num_heads");
    kv_heads_ = a.require_int("kv_num_heads");
    scale_ = a.get_float("scale", 0.0f);
    std::string rule = a.get_string("update_rule", "gated_delta");
    if (rule != "linear" && rule != "gated" && rule != "delta" && rule != "gated_delta") {
      throw_error(ErrorCode::kInvalidModel, "LinearAttention: unknown update_rule '", rule,
                  "' (linear, gated, delta, gated_delta)");
    }
    gated_ = rule == "gated" || rule == "gated_delta";
    delta_ = rule == "delta" || rule == "gated_delta";
    if (q_heads_ <= 0 || kv_heads_ <= 0 || q_heads_ % kv_heads_ != 0) {
      throw_error(ErrorCode::kInvalidModel, "LinearAttention: q_num_heads (", q_heads_,
                  ") must be a positive multiple of kv_num_heads (", kv_heads_, ")");
    }
  }

  void compute(KernelContext& ctx) override {
    const Tensor& query = ctx.input(0);
    const Tensor& key = ctx.input(1);
    const Tensor& value = ctx.input(2);
    for (const Tensor* t : {&query, &key, &value}) {
      check_attention_float_type(*t, "LinearAttention", "query/key/value");
      if (t->rank() != 3) bad_linear_attention("query, key and value must be 3-D, got " + shape_to_string(t->shape()));
    }
    const int64_t B = query.dim(0), T = query.dim(1);
    if (key.dim(0) != B || value.dim(0) != B || key.dim(1) != T || value.dim(1) != T) {
      bad_linear_attention("query " + shape_to_string(query.shape()) + ", key " + shape_to_string(key.shape()) +
          " and value " + shape_to_string(value.shape()) + " disagree on batch or length");
    }
    if (query.dim(2) % q_heads_ != 0 || key.dim(2) % kv_heads_ != 0 ||
        value.dim(2) % kv_heads_ != 0) {
      bad_linear_attention("hidden sizes of query " + shape_to_string(query.shape()) + ", key " +
          shape_to_string(key.shape()) + ", value " + shape_to_string(value.shape()) +
          " do not divide into q_num_heads=" + std::to_string(q_heads_) +
          " / kv_num_heads=" + std::to_string(kv_heads_));
    }
    const int64_t DK = query.dim(2) / q_heads_, DV = value.dim(2) / kv_heads_;
    const int64_t QH = q_heads_, KH = kv_heads_, group = QH / KH;
    if (key.dim(2) / kv_heads_ != DK) bad_linear_attention("query and key head sizes differ");

    bool has_decay = ctx.has_input(4), has_beta = ctx.has_input(5);
    if (has_decay != gated_) bad_linear_attention(gated_ ? "this update_rule needs decay" : "this update_rule forbids decay");
    if (has_beta != delta_) bad_linear_attention(delta_ ? "this update_rule needs beta" : "this update_rule forbids beta");

    std::vector<float> q = to_float_vector(query), k = to_float_vector(key),
                       v = to_float_vector(value);
    std::vector<float> decay, beta;
    int64_t decay_width = 0, beta_width = 0;  // per step: KH or KH*DK; KH or 1
    if (has_decay) {
      const Tensor& d = ctx.input(4);
      check_attention_float_type(d, "LinearAttention", "decay");
      if (d.rank() != 3 || d.dim(0) != B || d.dim(1) != T ||
          (d.dim(2) != KH && d.dim(2) != KH * DK)) {
        bad_linear_attention("decay " + shape_to_string(d.shape()) + " must be [B, T, kv_heads] or [B, T, kv_heads*d_k]");
      }
      decay = to_float_vector(d);
      decay_width = d.dim(2);
    }
    if (has_beta) {
      const Tensor& b = ctx.input(5);
      check_attention_float_type(b, "LinearAttention", "beta");
      if (b.rank() != 3 || b.dim(0) != B || b.dim(1) != T || (b.dim(2) != KH && b.dim(2) != 1)) {
        bad_linear_attention("beta " + shape_to_string(b.shape()) + " must be [B, T, kv_heads] or [B, T, 1]");
      }
      beta = to_float_vector(b);
      beta_width = b.dim(2);
    }
    const Shape state_shape{B, KH, DK, DV};
    std::vector<float> state(static_cast<size_t>(B * KH * DK * DV), 0.0f);
    DataType state_type = query.dtype();
    if (ctx.has_input(3)) {
      const Tensor& past = ctx.input(3);
      check_attention_float_type(past, "LinearAttention", "past_state");
      if (past.shape() != state_shape) {
        bad_linear_attention("past_state " + shape_to_string(past.shape()) + " must be " +
            shape_to_string(state_shape));
      }
      state = to_float_vector(past);
      state_type = past.dtype();
    }
    const float scale = scale_ == 0.0f ? 1.0f / std::sqrt(static_cast<float>(DK)) : scale_;
    std::vector<float> out(static_cast<size_t>(B * T * QH * DV));

    parallel_for(B * KH, 1, ctx.threads(), [&](int64_t begin, int64_t end) {
      std::vector<float> vt(DV), retrieved(DV);
      for (int64_t pair = begin; pair < end; ++pair) {
        const int64_t b = pair / KH, h = pair % KH;
        float* S = state.data() + pair * DK * DV;
        for (int64_t t = 0; t < T; ++t) {
          const int64_t step = b * T + t;
          const float* kt = k.data() + step * KH * DK + h * DK;
          const float* vin = v.data() + step * KH * DV + h * DV;
          if (gated_) {
            const float* g = decay.data() + step * decay_width;
            for (int64_t d = 0; d < DK; ++d) {
              float factor = std::exp(decay_width == KH ? g[h] : g[h * DK + d]);
              float* row = S + d * DV;
              for (int64_t m = 0; m < DV; ++m) row[m] *= factor;
            }
          }
          if (delta_) {
            std::fill(retrieved.begin(), retrieved.end(), 0.0f);
            for (int64_t d = 0; d < DK; ++d) {
              const float* row = S + d * DV;
              for (int64_t m = 0; m < DV; ++m) retrieved[m] += row[m] * kt[d];
            }
            float bt = beta[step * beta_width + (beta_width == 1 ? 0 : h)];
            for (int64_t m = 0; m < DV; ++m) vt[m] = bt * (vin[m] - retrieved[m]);
          } else {
            std::copy(vin, vin + DV, vt.begin());
          }
          for (int64_t d = 0; d < DK; ++d) {
            float* row = S + d * DV;
            for (int64_t m = 0; m < DV; ++m) row[m] += kt[d] * vt[m];
          }
          for (int64_t qh = h * group; qh < (h + 1) * group; ++qh) {
            const float* qt = q.data() + step * QH * DK + qh * DK;
            float* o = out.data() + step * QH * DV + qh * DV;
            std::fill(o, o + DV, 0.0f);
            for (int64_t d = 0; d < DK; ++d) {
              const float* row = S + d * DV;
              for (int64_t m = 0; m < DV; ++m) o[m] += qt[d] * row[m];
            }
            for (int64_t m = 0; m < DV; ++m) o[m] *= scale;
          }
        }
      }
    });
    Tensor& output = ctx.output(0, query.dtype(), {B, T, QH * DV});
    store_floats(out.data(), output);
    if (ctx.has_output(1)) {
      Tensor& present = ctx.output(1, state_type, state_shape);
      store_floats(state.data(), present);
    }
  }

 private:
  int64_t q_heads_, kv_heads_;
  float scale_;
  bool gated_, delta_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "LinearAttention", 27, kOpsetOpenEnded, LinearAttentionKernel);

}  // namespace onyx
