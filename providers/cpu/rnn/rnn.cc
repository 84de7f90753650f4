// CPU kernels of RNN, GRU and LSTM. Each direction first projects every timestep's input at
// once (one GEMM: [seq*batch, input] x W^T, biases folded in), then walks the sequence with one
// small GEMM per step for the recurrent term (H_prev x R^T) and vectorized gate math. Batch-major
// (layout 1) inputs are transposed to time-major first. 16-bit floats compute in float.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "onnx_ops/rnn.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"
#include "runtime/common/parallel.h"

namespace onyx {
namespace {

// Work buffers at Eigen's packet alignment. Eigen's vectorized tanh and exp take scalar steps up
// to the first aligned element and packets after it, which round slightly differently; with
// malloc's alignment (which differs between threads' heaps) the same input gave outputs one ulp
// apart from run to run.
template <typename C>
using Buffer = std::vector<C, Eigen::aligned_allocator<C>>;

template <typename C>
using Mat = Eigen::Matrix<C, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename C>
using MapM = Eigen::Map<Mat<C>>;
template <typename C>
using CMapM = Eigen::Map<const Mat<C>>;
template <typename C>
using Arr = Eigen::Array<C, Eigen::Dynamic, 1>;
template <typename C>
using MapA = Eigen::Map<Arr<C>>;

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

template <typename C>
void clip_values(C* data, int64_t n, bool has_clip, C clip) {
  if (!has_clip) return;
  MapA<C> x(data, n);
  x = x.max(-clip).min(clip);
}

// Copies a tensor into compute-type values.
template <typename T, typename C>
Buffer<C> to_compute(const Tensor& t) {
  const T* p = t.data<T>();
  Buffer<C> out(static_cast<size_t>(t.element_count()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<C>(load(p[i]));
  return out;
}

// The tensor's values as compute-type values: its own memory when the types agree (weights are
// read every run: copying them cost a third of a small LSTM's time), else a converted copy
// kept in `storage`.
template <typename T, typename C>
const C* compute_view(const Tensor& t, Buffer<C>& storage) {
  if constexpr (std::is_same_v<T, C>) {
    return t.data<C>();
  } else {
    storage = to_compute<T, C>(t);
    return storage.data();
  }
}

// [a, b, h] -> [b, a, h] (switches between batch- and time/direction-major).
template <typename C>
Buffer<C> swap01(const Buffer<C>& in, int64_t a, int64_t b, int64_t h) {
  Buffer<C> out(in.size());
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      std::copy_n(in.data() + (i * b + j) * h, h, out.data() + (j * a + i) * h);
  return out;
}

class RnnKernel final : public Kernel {
 public:
  explicit RnnKernel(const KernelInfo& info)
      : attrs_(read_rnn_attributes(info.attributes())), name_(info.node().describe()) {}

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
  template <typename T, typename C>
  void run(KernelContext& ctx);

  RnnAttributes attrs_;
  std::string name_;
};

template <typename T, typename C>
void RnnKernel::run(KernelContext& ctx) {
  const Tensor& x_t = ctx.input(0);
  const Tensor& w_t = ctx.input(1);
  const Tensor& r_t = ctx.input(2);
  const RnnAttributes& a = attrs_;
  ONYX_CHECK(x_t.rank() == 3, ErrorCode::kInvalidArgument, name_, ": X must have rank 3, got ",
             shape_to_string(x_t.shape()));
  const bool batch_major = a.layout == 1;
  const int64_t seq = x_t.dim(batch_major ? 1 : 0), batch = x_t.dim(batch_major ? 0 : 1);
  const int64_t input = x_t.dim(2);
  const int64_t dirs = a.num_directions, G = a.gate_count();
  ONYX_CHECK(r_t.rank() == 3, ErrorCode::kInvalidArgument, name_, ": R must have rank 3, got ",
             shape_to_string(r_t.shape()));
  const int64_t H = a.hidden_size > 0 ? a.hidden_size : r_t.dim(2);
  const int64_t GH = G * H;
  ONYX_CHECK(w_t.shape() == (Shape{dirs, GH, input}), ErrorCode::kInvalidArgument, name_,
             ": W shape ", shape_to_string(w_t.shape()), " is not [", dirs, ",", GH, ",", input, "]");
  ONYX_CHECK(r_t.shape() == (Shape{dirs, GH, H}), ErrorCode::kInvalidArgument, name_,
             ": R shape ", shape_to_string(r_t.shape()), " is not [", dirs, ",", GH, ",", H, "]");
  ONYX_CHECK(x_t.dtype() == w_t.dtype() && x_t.dtype() == r_t.dtype(), ErrorCode::kInvalidArgument,
             name_, ": X, W and R must share one dtype");

  Buffer<C> x_storage, w_storage, r_storage, bias_storage;
  const C* x = compute_view<T, C>(x_t, x_storage);
  if (batch_major) {
    x_storage = swap01(Buffer<C>(x, x + x_t.element_count()), batch, seq, input);
    x = x_storage.data();
  }
  const C* w = compute_view<T, C>(w_t, w_storage);
  const C* r = compute_view<T, C>(r_t, r_storage);
  const C* bias = nullptr;
  if (ctx.has_input(3)) {
    const Tensor& b = ctx.input(3);
    ONYX_CHECK(b.shape() == (Shape{dirs, 2 * GH}), ErrorCode::kInvalidArgument, name_, ": B shape ",
               shape_to_string(b.shape()), " is not [", dirs, ",", 2 * GH, "]");
    bias = compute_view<T, C>(b, bias_storage);
  } else {
    bias_storage.assign(static_cast<size_t>(dirs * 2 * GH), C(0));
    bias = bias_storage.data();
  }
  std::vector<int64_t> lens(static_cast<size_t>(batch), seq);
  if (ctx.has_input(4)) {
    const Tensor& s = ctx.input(4);
    ONYX_CHECK(s.element_count() == batch, ErrorCode::kInvalidArgument, name_,
               ": sequence_lens has ", s.element_count(), " values for batch ", batch);
    for (int64_t b = 0; b < batch; ++b) {
      lens[b] = static_cast<int64_t>(s.element_as_double(b));
      ONYX_CHECK(lens[b] >= 0 && lens[b] <= seq, ErrorCode::kInvalidArgument, name_,
                 ": sequence_lens[", b, "] = ", lens[b], " is outside [0, ", seq, "]");
    }
  }
  const Shape state_shape = batch_major ? Shape{batch, dirs, H} : Shape{dirs, batch, H};
  auto read_state = [&](size_t i, const char* what) {
    Buffer<C> v(static_cast<size_t>(dirs * batch * H), C(0));
    if (!ctx.has_input(i)) return v;
    const Tensor& t = ctx.input(i);
    ONYX_CHECK(t.shape() == state_shape, ErrorCode::kInvalidArgument, name_, ": ", what, " shape ",
               shape_to_string(t.shape()), " is not ", shape_to_string(state_shape));
    v = to_compute<T, C>(t);
    return batch_major ? swap01(v, batch, dirs, H) : v;
  };
  const bool lstm = a.cell == RnnCell::kLstm, gru = a.cell == RnnCell::kGru;
  Buffer<C> h_all = read_state(5, "initial_h");
  Buffer<C> c_all = lstm ? read_state(6, "initial_c") : Buffer<C>{};
  Buffer<C> peep(static_cast<size_t>(dirs * 3 * H), C(0));
  if (lstm && ctx.has_input(7)) {
    const Tensor& p = ctx.input(7);
    ONYX_CHECK(p.shape() == (Shape{dirs, 3 * H}), ErrorCode::kInvalidArgument, name_, ": P shape ",
               shape_to_string(p.shape()), " is not [", dirs, ",", 3 * H, "]");
    peep = to_compute<T, C>(p);
  }

  // Y time-major [seq, dirs, batch, H]; zeros past each sequence's length.
  Buffer<C> y(static_cast<size_t>(seq * dirs * batch * H), C(0));
  Buffer<C> xw(static_cast<size_t>(seq * batch * GH));
  Buffer<C> hr(static_cast<size_t>(batch * GH));
  Buffer<C> gates(static_cast<size_t>(batch * GH));
  Buffer<C> rh(static_cast<size_t>(batch * H));  // GRU: r (.) H_prev
  const C clip = static_cast<C>(a.clip);
  const int64_t per_dir = a.activations_per_direction();
  const int64_t row_grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, 8 * GH));

  for (int64_t d = 0; d < dirs; ++d) {
    const bool reverse = d == 1 || a.reverse;
    const C* wd = w + d * GH * input;
    const C* rd = r + d * GH * H;
    const C* wb = bias + d * 2 * GH;
    const C* rb = wb + GH;
    const RnnActivation* act = a.activations.data() + d * per_dir;
    C* h = h_all.data() + d * batch * H;
    C* cst = lstm ? c_all.data() + d * batch * H : nullptr;
    const C* pd = peep.data() + d * 3 * H;

    // All timesteps' input projections plus biases (GRU keeps Rb_h for the reset gate).
    if (seq * batch > 0) {
      MapM<C> xw_m(xw.data(), seq * batch, GH);
      xw_m.noalias() = CMapM<C>(x, seq * batch, input) * CMapM<C>(wd, GH, input).transpose();
      Arr<C> bsum = Eigen::Map<const Arr<C>>(wb, GH) + Eigen::Map<const Arr<C>>(rb, GH);
      if (gru) bsum.segment(2 * H, H) = Eigen::Map<const Arr<C>>(wb + 2 * H, H);
      xw_m.rowwise() += bsum.matrix().transpose();
    }
    // An empty batch has no rows to step (and Eigen blocks of its empty maps are undefined).
    for (int64_t s = 0; batch > 0 && s < seq; ++s) {
      // Recurrent term for all rows (GRU without linear_before_reset skips the h gate here).
      const int64_t rec_gates = (gru && !a.linear_before_reset) ? 2 * H : GH;
      MapM<C> hr_m(hr.data(), batch, GH);
      hr_m.leftCols(rec_gates).noalias() =
          CMapM<C>(h, batch, H) * CMapM<C>(rd, GH, H).topRows(rec_gates).transpose();
      const bool gru_reset_first = gru && !a.linear_before_reset;
      if (gru_reset_first) {
        // z and r gates of every row first, so (r (.) H_prev) x Rh^T is one GEMM for the batch.
        for (int64_t b = 0; b < batch; ++b) {
          C* rhb = rh.data() + b * H;
          if (s >= lens[b]) {
            std::fill_n(rhb, H, C(0));
            continue;
          }
          const int64_t t = reverse ? lens[b] - 1 - s : s;
          C* g = gates.data() + b * GH;
          const C* xr = xw.data() + (t * batch + b) * GH;
          const C* hrr = hr.data() + b * GH;
          for (int64_t j = 0; j < 2 * H; ++j) g[j] = xr[j] + hrr[j];
          clip_values(g, 2 * H, a.has_clip, clip);
          apply_activation(act[0], g, 2 * H);
          for (int64_t j = 0; j < H; ++j) rhb[j] = g[H + j] * h[b * H + j];
        }
        hr_m.rightCols(H).noalias() =
            CMapM<C>(rh.data(), batch, H) * CMapM<C>(rd + 2 * H * H, H, H).transpose();
      }
      // Rows are independent within a step: split the batch across threads when it is large.
      parallel_for(batch, row_grain, ctx.threads(), [&](int64_t b_begin, int64_t b_end) {
        for (int64_t b = b_begin; b < b_end; ++b) {
          if (s >= lens[b]) continue;  // sequence over: state frozen, Y stays zero
          const int64_t t = reverse ? lens[b] - 1 - s : s;
          C* g = gates.data() + b * GH;
          const C* xr = xw.data() + (t * batch + b) * GH;
          const C* hrr = hr.data() + b * GH;
          C* hb = h + b * H;
          if (!gru_reset_first) {
            for (int64_t j = 0; j < rec_gates; ++j) g[j] = xr[j] + hrr[j];
          }
          if (a.cell == RnnCell::kRnn) {
            clip_values(g, H, a.has_clip, clip);
            apply_activation(act[0], g, H);
            std::copy_n(g, H, hb);
          } else if (gru) {
            if (!gru_reset_first) {  // z, r gates
              clip_values(g, 2 * H, a.has_clip, clip);
              apply_activation(act[0], g, 2 * H);
            }
            C* hg = g + 2 * H;
            const C* rbh = rb + 2 * H;
            if (a.linear_before_reset) {
              for (int64_t j = 0; j < H; ++j) hg[j] = xr[2 * H + j] + g[H + j] * (hrr[2 * H + j] + rbh[j]);
            } else {
              for (int64_t j = 0; j < H; ++j) hg[j] = hrr[2 * H + j] + xr[2 * H + j] + rbh[j];
            }
            clip_values(hg, H, a.has_clip, clip);
            apply_activation(act[1], hg, H);
            for (int64_t j = 0; j < H; ++j) hb[j] = (C(1) - g[j]) * hg[j] + g[j] * hb[j];
          } else {
            // LSTM gate order i, o, f, c; peepholes i, o, f.
            C* gi = g;
            C* go = g + H;
            C* gf = g + 2 * H;
            C* gc = g + 3 * H;
            C* cb = cst + b * H;
            for (int64_t j = 0; j < H; ++j) gi[j] += pd[j] * cb[j];
            clip_values(gi, H, a.has_clip, clip);
            apply_activation(act[0], gi, H);
            if (a.input_forget) {
              for (int64_t j = 0; j < H; ++j) gf[j] = C(1) - gi[j];
            } else {
              for (int64_t j = 0; j < H; ++j) gf[j] += pd[2 * H + j] * cb[j];
              clip_values(gf, H, a.has_clip, clip);
              apply_activation(act[0], gf, H);
            }
            clip_values(gc, H, a.has_clip, clip);
            apply_activation(act[1], gc, H);
            for (int64_t j = 0; j < H; ++j) cb[j] = gf[j] * cb[j] + gi[j] * gc[j];
            for (int64_t j = 0; j < H; ++j) go[j] += pd[H + j] * cb[j];
            clip_values(go, H, a.has_clip, clip);
            apply_activation(act[0], go, H);
            std::copy_n(cb, H, gc);
            apply_activation(act[2], gc, H);
            for (int64_t j = 0; j < H; ++j) hb[j] = go[j] * gc[j];
          }
          std::copy_n(hb, H, y.data() + ((t * dirs + d) * batch + b) * H);
        }
      });
    }
  }

  auto write = [&](size_t i, const Shape& shape, const Buffer<C>& values) {
    if (!ctx.has_output(i)) return;
    Tensor& out = ctx.output(i, x_t.dtype(), shape);
    T* p = out.mutable_data<T>();
    for (size_t k = 0; k < values.size(); ++k) p[k] = convert_to<T>(values[k]);
  };
  if (batch_major) {
    // [seq, dirs, batch, H] -> [batch, seq, dirs, H].
    Buffer<C> yb(y.size());
    for (int64_t t = 0; t < seq; ++t)
      for (int64_t d = 0; d < dirs; ++d)
        for (int64_t b = 0; b < batch; ++b)
          std::copy_n(y.data() + ((t * dirs + d) * batch + b) * H, H,
                      yb.data() + ((b * seq + t) * dirs + d) * H);
    write(0, {batch, seq, dirs, H}, yb);
    write(1, state_shape, swap01(h_all, dirs, batch, H));
    if (lstm) write(2, state_shape, swap01(c_all, dirs, batch, H));
  } else {
    write(0, {seq, dirs, batch, H}, y);
    write(1, state_shape, h_all);
    if (lstm) write(2, state_shape, c_all);
  }
}

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "RNN", 1, kOpsetOpenEnded, RnnKernel);
ONYX_REGISTER_KERNEL("CPU", "", "GRU", 1, kOpsetOpenEnded, RnnKernel);
ONYX_REGISTER_KERNEL("CPU", "", "LSTM", 1, kOpsetOpenEnded, RnnKernel);

}  // namespace onyx
