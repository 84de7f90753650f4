// FlexAttention (ai.onnx.preview, opset 1): scaled dot-product attention on 4-D inputs whose
// scores and probabilities may be rewritten by the score_mod / prob_mod subgraphs. The scores
// tensor [batch, q_heads, q_seq, kv_seq] is materialised (the subgraphs see it whole) in the
// softmax type: double for double inputs, else float unless softmax_precision says otherwise.
#include <Eigen/Core>

#include <cmath>
#include <memory>
#include <optional>

#include "providers/cpu/attention/float_io.h"
#include "providers/cpu/control_flow/subgraph_call.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"
#include "runtime/common/parallel.h"

namespace onyx {

namespace {

[[noreturn]] void bad_flex_attention(const std::string& what) {
  throw_error(ErrorCode::kInvalidArgument, "FlexAttention: ", what);
}

template <typename C>
using FlexMat = Eigen::Matrix<C, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class FlexAttentionKernel : public Kernel {
 public:
  explicit FlexAttentionKernel(const KernelInfo& info) {
    const NodeAttributes& a = info.attributes();
    has_scale_ = a.has("scale");
    scale_ = a.get_float("scale", 0.0f);
    softmax_precision_ = a.get_int("softmax_precision", 0);
    if (a.has("score_mod")) score_mod_.emplace(info, "score_mod");
    if (a.has("prob_mod")) prob_mod_.emplace(info, "prob_mod");
  }

  void compute(KernelContext& ctx) override {
    const Tensor& q = ctx.input(0);
    const Tensor& k = ctx.input(1);
    const Tensor& v = ctx.input(2);
    if (k.dtype() != q.dtype() || v.dtype() != q.dtype()) bad_flex_attention("Q, K and V types differ");
    if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4) {
      bad_flex_attention("Q, K and V must be 4-D, got " + shape_to_string(q.shape()) + ", " +
          shape_to_string(k.shape()) + ", " + shape_to_string(v.shape()));
    }
    const int64_t B = q.dim(0), QH = q.dim(1), L = q.dim(2), E = q.dim(3);
    const int64_t KH = k.dim(1), S = k.dim(2), EV = v.dim(3);
    if (k.dim(0) != B || v.dim(0) != B || v.dim(1) != KH || v.dim(2) != S || k.dim(3) != E) {
      bad_flex_attention("shapes disagree: Q " + shape_to_string(q.shape()) + ", K " + shape_to_string(k.shape()) +
          ", V " + shape_to_string(v.shape()));
    }
    if (KH <= 0 || QH % KH != 0) {
      bad_flex_attention("q heads (" + std::to_string(QH) + ") must be a multiple of kv heads (" +
          std::to_string(KH) + ")");
    }
    bool use_double = softmax_precision_ == static_cast<int64_t>(DataType::kDouble) ||
                      (softmax_precision_ == 0 && q.dtype() == DataType::kDouble);
    switch (q.dtype()) {
      case DataType::kDouble:
        return use_double ? run<double, double>(ctx) : run<double, float>(ctx);
      case DataType::kFloat:
        return use_double ? run<float, double>(ctx) : run<float, float>(ctx);
      case DataType::kFloat16:
        return use_double ? run<Float16, double>(ctx) : run<Float16, float>(ctx);
      case DataType::kBFloat16:
        return use_double ? run<BFloat16, double>(ctx) : run<BFloat16, float>(ctx);
      default:
        throw_error(ErrorCode::kNotImplemented, "FlexAttention: no CPU kernel for type ",
                    dtype_name(q.dtype()));
    }
  }

