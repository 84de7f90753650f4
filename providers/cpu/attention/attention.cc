// Attention (opset 23+): scaled dot-product attention with grouped-query heads, KV cache
// concatenation, boolean/float masks, causal and sliding-window masks, softcap and the optional
// qk_matmul_output. Q, K and V are first gathered into contiguous float [batch, heads, seq, head]
// buffers (pre-scaled by sqrt(scale) as the spec's graph does), then every (batch, q head) pair
// runs two Eigen GEMMs around a row softmax, pairs spread over threads.
#include <Eigen/Core>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "onnx_ops/attention.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"
#include "runtime/common/parallel.h"
#include "runtime/tensor/half.h"

namespace onyx {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMatrix>;
using StridedMap = Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Where element (b, h, s, 0) of a Q/K/V input lives: 3-D inputs are [batch, seq, heads*size].
struct HeadLayout {
  int64_t batch_stride, head_stride, seq_stride;
};

HeadLayout layout_of(bool input_3d, int64_t heads, int64_t seq, int64_t size) {
  if (input_3d) return {seq * heads * size, size, heads * size};
  return {heads * seq * size, seq * size, size};
}

// dst[b, h, 0:past+seq, :] = concat(past[b, h], cur[b, h]) with `convert` applied, dst being
// contiguous [batch, heads, past+seq, size]. `past` may be null (past_seq 0).
template <typename Src, typename Dst, typename Convert>
void gather_heads(const Src* past, int64_t past_seq, const Src* cur, HeadLayout cur_layout,
                  int64_t seq, int64_t batch, int64_t heads, int64_t size, Dst* dst,
                  const Convert& convert) {
  int64_t total = past_seq + seq;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      Dst* out = dst + (b * heads + h) * total * size;
      if (past_seq > 0) {
        const Src* p = past + (b * heads + h) * past_seq * size;
        for (int64_t i = 0; i < past_seq * size; ++i) out[i] = convert(p[i]);
      }
      out += past_seq * size;
      for (int64_t s = 0; s < seq; ++s) {
        const Src* c = cur + b * cur_layout.batch_stride + h * cur_layout.head_stride +
                       s * cur_layout.seq_stride;
        for (int64_t d = 0; d < size; ++d) out[s * size + d] = convert(c[d]);
      }
    }
  }
}

// Rounds a float to T's precision, so 16-bit models see the roundings the spec's graph makes.
template <typename T>
float round_to(float x) {
  if constexpr (std::is_same_v<T, float>) {
    return x;
  } else {
    return static_cast<float>(T(x));
  }
}

template <typename T>
T from_float(float x) {
  if constexpr (std::is_same_v<T, float>) {
    return x;
  } else {
    return T(x);
  }
}

// The attention mask as a float bias broadcast over [batch, q_heads, q_seq, *]; its last dim
// (mask_len) may be shorter than the total sequence, the rest counting as masked.
struct MaskView {
  std::vector<float> bias;
  int64_t stride[3] = {0, 0, 0};  // batch, head, row strides (0 where broadcast)
  int64_t len = 0;
  bool present = false;
};

