// CPU kernels of RNN, GRU and LSTM. Weights are packed once (rnn_weights.h: at session creation
// when W, R and B are constant initializers). Each direction first projects every timestep's
// input at once (one product over [seq*batch, input], biases folded in), then walks the
// sequence with one small product per step for the recurrent term (H_prev x R^T) and the gate
// math of each row fused in one pass over its gates. Bidirectional layers large enough to pay
// for it run their two directions on two threads; otherwise large batches split across
// threads. Batch-major (layout 1) inputs are transposed to time-major first.
// 16-bit floats compute in float.
#include <Eigen/Core>
#include <algorithm>
#include <optional>
#include <type_traits>

#include "onnx_ops/rnn.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/cpu/rnn/rnn_gemm.h"
#include "providers/cpu/rnn/rnn_weights.h"
#include "providers/kernel_registry.h"
#include "runtime/common/parallel.h"

namespace onyx {
namespace {

using rnn::PackedWeights;

template <typename C>
using Arr = Eigen::Array<C, Eigen::Dynamic, 1>;
template <typename C>
using MapA = Eigen::Map<Arr<C>>;
template <typename C>
using CMapA = Eigen::Map<const Arr<C>>;

// Multiply-adds each thread must get before work is split: on idle cores a parallel region
// costs a few microseconds, but when other processes oversubscribe the cores a thread can wait
// milliseconds for its partner to be scheduled (measured: the 2-layer bidirectional LSTM of
// the exported architectures, ~20 us a run, took 40-60 us a run at 2 threads with its
// directions split on a loaded 2-core machine against 33 us inline). So only work of tens of
// microseconds per thread is split.
constexpr int64_t kParallelWork = int64_t{1} << 19;

// x = act(x) over n contiguous values.
template <typename C>
void apply_activation(const RnnActivation& a, C* data, int64_t n) {
  MapA<C> x(data, n);
  const C alpha = static_cast<C>(a.alpha), beta = static_cast<C>(a.beta);
  switch (a.kind) {
    case RnnActivationKind::kRelu: x = x.max(C(0)); break;
    case RnnActivationKind::kTanh: x = x.tanh(); break;
    case RnnActivationKind::kSigmoid: x = C(1) / (C(1) + (-x).exp()); break;
    case RnnActivationKind::kAffine: x = alpha * x + beta; break;
    case RnnActivationKind::kLeakyRelu: x = (x >= C(0)).select(x, alpha * x); break;
    case RnnActivationKind::kThresholdedRelu: x = (x > alpha).select(x, C(0)); break;
    case RnnActivationKind::kScaledTanh: x = alpha * (beta * x).tanh(); break;
    case RnnActivationKind::kHardSigmoid: x = (alpha * x + beta).max(C(0)).min(C(1)); break;
    case RnnActivationKind::kElu: x = (x >= C(0)).select(x, alpha * (x.exp() - C(1))); break;
    case RnnActivationKind::kSoftsign: x = x / (C(1) + x.abs()); break;
    case RnnActivationKind::kSoftplus:
      // log(1 + exp(x)) without overflow for large x.
      x = x.max(C(0)) + (C(1) + (-x.abs()).exp()).log();
      break;
  }
}

// g = act(clip(g + x)) over n values: the input projection joins the recurrent term here.
template <typename C>
void add_clip_activate(const RnnActivation& act, C* g, const C* x, int64_t n, bool has_clip, C clip) {
  MapA<C> v(g, n);
  if (has_clip) {
    v = (v + CMapA<C>(x, n)).max(-clip).min(clip);
  } else {
    v += CMapA<C>(x, n);
  }
  apply_activation(act, g, n);
}

// Work memory carved from one scratch tensor, each piece 64-byte aligned (Eigen's packet
// alignment: its vectorized tanh and exp take scalar steps up to the first aligned element,
// which round differently, so unaligned buffers gave results one ulp apart between runs).
class ScratchCarver {
 public:
  template <typename E>
  static size_t bytes_for(int64_t count) {
    return (static_cast<size_t>(count) * sizeof(E) + 63) / 64 * 64;
  }
  explicit ScratchCarver(Tensor& scratch) : next_(static_cast<char*>(scratch.mutable_raw_data())) {}
  template <typename E>
  E* take(int64_t count) {
    E* p = reinterpret_cast<E*>(next_);
    next_ += bytes_for<E>(count);
    return p;
  }

