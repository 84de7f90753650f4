// The CPU RNN/GRU/LSTM kernel's packed-weight and threaded paths: weights given as constants
// (packed once when the kernel is created) and as run-time inputs (packed per run) must both
// match a plain-loop float64 transcription of the ONNX formulas written here, and running the
// directions or batch rows on two threads must give bit-identical results to one thread.
// Sizes cover the vectorized blocks (hidden 32: 4 gates x 32 columns) and the scalar tails
// (hidden 5), odd batches (a row pair plus a single row) and uneven sequence lengths.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "providers/cpu/cpu_provider.h"
#include "providers/kernel.h"
#include "runtime/common/error.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/ir/graph.h"
#include "runtime/tensor/tensor.h"

namespace onyx {
namespace {

struct Case {
  std::string op;  // RNN, GRU or LSTM
  int64_t seq = 4, batch = 3, input = 6, hidden = 5, dirs = 1;
  bool reverse = false;
  bool bias = true;
  bool lens = false;      // uneven sequence_lens
  bool initial = false;   // initial_h (and initial_c)
  bool peepholes = false; // LSTM
  bool linear_before_reset = false;  // GRU
  float clip = 0.0f;
  int64_t layout = 0;
};

int64_t gate_count(const std::string& op) { return op == "RNN" ? 1 : op == "GRU" ? 3 : 4; }

// The operands as float64 values, time-major / direction-major regardless of layout.
struct Operands {
  std::vector<double> x;       // [seq, batch, input]
  std::vector<double> w, r, b; // [dirs, G*H, input], [dirs, G*H, H], [dirs, 2*G*H]
  std::vector<int64_t> lens;   // [batch]
  std::vector<double> h0, c0;  // [dirs, batch, H]
  std::vector<double> p;       // [dirs, 3*H]
};

Operands make_operands(const Case& c, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-0.6, 0.6);
  auto fill = [&](int64_t n) {
    std::vector<double> v(static_cast<size_t>(n));
    for (double& e : v) e = u(gen);
    return v;
  };
  const int64_t gh = gate_count(c.op) * c.hidden;
  Operands o;
  o.x = fill(c.seq * c.batch * c.input);
  o.w = fill(c.dirs * gh * c.input);
  o.r = fill(c.dirs * gh * c.hidden);
  o.b = c.bias ? fill(c.dirs * 2 * gh) : std::vector<double>(static_cast<size_t>(c.dirs * 2 * gh), 0.0);
  o.lens.assign(static_cast<size_t>(c.batch), c.seq);
  if (c.lens) {
    // Full, shorter and empty sequences.
    for (int64_t b = 0; b < c.batch; ++b) o.lens[b] = b % 3 == 0 ? c.seq : b % 3 == 1 ? c.seq - 2 : 0;
  }
  const int64_t states = c.dirs * c.batch * c.hidden;
  o.h0 = c.initial ? fill(states) : std::vector<double>(static_cast<size_t>(states), 0.0);
  o.c0 = c.initial ? fill(states) : std::vector<double>(static_cast<size_t>(states), 0.0);
  o.p = c.peepholes ? fill(c.dirs * 3 * c.hidden) : std::vector<double>(static_cast<size_t>(c.dirs * 3 * c.hidden), 0.0);
  return o;
}

// Y [seq, dirs, batch, H], Y_h and Y_c [dirs, batch, H], by the ONNX formulas, one value at a time.
struct Reference {
  std::vector<double> y, h, c;
};

Reference reference(const Case& cs, const Operands& o) {
  const int64_t H = cs.hidden, G = gate_count(cs.op), GH = G * H, I = cs.input, B = cs.batch;
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  auto clip = [&](double v) { return cs.clip > 0 ? std::min<double>(std::max<double>(v, -cs.clip), cs.clip) : v; };
  Reference ref;
  ref.y.assign(static_cast<size_t>(cs.seq * cs.dirs * B * H), 0.0);
  ref.h = o.h0;
  ref.c = o.c0;
  for (int64_t d = 0; d < cs.dirs; ++d) {
    const bool reverse = d == 1 || cs.reverse;
    const double* w = o.w.data() + d * GH * I;
    const double* r = o.r.data() + d * GH * H;
    const double* wb = o.b.data() + d * 2 * GH;
    const double* rb = wb + GH;
    const double* p = o.p.data() + d * 3 * H;
    for (int64_t b = 0; b < B; ++b) {
      double* h = ref.h.data() + (d * B + b) * H;
      double* c = ref.c.data() + (d * B + b) * H;
      for (int64_t s = 0; s < o.lens[b]; ++s) {
        const int64_t t = reverse ? o.lens[b] - 1 - s : s;
        const double* x = o.x.data() + (t * B + b) * I;
        std::vector<double> xw(GH), hr(GH);
        for (int64_t j = 0; j < GH; ++j) {
          xw[j] = wb[j];
          for (int64_t i = 0; i < I; ++i) xw[j] += w[j * I + i] * x[i];
          hr[j] = rb[j];
          for (int64_t k = 0; k < H; ++k) hr[j] += r[j * H + k] * h[k];
        }
        std::vector<double> next(H);
        if (cs.op == "RNN") {
          for (int64_t j = 0; j < H; ++j) next[j] = std::tanh(clip(xw[j] + hr[j]));
        } else if (cs.op == "GRU") {
          for (int64_t j = 0; j < H; ++j) {
            const double z = sig(clip(xw[j] + hr[j]));
            const double rg = sig(clip(xw[H + j] + hr[H + j]));
            double rec;
            if (cs.linear_before_reset) {
              rec = rg * hr[2 * H + j];
            } else {
              rec = rb[2 * H + j];
              for (int64_t k = 0; k < H; ++k) {
                rec += r[(2 * H + j) * H + k] * sig(clip(xw[H + k] + hr[H + k])) * h[k];
              }
            }
            const double hh = std::tanh(clip(xw[2 * H + j] + rec));
            next[j] = (1 - z) * hh + z * h[j];
          }
        } else {  // LSTM, gates i, o, f, c
          for (int64_t j = 0; j < H; ++j) {
            const double i_g = sig(clip(xw[j] + hr[j] + p[j] * c[j]));
            const double f_g = sig(clip(xw[2 * H + j] + hr[2 * H + j] + p[2 * H + j] * c[j]));
            const double c_g = std::tanh(clip(xw[3 * H + j] + hr[3 * H + j]));
            c[j] = f_g * c[j] + i_g * c_g;
            const double o_g = sig(clip(xw[H + j] + hr[H + j] + p[H + j] * c[j]));
            next[j] = o_g * std::tanh(c[j]);
          }
        }
        std::copy(next.begin(), next.end(), h);
        std::copy(next.begin(), next.end(), ref.y.data() + ((t * cs.dirs + d) * B + b) * H);
      }
    }
  }
  return ref;
}

class PlainOutputs final : public OutputAllocator {
 public:
  Tensor allocate(int, DataType dtype, const Shape& shape) override { return Tensor(dtype, shape); }
};

template <typename T>
T to(double v) {
  if constexpr (std::is_same_v<T, double>) {
    return v;
  } else {
    return T(static_cast<float>(v));
  }
}

template <typename T>
Tensor tensor_of(Shape shape, const std::vector<double>& v) {
  Tensor t(dtype_of<T>(), std::move(shape));
  T* p = t.mutable_data<T>();
  for (size_t i = 0; i < v.size(); ++i) p[i] = to<T>(v[i]);
  return t;
}

// The operands as the kernel sees them in type T, so the reference starts from the same values.
template <typename T>
Operands rounded_to(Operands o) {
  for (std::vector<double>* v : {&o.x, &o.w, &o.r, &o.b, &o.h0, &o.c0, &o.p}) {
    for (double& e : *v) e = static_cast<double>(to<T>(e));
  }
  return o;
}

// [a, b, h] -> [b, a, h].
std::vector<double> swap01(const std::vector<double>& v, int64_t a, int64_t b, int64_t h) {
  std::vector<double> out(v.size());
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      for (int64_t k = 0; k < h; ++k) out[(j * a + i) * h + k] = v[(i * b + j) * h + k];
  return out;
}

// Creates the kernel (W, R and B handed over as constants when `constant_weights`), runs it
// `runs` times on the same inputs and returns the last run's outputs in the node's layout.
template <typename T>
std::vector<Tensor> run_kernel(const Case& cs, const Operands& o, bool constant_weights, int threads, int runs = 1) {
  const int64_t H = cs.hidden, GH = gate_count(cs.op) * H;
  const bool bm = cs.layout == 1;
  std::vector<Attribute> attrs = {make_attribute("hidden_size", H), make_attribute("layout", cs.layout)};
  if (cs.dirs == 2) attrs.push_back(make_attribute("direction", "bidirectional"));
  if (cs.reverse) attrs.push_back(make_attribute("direction", "reverse"));
  if (cs.clip > 0) attrs.push_back(make_attribute("clip", cs.clip));
  if (cs.linear_before_reset) attrs.push_back(make_attribute("linear_before_reset", int64_t{1}));
  const size_t input_count = cs.op == "LSTM" ? 8 : 6;
  const size_t output_count = cs.op == "LSTM" ? 3 : 2;
  Node node;
  node.name = "n";
  node.op_type = cs.op;
  node.attributes = attrs;
  for (size_t i = 0; i < output_count; ++i) node.outputs.push_back("out" + std::to_string(i));

  std::vector<Value> frame(input_count + output_count);
  frame[0] = bm ? tensor_of<T>({cs.batch, cs.seq, cs.input}, swap01(o.x, cs.seq, cs.batch, cs.input))
                : tensor_of<T>({cs.seq, cs.batch, cs.input}, o.x);
  frame[1] = tensor_of<T>({cs.dirs, GH, cs.input}, o.w);
  frame[2] = tensor_of<T>({cs.dirs, GH, H}, o.r);
  if (cs.bias) frame[3] = tensor_of<T>({cs.dirs, 2 * GH}, o.b);
  if (cs.lens) frame[4] = Tensor::from_vector<int32_t>({cs.batch}, std::vector<int32_t>(o.lens.begin(), o.lens.end()));
  const Shape state = bm ? Shape{cs.batch, cs.dirs, H} : Shape{cs.dirs, cs.batch, H};
  auto state_values = [&](const std::vector<double>& v) { return bm ? swap01(v, cs.dirs, cs.batch, H) : v; };
  if (cs.initial) {
    frame[5] = tensor_of<T>(state, state_values(o.h0));
    if (cs.op == "LSTM") frame[6] = tensor_of<T>(state, state_values(o.c0));
  }
  if (cs.peepholes) frame[7] = tensor_of<T>({cs.dirs, 3 * H}, o.p);

  std::vector<TypeInfo> types(input_count);
  std::vector<const TypeInfo*> type_pointers;
  std::vector<const Tensor*> constants;
  std::vector<int> input_slots, output_slots;
  for (size_t i = 0; i < input_count; ++i) {
    const bool present = frame[i].is_tensor();
    node.inputs.push_back(present ? "in" + std::to_string(i) : "");
    if (present) types[i] = TypeInfo::tensor_of_shape(frame[i].tensor().dtype(), frame[i].tensor().shape());
    type_pointers.push_back(&types[i]);
    const bool weight = i >= 1 && i <= 3;
    constants.push_back(present && weight && constant_weights ? &frame[i].tensor() : nullptr);
    input_slots.push_back(present ? static_cast<int>(i) : -1);
  }
  for (size_t i = 0; i < output_count; ++i) output_slots.push_back(static_cast<int>(input_count + i));

  static CpuExecutionProvider cpu;
  const KernelDef* def = cpu.find_kernel(node, 14);
  EXPECT_NE(def, nullptr);
  if (def == nullptr) return {};
  KernelInfo info(node, 14, type_pointers, {}, constants, cpu, threads);
  std::unique_ptr<Kernel> kernel = def->factory(info);
  PlainOutputs outputs;
  for (int run = 0; run < runs; ++run) {
    KernelContext ctx(frame.data(), input_slots, output_slots, outputs, threads);
    kernel->compute(ctx);
  }
  std::vector<Tensor> result;
  for (size_t i = 0; i < output_count; ++i) result.push_back(frame[input_count + i].tensor());
  return result;
}

// Output values in the reference's order (time-major Y, direction-major states).
std::vector<double> values_of(const Tensor& t, const Case& cs, int output) {
  std::vector<double> v(static_cast<size_t>(t.element_count()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = t.element_as_double(static_cast<int64_t>(i));
  if (cs.layout == 0) return v;
  if (output == 0) {  // [batch, seq, dirs, H] -> [seq, dirs, batch, H]
    std::vector<double> out(v.size());
    for (int64_t b = 0; b < cs.batch; ++b)
      for (int64_t s = 0; s < cs.seq; ++s)
        for (int64_t d = 0; d < cs.dirs; ++d)
          for (int64_t j = 0; j < cs.hidden; ++j)
            out[((s * cs.dirs + d) * cs.batch + b) * cs.hidden + j] =
                v[((b * cs.seq + s) * cs.dirs + d) * cs.hidden + j];
    return out;
  }
  return swap01(v, cs.batch, cs.dirs, cs.hidden);
}

template <typename T>
void expect_matches_reference(const Case& cs, double tolerance) {
  const Operands o = rounded_to<T>(make_operands(cs, 7));
  const Reference ref = reference(cs, o);
  for (bool constant : {true, false}) {
    SCOPED_TRACE(constant ? "constant weights" : "run-time weights");
    // Two runs: the packed weights must survive a run unchanged.
    std::vector<Tensor> out = run_kernel<T>(cs, o, constant, 1, 2);
    ASSERT_EQ(out.size(), cs.op == "LSTM" ? 3u : 2u);
    const std::vector<const std::vector<double>*> expected = {&ref.y, &ref.h, &ref.c};
    for (size_t k = 0; k < out.size(); ++k) {
      std::vector<double> got = values_of(out[k], cs, static_cast<int>(k));
      ASSERT_EQ(got.size(), expected[k]->size()) << "output " << k;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], (*expected[k])[i], tolerance) << "output " << k << " at " << i;
      }
    }
  }
}