 private:
  // T: storage type; C: the type scores, softmax and the value product are computed in.
  template <typename T, typename C>
  void run(KernelContext& ctx) {
    const Tensor& q = ctx.input(0);
    const Tensor& k = ctx.input(1);
    const Tensor& v = ctx.input(2);
    const int64_t B = q.dim(0), QH = q.dim(1), L = q.dim(2), E = q.dim(3);
    const int64_t KH = k.dim(1), S = k.dim(2), EV = v.dim(3), group = QH / KH;
    const double scale = has_scale_ ? scale_ : 1.0 / std::sqrt(static_cast<double>(E));
    // sqrt(scale) in float, then in T, on both Q and K, as the reference does.
    const T root = static_cast<T>(std::sqrt(static_cast<float>(scale)));
    auto round_t = [](double x) { return to_double(static_cast<T>(x)); };
    std::vector<C> qs(q.element_count()), ks(k.element_count()), vs(v.element_count());
    const T* qd = q.data<T>();
    const T* kd = k.data<T>();
    const T* vd = v.data<T>();
    for (size_t i = 0; i < qs.size(); ++i) qs[i] = round_t(to_double(qd[i]) * to_double(root));
    for (size_t i = 0; i < ks.size(); ++i) ks[i] = round_t(to_double(kd[i]) * to_double(root));
    for (size_t i = 0; i < vs.size(); ++i) vs[i] = static_cast<C>(to_double(vd[i]));

    const DataType ctype = std::is_same_v<C, double> ? DataType::kDouble : DataType::kFloat;
    Tensor scores(ctype, {B, QH, L, S});
    C* sd = scores.mutable_data<C>();
    using Map = Eigen::Map<const FlexMat<C>>;
    parallel_for(B * QH, 1, ctx.threads(), [&](int64_t begin, int64_t end) {
      for (int64_t pair = begin; pair < end; ++pair) {
        const int64_t b = pair / QH, kh = (pair % QH) / group;
        Eigen::Map<FlexMat<C>> out(sd + pair * L * S, L, S);
        out.noalias() = Map(qs.data() + pair * L * E, L, E) *
                        Map(ks.data() + (b * KH + kh) * S * E, S, E).transpose();
        // The product is formed in T before the cast to the softmax type.
        if constexpr (!std::is_same_v<T, C>) {
          for (int64_t i = 0; i < L * S; ++i) out.data()[i] = static_cast<C>(round_t(out.data()[i]));
        }
      }
    });
    if (score_mod_) scores = apply(*score_mod_, ctx, scores, "score_mod");
    C* rows = scores.mutable_data<C>();
    parallel_for(B * QH * L, std::max<int64_t>(1, 16384 / std::max<int64_t>(S, 1)), ctx.threads(),
                 [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        Eigen::Map<Eigen::Array<C, Eigen::Dynamic, 1>> row(rows + r * S, S);
        C m = row.maxCoeff();
        row = (row - m).exp();
        row /= row.sum();
      }
    });
    if (prob_mod_) scores = apply(*prob_mod_, ctx, scores, "prob_mod");
    const C* probs = scores.data<C>();
    std::vector<C> out(static_cast<size_t>(B * QH * L * EV));
    parallel_for(B * QH, 1, ctx.threads(), [&](int64_t begin, int64_t end) {
      for (int64_t pair = begin; pair < end; ++pair) {
        const int64_t b = pair / QH, kh = (pair % QH) / group;
        Eigen::Map<FlexMat<C>> y(out.data() + pair * L * EV, L, EV);
        y.noalias() = Map(probs + pair * L * S, L, S) * Map(vs.data() + (b * KH + kh) * S * EV, S, EV);
      }
    });
    Tensor& y = ctx.output(0, q.dtype(), {B, QH, L, EV});
    T* yd = y.mutable_data<T>();
    for (size_t i = 0; i < out.size(); ++i) yd[i] = static_cast<T>(out[i]);
  }

  // Runs a modifier subgraph on the whole tensor, which must come back with its shape and type.
  static Tensor apply(SubgraphCall& call, KernelContext& ctx, const Tensor& input,
                      const char* name) {
    std::vector<Value> inputs(call.input_count());
    if (call.formal_input_count() != 1) {
      throw_error(ErrorCode::kInvalidModel, "FlexAttention: ", name, " must take one input, has ",
                  call.formal_input_count());
    }
    inputs[0] = input;
    call.bind_outer_values(ctx, inputs);
    auto frame = call.plan().make_frame(&ctx);
    std::vector<Value> outputs;
    call.plan().run(*frame, inputs, outputs);
    if (outputs.size() != 1 || !outputs[0].is_tensor() ||
        outputs[0].tensor().shape() != input.shape() ||
        outputs[0].tensor().dtype() != input.dtype()) {
      bad_flex_attention(std::string(name) + " must return one tensor of the shape and type of its input " +
          shape_to_string(input.shape()));
    }
    // Own the result: the subgraph's frame (and any arena behind it) ends here.
    return outputs[0].tensor().clone();
  }

  bool has_scale_;
  float scale_;
  int64_t softmax_precision_;
  std::optional<SubgraphCall> score_mod_, prob_mod_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "ai.onnx.preview", "FlexAttention", 1, kOpsetOpenEnded,
                     FlexAttentionKernel);

}  // namespace onyx