 private:
  char* next_;
};

// One run's operands in compute type, time-major.
template <typename C>
struct Problem {
  const RnnAttributes* attrs;
  const PackedWeights<C>* weights;
  int64_t seq, batch, input, hidden, gates_h, dirs;
  const C* x;            // [seq, batch, input]
  const int64_t* lens;   // [batch]
  const C* peepholes;    // [dirs, 3 * hidden] or null
  C* y;                  // [seq, dirs, batch, hidden] or null when Y is not wanted
  C* h;                  // [dirs, batch, hidden]: initial state in, final state out
  C* c;                  // [dirs, batch, hidden] (LSTM)
};

// Per-direction work: the projected inputs, the recurrent term, and a GRU's r (.) H_prev.
template <typename C>
struct DirectionWork {
  C* xw;  // [seq * batch, gates_h]
  C* hr;  // [batch, gates_h]
  C* rh;  // [batch, hidden]
};

// The gate math of one row at one step: `hr` holds the recurrent term (H_prev x R^T, plus a
// GRU's Rb_h with linear_before_reset) and is overwritten with the gates; h and c are updated.
template <typename C>
void lstm_row(const Problem<C>& p, const RnnActivation* act, const C* pd, const C* xr, C* g, C* hb, C* cb) {
  const RnnAttributes& a = *p.attrs;
  const int64_t H = p.hidden;
  const C clip = static_cast<C>(a.clip);
  // Gate order i, o, f, c; peepholes i, o, f.
  C* gi = g;
  C* go = g + H;
  C* gf = g + 2 * H;
  C* gc = g + 3 * H;
  MapA<C> c_state(cb, H);
  // Without peepholes or coupled gates, i, o and f take one activation pass.
  const bool one_pass_iof = pd == nullptr && !a.input_forget;
  if (one_pass_iof) {
    add_clip_activate(act[0], g, xr, 3 * H, a.has_clip, clip);
  } else {
    MapA<C>(g, 3 * H) += CMapA<C>(xr, 3 * H);
    if (pd != nullptr) MapA<C>(gi, H) += CMapA<C>(pd, H) * c_state;
    if (a.has_clip) MapA<C>(gi, H) = MapA<C>(gi, H).max(-clip).min(clip);
    apply_activation(act[0], gi, H);
    if (a.input_forget) {
      MapA<C>(gf, H) = C(1) - MapA<C>(gi, H);
    } else {
      if (pd != nullptr) MapA<C>(gf, H) += CMapA<C>(pd + 2 * H, H) * c_state;
      if (a.has_clip) MapA<C>(gf, H) = MapA<C>(gf, H).max(-clip).min(clip);
      apply_activation(act[0], gf, H);
    }
  }
  add_clip_activate(act[1], gc, xr + 3 * H, H, a.has_clip, clip);
  c_state = MapA<C>(gf, H) * c_state + MapA<C>(gi, H) * MapA<C>(gc, H);
  if (!one_pass_iof) {  // the output gate's peephole reads the new cell state
    if (pd != nullptr) MapA<C>(go, H) += CMapA<C>(pd + H, H) * c_state;
    if (a.has_clip) MapA<C>(go, H) = MapA<C>(go, H).max(-clip).min(clip);
    apply_activation(act[0], go, H);
  }
  std::copy_n(cb, H, gc);
  apply_activation(act[2], gc, H);
  MapA<C>(hb, H) = MapA<C>(go, H) * MapA<C>(gc, H);
}

// Runs one direction over rows [b_begin, b_end) of the batch for all steps.
template <typename C>
void run_rows(const Problem<C>& p, int64_t d, const DirectionWork<C>& work, int64_t b_begin, int64_t b_end) {
  const RnnAttributes& a = *p.attrs;
  const int64_t H = p.hidden, GH = p.gates_h, batch = p.batch;
  const bool reverse = d == 1 || a.reverse;
  const bool lstm = a.cell == RnnCell::kLstm, gru = a.cell == RnnCell::kGru;
  const bool gru_reset_first = gru && !a.linear_before_reset;  // h gate reads (r (.) H_prev) x Rh^T
  const int64_t rec_cols = gru_reset_first ? 2 * H : GH;
  const C* rt = p.weights->r_t_of(d);
  const C* rec_bias = p.weights->recurrent_bias_of(d);
  const RnnActivation* act = a.activations.data() + d * a.activations_per_direction();
  const C* pd = p.peepholes != nullptr ? p.peepholes + d * 3 * H : nullptr;
  const C clip = static_cast<C>(a.clip);
  C* h = p.h + d * batch * H;
  C* cst = lstm ? p.c + d * batch * H : nullptr;
  const int64_t rows = b_end - b_begin;

  for (int64_t s = 0; s < p.seq; ++s) {
    // Rows whose sequence ended keep their state and leave Y zero; computing their recurrent
    // term anyway keeps the product one call.
    C* hr = work.hr + b_begin * GH;
    rnn::packed_gemm<C>(rows, rec_cols, H, h + b_begin * H, H, rt, GH, rec_bias, 0, hr, GH);
    if (gru_reset_first) {
      for (int64_t b = b_begin; b < b_end; ++b) {
        C* rhb = work.rh + b * H;
        if (s >= p.lens[b]) {
          std::fill_n(rhb, H, C(0));
          continue;
        }
        const int64_t t = reverse ? p.lens[b] - 1 - s : s;
        C* g = work.hr + b * GH;
        add_clip_activate(act[0], g, work.xw + (t * batch + b) * GH, 2 * H, a.has_clip, clip);
        MapA<C>(rhb, H) = MapA<C>(g + H, H) * CMapA<C>(h + b * H, H);
      }
      rnn::packed_gemm<C>(rows, H, H, work.rh + b_begin * H, H, rt + 2 * H, GH, nullptr, 0, hr + 2 * H, GH);
    }
    for (int64_t b = b_begin; b < b_end; ++b) {
      if (s >= p.lens[b]) continue;
      const int64_t t = reverse ? p.lens[b] - 1 - s : s;
      C* g = work.hr + b * GH;
      const C* xr = work.xw + (t * batch + b) * GH;
      C* hb = h + b * H;
      if (a.cell == RnnCell::kRnn) {
        add_clip_activate(act[0], g, xr, H, a.has_clip, clip);
        std::copy_n(g, H, hb);
      } else if (gru) {
        // Gates z, r, h. With linear_before_reset the recurrent h term (plus Rb_h) is scaled
        // by r; else it was computed from r (.) H_prev above.
        if (!gru_reset_first) add_clip_activate(act[0], g, xr, 2 * H, a.has_clip, clip);
        MapA<C> hg(g + 2 * H, H);
        if (a.linear_before_reset) hg *= MapA<C>(g + H, H);
        add_clip_activate(act[1], g + 2 * H, xr + 2 * H, H, a.has_clip, clip);
        MapA<C> z(g, H), hv(hb, H);
        hv = (C(1) - z) * hg + z * hv;
      } else {
        lstm_row(p, act, pd, xr, g, hb, cst + b * H);
      }
      if (p.y != nullptr) std::copy_n(hb, H, p.y + ((t * p.dirs + d) * batch + b) * H);
    }
  }
}

// One direction: the input projection of all steps, then the steps.
template <typename C>
void run_direction(const Problem<C>& p, int64_t d, const DirectionWork<C>& work, int threads) {
  const int64_t GH = p.gates_h, m = p.seq * p.batch;
  const C* wt = p.weights->w_t_of(d);
  const C* bias = p.weights->input_bias_of(d);
  parallel_for(m, kParallelWork / std::max<int64_t>(1, p.input * GH), threads, [&](int64_t begin, int64_t end) {
    rnn::packed_gemm<C>(end - begin, GH, p.input, p.x + begin * p.input, p.input, wt, GH, bias, 0,
                        work.xw + begin * GH, GH);
  });
  // Rows are independent within a step: large batches split across threads, each chunk
  // walking all steps on its own (no barrier per step).
  parallel_for(p.batch, kParallelWork / std::max<int64_t>(1, p.seq * GH * p.hidden), threads,
               [&](int64_t begin, int64_t end) { run_rows(p, d, work, begin, end); });
}

class RnnKernel final : public Kernel {
 public:
  explicit RnnKernel(const KernelInfo& info)
      : attrs_(read_rnn_attributes(info.attributes())), name_(info.node().describe()) {
    pack_constant_weights(info);
  }