template <typename T>
void expect_bitwise_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].element_count(), b[k].element_count());
    const T* pa = a[k].data<T>();
    const T* pb = b[k].data<T>();
    for (int64_t i = 0; i < a[k].element_count(); ++i) {
      ASSERT_EQ(std::memcmp(pa + i, pb + i, sizeof(T)), 0) << "output " << k << " at " << i;
    }
  }
}

TEST(RnnPacked, LstmBidirectionalMatchesReference) {
  for (int64_t hidden : {5, 32}) {
    SCOPED_TRACE("hidden " + std::to_string(hidden));
    Case cs{.op = "LSTM", .hidden = hidden, .dirs = 2, .lens = true, .initial = true};
    expect_matches_reference<float>(cs, 2e-5);
  }
}

TEST(RnnPacked, LstmPeepholesClipBatchMajorMatchesReference) {
  Case cs{.op = "LSTM", .seq = 5, .batch = 4, .hidden = 32, .dirs = 2, .initial = true,
          .peepholes = true, .clip = 0.7f, .layout = 1};
  expect_matches_reference<float>(cs, 2e-5);
}

TEST(RnnPacked, GruBothResetOrdersMatchReference) {
  for (bool lbr : {false, true}) {
    for (int64_t hidden : {5, 32}) {
      SCOPED_TRACE(std::string(lbr ? "linear_before_reset " : "reset first ") + std::to_string(hidden));
      Case cs{.op = "GRU", .seq = 6, .batch = 3, .hidden = hidden, .dirs = 2, .lens = true,
              .initial = true, .linear_before_reset = lbr};
      expect_matches_reference<float>(cs, 2e-5);
    }
  }
}