MaskView make_mask(const Tensor& mask, const AttentionShape& s) {
  MaskView view;
  view.present = true;
  const Shape& shape = mask.shape();
  if (shape.empty() || shape.size() > 4) {
    throw_error(ErrorCode::kInvalidArgument, "Attention: attn_mask must have rank 1 to 4, got ",
                shape_to_string(shape));
  }
  Shape dims(4 - shape.size(), 1);
  dims.insert(dims.end(), shape.begin(), shape.end());
  const int64_t want[3] = {s.batch, s.q_heads, s.q_seq};
  for (int i = 0; i < 3; ++i) {
    if (dims[i] != 1 && dims[i] != want[i]) {
      throw_error(ErrorCode::kInvalidArgument, "Attention: attn_mask ", shape_to_string(shape),
                  " does not broadcast to [", s.batch, ",", s.q_heads, ",", s.q_seq, ",",
                  s.total_seq, "]");
    }
  }
  view.len = dims[3];
  if (view.len > s.total_seq) {
    throw_error(ErrorCode::kInvalidArgument, "Attention: attn_mask ", shape_to_string(shape),
                " is longer than the ", s.total_seq, " keys");
  }
  view.stride[2] = dims[2] == 1 ? 0 : view.len;
  view.stride[1] = dims[1] == 1 ? 0 : dims[2] * view.len;
  view.stride[0] = dims[0] == 1 ? 0 : dims[1] * dims[2] * view.len;
  int64_t n = mask.element_count();
  view.bias.resize(static_cast<size_t>(n));
  switch (mask.dtype()) {
    case DataType::kBool: {
      const bool* m = mask.data<bool>();
      for (int64_t i = 0; i < n; ++i) view.bias[i] = m[i] ? 0.0f : kNegInf;
      break;
    }
    case DataType::kFloat:
      std::memcpy(view.bias.data(), mask.data<float>(), n * sizeof(float));
      break;
    case DataType::kFloat16: {
      const Float16* m = mask.data<Float16>();
      for (int64_t i = 0; i < n; ++i) view.bias[i] = static_cast<float>(m[i]);
      break;
    }
    case DataType::kBFloat16: {
      const BFloat16* m = mask.data<BFloat16>();
      for (int64_t i = 0; i < n; ++i) view.bias[i] = static_cast<float>(m[i]);
      break;
    }
    default:
      throw_error(ErrorCode::kNotImplemented, "Attention: attn_mask of type ",
                  dtype_name(mask.dtype()), " is not supported");
  }
  return view;
}

class AttentionKernel : public Kernel {
 public:
  explicit AttentionKernel(const KernelInfo& info) {
    const NodeAttributes& a = info.attributes();
    q_num_heads_ = a.get_int("q_num_heads", 0);
    kv_num_heads_ = a.get_int("kv_num_heads", 0);
    has_scale_ = a.has("scale");
    scale_ = a.get_float("scale", 0.0f);
    causal_ = a.get_int("is_causal", 0) != 0;
    softcap_ = a.get_float("softcap", 0.0f);
    qk_mode_ = a.get_int("qk_matmul_output_mode", 0);
    left_window_ = a.get_int("left_window_size", -1);
    right_window_ = a.get_int("right_window_size", -1);
    softmax_precision_ = a.get_int("softmax_precision", 0);
    if (qk_mode_ < 0 || qk_mode_ > 3) {
      throw_error(ErrorCode::kInvalidModel, "Attention: qk_matmul_output_mode must be 0..3, got ",
                  qk_mode_);
    }
    if (left_window_ < -1 || right_window_ < -1) {
      throw_error(ErrorCode::kInvalidModel,
                  "Attention: window sizes must be -1 or nonnegative, got left ", left_window_,
                  " and right ", right_window_);
    }
  }

  void compute(KernelContext& ctx) override {
    dispatch_dtype_or_throw<TypeList<float, Float16, BFloat16>>(ctx.input(0).dtype(), "Attention",
                                                                [&]<typename T>() { run<T>(ctx); });
  }