  void compute(KernelContext& ctx) override {
    const DataType dt = ctx.input(0).dtype();
    switch (dt) {
      case DataType::kFloat: return run<float, float>(ctx);
      case DataType::kDouble: return run<double, double>(ctx);
      case DataType::kFloat16: return run<Float16, float>(ctx);
      case DataType::kBFloat16: return run<BFloat16, float>(ctx);
      default:
        throw_error(ErrorCode::kNotImplemented, name_, ": unsupported dtype ", dtype_name(dt));
    }
  }

 private:
  // Packs W, R and B now when all three are constants (B may be absent). Bad shapes or dtypes
  // are left for compute to report, with the same errors as for non-constant weights.
  void pack_constant_weights(const KernelInfo& info) {
    const Tensor* w = info.constant_input(1);
    const Tensor* r = info.constant_input(2);
    const Tensor* b = info.has_input(3) ? info.constant_input(3) : nullptr;
    if (w == nullptr || r == nullptr || (info.has_input(3) && b == nullptr)) return;
    try {
      rnn::checked_hidden_size(attrs_, *w, *r, b, name_);
    } catch (const Error&) {
      return;
    }
    packed_dtype_ = w->dtype();
    switch (w->dtype()) {
      case DataType::kFloat: packed_float_ = rnn::pack_weights<float, float>(attrs_, *w, *r, b); break;
      case DataType::kDouble: packed_double_ = rnn::pack_weights<double, double>(attrs_, *w, *r, b); break;
      case DataType::kFloat16: packed_float_ = rnn::pack_weights<Float16, float>(attrs_, *w, *r, b); break;
      case DataType::kBFloat16: packed_float_ = rnn::pack_weights<BFloat16, float>(attrs_, *w, *r, b); break;
      default: packed_dtype_.reset(); break;
    }
  }