TEST(RnnPacked, RnnReverseWithoutBiasMatchesReference) {
  Case cs{.op = "RNN", .batch = 2, .hidden = 32, .reverse = true, .bias = false, .initial = true};
  expect_matches_reference<float>(cs, 2e-5);
}

TEST(RnnPacked, DoubleAndFloat16MatchReference) {
  Case lstm{.op = "LSTM", .hidden = 32, .dirs = 2, .lens = true, .initial = true};
  expect_matches_reference<double>(lstm, 1e-12);
  Case gru{.op = "GRU", .hidden = 5, .lens = true, .initial = true, .linear_before_reset = true};
  expect_matches_reference<double>(gru, 1e-12);
  // 16-bit types compute in float and round the outputs: half an ulp of values below 1.
  expect_matches_reference<Float16>(gru, 1e-3);
  expect_matches_reference<BFloat16>(lstm, 8e-3);
}

// The two directions on two threads, and batch rows and input projections split across two
// threads, compute exactly what one thread does. (The sizes are above the kernel's threshold
// for splitting work; smaller problems run on one thread whatever the thread count.)
TEST(RnnPacked, TwoThreadsEqualOneThreadBitForBit) {
  Case bidirectional{.op = "LSTM", .seq = 16, .batch = 8, .input = 16, .hidden = 32, .dirs = 2, .initial = true};
  Case wide_batch{.op = "GRU", .seq = 8, .batch = 64, .input = 16, .hidden = 32, .lens = true,
                  .linear_before_reset = true};
  Case wide_reset_first{.op = "GRU", .seq = 8, .batch = 64, .input = 16, .hidden = 32, .dirs = 2};
  for (const Case& cs : {bidirectional, wide_batch, wide_reset_first}) {
    SCOPED_TRACE(cs.op + " batch " + std::to_string(cs.batch));
    const Operands o = make_operands(cs, 11);
    expect_bitwise_equal<float>(run_kernel<float>(cs, o, true, 1), run_kernel<float>(cs, o, true, 2));
  }
}

}  // namespace
}  // namespace onyx