 private:
  template <typename T>
  void run(KernelContext& ctx) {
    const Tensor& q = ctx.input(0);
    const Tensor& k = ctx.input(1);
    const Tensor& v = ctx.input(2);
    for (int i = 1; i <= 2; ++i) {
      if (ctx.input(i).dtype() != q.dtype()) {
        throw_error(ErrorCode::kInvalidArgument, "Attention: Q is ", dtype_name(q.dtype()),
                    " but input ", i, " is ", dtype_name(ctx.input(i).dtype()));
      }
    }
    bool has_past = ctx.has_input(4) || ctx.has_input(5);
    const Tensor* past_key = ctx.has_input(4) ? &ctx.input(4) : nullptr;
    const Tensor* past_value = ctx.has_input(5) ? &ctx.input(5) : nullptr;
    AttentionShape s = attention_shape(q.shape(), k.shape(), v.shape(),
                                       past_key ? &past_key->shape() : nullptr,
                                       past_value ? &past_value->shape() : nullptr,
                                       q_num_heads_, kv_num_heads_);
    if (has_past && (past_key->dtype() != q.dtype() || past_value->dtype() != q.dtype())) {
      throw_error(ErrorCode::kInvalidArgument, "Attention: past_key/past_value type differs from Q");
    }
    std::vector<int64_t> nonpad;
    if (ctx.has_input(6)) {
      const Tensor& lengths = ctx.input(6);
      nonpad = lengths.to_int64_vector();
      if (static_cast<int64_t>(nonpad.size()) != s.batch) {
        throw_error(ErrorCode::kInvalidArgument, "Attention: nonpad_kv_seqlen ",
                    shape_to_string(lengths.shape()), " must have one entry per batch (",
                    s.batch, ")");
      }
      if (has_past) {
        throw_error(ErrorCode::kInvalidArgument,
                    "Attention: nonpad_kv_seqlen cannot be combined with past_key/past_value");
      }
    }
    MaskView mask;
    if (ctx.has_input(3)) mask = make_mask(ctx.input(3), s);

    const int64_t B = s.batch, QH = s.q_heads, KH = s.kv_heads, SQ = s.q_seq, NK = s.total_seq;
    const int64_t D = s.head_size, DV = s.v_head_size, P = s.past_seq;

    // sqrt(scale) on both Q and K, rounded to T like the spec's Cast(ScaleFactorSqrt, to=T1).
    float scale = has_scale_ ? scale_ : 1.0f / std::sqrt(static_cast<float>(D));
    const float root = round_to<T>(std::sqrt(scale));
    auto scaled = [root](T x) { return round_to<T>(static_cast<float>(x) * root); };
    auto plain = [](T x) { return static_cast<float>(x); };
    auto copy = [](T x) { return x; };

    std::vector<float> qf(B * QH * SQ * D), kf(B * KH * NK * D), vf(B * KH * NK * DV);
    const T* past_k = has_past ? past_key->data<T>() : nullptr;
    const T* past_v = has_past ? past_value->data<T>() : nullptr;
    gather_heads(static_cast<const T*>(nullptr), 0, q.data<T>(), layout_of(s.input_3d, QH, SQ, D),
                 SQ, B, QH, D, qf.data(), scaled);
    HeadLayout k_layout = layout_of(s.input_3d, KH, s.kv_seq, D);
    HeadLayout v_layout = layout_of(s.input_3d, KH, s.kv_seq, DV);
    gather_heads(past_k, P, k.data<T>(), k_layout, s.kv_seq, B, KH, D, kf.data(), scaled);
    gather_heads(past_v, P, v.data<T>(), v_layout, s.kv_seq, B, KH, DV, vf.data(), plain);
    if (ctx.has_output(1)) {
      Tensor& present = ctx.output(1, q.dtype(), s.present_key);
      gather_heads(past_k, P, k.data<T>(), k_layout, s.kv_seq, B, KH, D, present.mutable_data<T>(),
                   copy);
    }
    if (ctx.has_output(2)) {
      Tensor& present = ctx.output(2, q.dtype(), s.present_value);
      gather_heads(past_v, P, v.data<T>(), v_layout, s.kv_seq, B, KH, DV,
                   present.mutable_data<T>(), copy);
    }

    T* y = ctx.output(0, q.dtype(), s.y).template mutable_data<T>();
    T* qk_out = ctx.has_output(3) ? ctx.output(3, q.dtype(), s.qk).template mutable_data<T>()
                                  : nullptr;
    // The softmax runs in softmax_precision when given, else in the input type.
    DataType softmax_kind = softmax_precision_ != 0 ? static_cast<DataType>(softmax_precision_)
                                                    : q.dtype();
    const HeadLayout y_layout = layout_of(s.input_3d, QH, SQ, DV);
    const int64_t group = QH / KH;

    // Key range each query row may attend: causal, window and padding limits are all intervals,
    // so row i sees keys [lo, hi) of its batch (the mask only adds within them).
    auto key_range = [&](int64_t b, int64_t i, int64_t& lo, int64_t& hi) {
      int64_t pos = (has_past ? P : (nonpad.empty() ? 0 : nonpad[b] - SQ)) + i;
      lo = 0;
      hi = nonpad.empty() ? NK : std::min<int64_t>(nonpad[b], NK);
      if (causal_) hi = std::min(hi, pos + 1);
      if (left_window_ >= 0) lo = std::max(lo, pos - left_window_);
      if (right_window_ >= 0) hi = std::min(hi, pos + right_window_ + 1);
      lo = std::max<int64_t>(lo, 0);
      hi = std::max(hi, lo);
    };
    // Query rows go in blocks, and a block's GEMMs stop at the last key any of its rows can
    // see: causal attention then does about half the work. Keys past that are -inf in the
    // bias and so weigh exactly 0. The qk output needs every score, so it keeps full rows.
    constexpr int64_t kRowBlock = 64;
    const int64_t blocks = (SQ + kRowBlock - 1) / kRowBlock;

    parallel_for(B * QH * blocks, 1, ctx.threads(), [&](int64_t begin, int64_t end) {
      RowMatrix scores_buffer(std::min(SQ, kRowBlock), NK);
      RowMatrix out_buffer(std::min(SQ, kRowBlock), DV);
      std::vector<float> bias(NK);
      for (int64_t task = begin; task < end; ++task) {
        const int64_t pair = task / blocks, i0 = (task % blocks) * kRowBlock;
        const int64_t rows = std::min(kRowBlock, SQ - i0);
        const int64_t b = pair / QH, h = pair % QH, kh = h / group;
        int64_t used = 0;  // keys this block needs
        if (qk_out) {
          used = NK;
        } else {
          for (int64_t i = i0; i < i0 + rows; ++i) {
            int64_t lo, hi;
            key_range(b, i, lo, hi);
            if (hi > lo) used = std::max(used, hi);
          }
        }
        T* y_block = y + b * y_layout.batch_stride + h * y_layout.head_stride +
                     i0 * y_layout.seq_stride;
        if (used == 0) {  // every row fully masked: zero output rows
          for (int64_t i = 0; i < rows; ++i) {
            std::fill(y_block + i * y_layout.seq_stride, y_block + i * y_layout.seq_stride + DV,
                      from_float<T>(0.0f));
          }
          continue;
        }
        Eigen::Map<RowMatrix> scores(scores_buffer.data(), rows, used);
        ConstMap qm(qf.data() + (pair * SQ + i0) * D, rows, D);
        ConstMap km(kf.data() + (b * KH + kh) * NK * D, used, D);
        ConstMap vm(vf.data() + (b * KH + kh) * NK * DV, used, DV);
        scores.noalias() = qm * km.transpose();
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t i = i0 + r;
          float* row = scores.data() + r * used;
          int64_t lo, hi;
          key_range(b, i, lo, hi);
          hi = std::min(hi, used);
          const float* mrow = mask.present ? mask.bias.data() + b * mask.stride[0] +
                                                 h * mask.stride[1] + i * mask.stride[2]
                                           : nullptr;
          float bias_max = kNegInf;
          for (int64_t j = 0; j < used; ++j) {
            float value = kNegInf;
            if (j >= lo && j < hi) value = mrow ? (j < mask.len ? mrow[j] : kNegInf) : 0.0f;
            bias[j] = value;
            bias_max = std::max(bias_max, value);
          }
          if constexpr (!std::is_same_v<T, float>) {
            for (int64_t j = 0; j < used; ++j) row[j] = round_to<T>(row[j]);
          }
          if (softcap_ > 0.0f) {
            for (int64_t j = 0; j < used; ++j) {
              row[j] = round_to<T>(round_to<T>(std::tanh(round_to<T>(row[j] / softcap_))) * softcap_);
            }
          }
          T* qk_row = qk_out ? qk_out + (pair * SQ + i) * NK : nullptr;
          if (qk_row && qk_mode_ <= 1) {
            for (int64_t j = 0; j < NK; ++j) qk_row[j] = from_float<T>(row[j]);
          }
          for (int64_t j = 0; j < used; ++j) row[j] = round_to<T>(row[j] + bias[j]);
          if (qk_row && qk_mode_ == 2) {
            for (int64_t j = 0; j < NK; ++j) qk_row[j] = from_float<T>(row[j]);
          }
          switch (softmax_kind) {
            case DataType::kFloat16: softmax_row<Float16>(row, used, bias_max == kNegInf); break;
            case DataType::kBFloat16: softmax_row<BFloat16>(row, used, bias_max == kNegInf); break;
            default: softmax_row<float>(row, used, bias_max == kNegInf); break;
          }
          if constexpr (!std::is_same_v<T, float>) {
            for (int64_t j = 0; j < used; ++j) row[j] = round_to<T>(row[j]);
          }
          if (qk_row && qk_mode_ == 3) {
            for (int64_t j = 0; j < NK; ++j) qk_row[j] = from_float<T>(row[j]);
          }
        }
        if constexpr (std::is_same_v<T, float>) {
          StridedMap ym(y_block, rows, DV, Eigen::OuterStride<>(y_layout.seq_stride));
          ym.noalias() = scores * vm;
        } else {
          Eigen::Map<RowMatrix> out(out_buffer.data(), rows, DV);
          out.noalias() = scores * vm;
          for (int64_t i = 0; i < rows; ++i) {
            for (int64_t d = 0; d < DV; ++d) y_block[i * y_layout.seq_stride + d] = T(out(i, d));
          }
        }
      }
    });
  }

  // Stable softmax in place. A row whose bias is all -inf has no key to attend: it becomes
  // zeros (not NaN), as does a row whose scores are all -inf.
  // R is the type the softmax is computed in (softmax_precision, else the input type): its
  // roundings are replayed on float values so 16-bit results match the spec's graph.
  template <typename R>
  static void softmax_row(float* row, int64_t n, bool fully_masked) {
    if (fully_masked) {
      std::fill(row, row + n, 0.0f);
      return;
    }
    // Vectorized max; a NaN it may skip still turns the whole row NaN through exp and the sum.
    float m = Eigen::Map<const Eigen::ArrayXf>(row, n).maxCoeff();
    if (std::isnan(m)) m = 0.0f;
    if (m == kNegInf) m = 0.0f;
    float sum = 0.0f;
    if constexpr (std::is_same_v<R, float>) {
      Eigen::Map<Eigen::ArrayXf> values(row, n);
      values = (values - m).exp();  // Eigen's vectorized exp
      sum = values.sum();
      values *= sum == 0.0f ? 1.0f : 1.0f / sum;
    } else {
      for (int64_t j = 0; j < n; ++j) {
        row[j] = round_to<R>(std::exp(round_to<R>(row[j] - m)));
        // NumPy sums float16 in float but bfloat16 (an ml_dtypes type) one rounded add at a time.
        sum = std::is_same_v<R, BFloat16> ? round_to<R>(sum + row[j]) : sum + row[j];
      }
      sum = round_to<R>(sum);
      if (sum == 0.0f) sum = 1.0f;
      for (int64_t j = 0; j < n; ++j) row[j] = round_to<R>(row[j] / sum);
    }
  }

  int64_t q_num_heads_, kv_num_heads_;
  bool has_scale_;
  float scale_;
  bool causal_;
  float softcap_;
  int64_t qk_mode_, left_window_, right_window_, softmax_precision_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Attention", 23, kOpsetOpenEnded, AttentionKernel);

}  // namespace onyx