  template <typename C>
  const PackedWeights<C>* packed(DataType dtype) const {
    if (packed_dtype_ != dtype) return nullptr;
    if constexpr (std::is_same_v<C, float>) return packed_float_ ? &*packed_float_ : nullptr;
    else return packed_double_ ? &*packed_double_ : nullptr;
  }

  template <typename T, typename C>
  void run(KernelContext& ctx);

  RnnAttributes attrs_;
  std::string name_;
  std::optional<DataType> packed_dtype_;
  std::optional<PackedWeights<float>> packed_float_;
  std::optional<PackedWeights<double>> packed_double_;
};

template <typename T, typename C>
void RnnKernel::run(KernelContext& ctx) {
  const Tensor& x_t = ctx.input(0);
  const Tensor& w_t = ctx.input(1);
  const Tensor& r_t = ctx.input(2);
  const Tensor* b_t = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  const RnnAttributes& a = attrs_;
  ONYX_CHECK(x_t.rank() == 3, ErrorCode::kInvalidArgument, name_, ": X must have rank 3, got ",
             shape_to_string(x_t.shape()));
  const int64_t H = rnn::checked_hidden_size(a, w_t, r_t, b_t, name_);
  const bool batch_major = a.layout == 1;
  const int64_t seq = x_t.dim(batch_major ? 1 : 0), batch = x_t.dim(batch_major ? 0 : 1);
  const int64_t input = x_t.dim(2);
  const int64_t dirs = a.num_directions, GH = a.gate_count() * H;
  ONYX_CHECK(w_t.dim(2) == input, ErrorCode::kInvalidArgument, name_, ": W shape ",
             shape_to_string(w_t.shape()), " is not [", dirs, ",", GH, ",", input, "]");
  ONYX_CHECK(x_t.dtype() == w_t.dtype(), ErrorCode::kInvalidArgument, name_,
             ": X, W and R must share one dtype");
  const bool lstm = a.cell == RnnCell::kLstm;
  const Shape state_shape = batch_major ? Shape{batch, dirs, H} : Shape{dirs, batch, H};
  const Tensor* h0_t = ctx.has_input(5) ? &ctx.input(5) : nullptr;
  const Tensor* c0_t = lstm && ctx.has_input(6) ? &ctx.input(6) : nullptr;
  const Tensor* p_t = lstm && ctx.has_input(7) ? &ctx.input(7) : nullptr;
  for (const auto& [t, what] : {std::pair{h0_t, "initial_h"}, std::pair{c0_t, "initial_c"}}) {
    ONYX_CHECK(t == nullptr || t->shape() == state_shape, ErrorCode::kInvalidArgument, name_, ": ", what,
               " shape ", shape_to_string(t->shape()), " is not ", shape_to_string(state_shape));
  }
  ONYX_CHECK(p_t == nullptr || p_t->shape() == (Shape{dirs, 3 * H}), ErrorCode::kInvalidArgument, name_,
             ": P shape ", shape_to_string(p_t->shape()), " is not [", dirs, ",", 3 * H, "]");

  std::optional<PackedWeights<C>> run_weights;  // weights that are not constants
  const PackedWeights<C>* weights = packed<C>(w_t.dtype());
  if (weights == nullptr) weights = &run_weights.emplace(rnn::pack_weights<T, C>(a, w_t, r_t, b_t));

  // Time-major compute-type X, Y and the states are used in place when the tensors already are
  // that; the rest lives in one scratch buffer.
  constexpr bool same_type = std::is_same_v<T, C>;
  const bool x_in_place = same_type && !batch_major;
  const bool want_y = ctx.has_output(0);
  const bool y_in_place = same_type && !batch_major && want_y;
  const int64_t state_count = dirs * batch * H;
  using S = ScratchCarver;
  size_t bytes = S::bytes_for<int64_t>(batch) + 2 * S::bytes_for<C>(state_count) +
                 S::bytes_for<C>(dirs * 3 * H) +
                 dirs * (S::bytes_for<C>(seq * batch * GH) + S::bytes_for<C>(batch * GH) +
                         S::bytes_for<C>(batch * H));
  if (!x_in_place) bytes += S::bytes_for<C>(seq * batch * input);
  if (want_y && !y_in_place) bytes += S::bytes_for<C>(seq * dirs * batch * H);
  Tensor scratch = ctx.scratch(bytes);
  S carve(scratch);

  int64_t* lens = carve.take<int64_t>(batch);
  std::fill_n(lens, batch, seq);
  bool full_lengths = true;
  if (ctx.has_input(4)) {
    const Tensor& s = ctx.input(4);
    ONYX_CHECK(s.element_count() == batch, ErrorCode::kInvalidArgument, name_,
               ": sequence_lens has ", s.element_count(), " values for batch ", batch);
    for (int64_t b = 0; b < batch; ++b) {
      lens[b] = static_cast<int64_t>(s.element_as_double(b));
      ONYX_CHECK(lens[b] >= 0 && lens[b] <= seq, ErrorCode::kInvalidArgument, name_,
                 ": sequence_lens[", b, "] = ", lens[b], " is outside [0, ", seq, "]");
      full_lengths = full_lengths && lens[b] == seq;
    }
  }

  // Reads a [batch, dirs, H] or [dirs, batch, H] tensor (or zeros) as [dirs, batch, H].
  auto read_state = [&](const Tensor* t, C* out) {
    if (t == nullptr) {
      std::fill_n(out, state_count, C(0));
      return;
    }
    const T* v = t->data<T>();
    for (int64_t d = 0; d < dirs; ++d)
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t j = 0; j < H; ++j)
          out[(d * batch + b) * H + j] =
              static_cast<C>(load(v[(batch_major ? b * dirs + d : d * batch + b) * H + j]));
  };
  Problem<C> p{&a, weights, seq, batch, input, H, GH, dirs, nullptr, lens, nullptr,
               nullptr, carve.take<C>(state_count), carve.take<C>(state_count)};
  read_state(h0_t, p.h);
  if (lstm) read_state(c0_t, p.c);
  C* peep = carve.take<C>(dirs * 3 * H);
  if (p_t != nullptr) {
    const T* v = p_t->data<T>();
    for (int64_t i = 0; i < dirs * 3 * H; ++i) peep[i] = static_cast<C>(load(v[i]));
    p.peepholes = peep;
  }
  DirectionWork<C> work[2];
  for (int64_t d = 0; d < dirs; ++d) {
    work[d].xw = carve.take<C>(seq * batch * GH);
    work[d].hr = carve.take<C>(batch * GH);
    work[d].rh = carve.take<C>(batch * H);
  }
  if (x_in_place) {
    p.x = x_t.data<C>();
  } else {
    C* x = carve.take<C>(seq * batch * input);
    const T* v = x_t.data<T>();
    for (int64_t t = 0; t < seq; ++t)
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t i = 0; i < input; ++i)
          x[(t * batch + b) * input + i] =
              static_cast<C>(load(v[(batch_major ? b * seq + t : t * batch + b) * input + i]));
    p.x = x;
  }
  Tensor* y_out = nullptr;
  if (want_y) {
    y_out = &ctx.output(0, x_t.dtype(), batch_major ? Shape{batch, seq, dirs, H} : Shape{seq, dirs, batch, H});
    if constexpr (same_type) {
      if (y_in_place) p.y = y_out->mutable_data<C>();
    }
    if (p.y == nullptr) p.y = carve.take<C>(seq * dirs * batch * H);
    // Steps past a sequence's end leave its Y rows zero.
    if (!full_lengths) std::fill_n(p.y, seq * dirs * batch * H, C(0));
  }

  if (batch > 0 && seq > 0) {
    const int threads = ctx.threads();
    const int64_t direction_work = seq * batch * GH * (input + H);
    if (dirs == 2 && threads >= 2 && direction_work >= kParallelWork) {
      // The directions are independent: one thread each.
      parallel_for(2, 1, 2, [&](int64_t begin, int64_t end) {
        for (int64_t d = begin; d < end; ++d) run_direction(p, d, work[d], 1);
      });
    } else {
      for (int64_t d = 0; d < dirs; ++d) run_direction(p, d, work[d], threads);
    }
  }

  if (want_y && !y_in_place) {
    // Time-major [seq, dirs, batch, H] -> the output's layout and type.
    T* out = y_out->mutable_data<T>();
    for (int64_t t = 0; t < seq; ++t)
      for (int64_t d = 0; d < dirs; ++d)
        for (int64_t b = 0; b < batch; ++b) {
          const C* src = p.y + ((t * dirs + d) * batch + b) * H;
          T* dst = out + (batch_major ? (b * seq + t) * dirs + d : (t * dirs + d) * batch + b) * H;
          for (int64_t j = 0; j < H; ++j) dst[j] = convert_to<T>(src[j]);
        }
  }
  auto write_state = [&](size_t i, const C* values) {
    if (!ctx.has_output(i)) return;
    T* out = ctx.output(i, x_t.dtype(), state_shape).mutable_data<T>();
    for (int64_t d = 0; d < dirs; ++d)
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t j = 0; j < H; ++j)
          out[(batch_major ? b * dirs + d : d * batch + b) * H + j] = convert_to<T>(values[(d * batch + b) * H + j]);
  };
  write_state(1, p.h);
  if (lstm) write_state(2, p.c);
}

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "RNN", 1, kOpsetOpenEnded, RnnKernel);
ONYX_REGISTER_KERNEL("CPU", "", "GRU", 1, kOpsetOpenEnded, RnnKernel);
ONYX_REGISTER_KERNEL("CPU", "", "LSTM", 1, kOpsetOpenEnded, RnnKernel);

}  // namespace onyx
