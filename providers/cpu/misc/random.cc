// CPU kernels of the random ops: RandomUniform, RandomNormal (1), RandomUniformLike,
// RandomNormalLike (1), Bernoulli (15) and Multinomial (7). Each kernel owns a 64-bit Mersenne
// Twister seeded from the `seed` attribute (or from std::random_device when absent) at session
// creation, so successive runs draw fresh values and a seeded session is reproducible, with
// every standard library (runtime/common/portable_random.h). The values cannot equal NumPy's
// generator, which the ONNX reference tests sample from.
#include <cmath>
#include <mutex>
#include <random>
#include <vector>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"
#include "runtime/common/portable_random.h"

namespace onyx {
namespace {

std::mt19937_64 make_engine(const NodeAttributes& attributes) {
  if (attributes.has("seed")) {
    const float seed = attributes.get_float("seed", 0.0f);
    return std::mt19937_64(static_cast<uint64_t>(static_cast<int64_t>(seed)));
  }
  std::random_device device;
  return std::mt19937_64((static_cast<uint64_t>(device()) << 32) ^ device());
}

enum class Distribution { kUniform, kNormal };

// RandomUniform(Like) and RandomNormal(Like): `a`, `b` are (low, high) or (mean, scale).
class RandomKernel final : public Kernel {
 public:
  RandomKernel(const KernelInfo& info, Distribution distribution, bool like)
      : op_(info.node().op_type), distribution_(distribution), like_(like),
        engine_(make_engine(info.attributes())) {
    const NodeAttributes& at = info.attributes();
    if (distribution == Distribution::kUniform) {
      a_ = at.get_float("low", 0.0f);
      b_ = at.get_float("high", 1.0f);
    } else {
      a_ = at.get_float("mean", 0.0f);
      b_ = at.get_float("scale", 1.0f);
    }
    has_dtype_ = at.has("dtype");
    dtype_ = static_cast<DataType>(at.get_int("dtype", 1));
    if (!like) shape_ = at.require_ints("shape");
  }

  void compute(KernelContext& ctx) override {
    Shape shape = shape_;
    DataType dtype = dtype_;
    if (like_) {
      const Tensor& x = ctx.input(0);
      shape = x.shape();
      if (!has_dtype_) dtype = x.dtype();
    }
    for (int64_t d : shape) {
      ONYX_CHECK(d >= 0, ErrorCode::kInvalidArgument, op_, ": negative dim in shape ",
                 shape_to_string(shape));
    }
    Tensor& y = ctx.output(0, dtype, shape);
    const int64_t n = y.element_count();
    std::lock_guard<std::mutex> lock(mutex_);  // one engine, possibly shared by concurrent runs
    dispatch_dtype_or_throw<FloatTypes>(dtype, op_, [&]<typename T>() {
      T* out = y.mutable_data<T>();
      if (distribution_ == Distribution::kUniform) {
        for (int64_t i = 0; i < n; ++i) out[i] = convert_to<T>(portable_random::uniform(engine_, a_, b_));
      } else {
        for (int64_t i = 0; i < n; ++i) out[i] = convert_to<T>(portable_random::normal(engine_, a_, b_));
      }
    });
  }

 private:
  std::string op_;
  Distribution distribution_;
  bool like_;
  std::mt19937_64 engine_;
  std::mutex mutex_;
  double a_ = 0, b_ = 1;
  bool has_dtype_ = false;
  DataType dtype_ = DataType::kFloat;
  Shape shape_;
};

// y = 1 with probability p (the input), else 0, in `dtype` (default: the input's type).
class BernoulliKernel final : public Kernel {
 public:
  explicit BernoulliKernel(const KernelInfo& info)
      : engine_(make_engine(info.attributes())), has_dtype_(info.attributes().has("dtype")),
        dtype_(static_cast<DataType>(info.attributes().get_int("dtype", 1))) {}

  void compute(KernelContext& ctx) override {
    const Tensor& p = ctx.input(0);
    const DataType dtype = has_dtype_ ? dtype_ : p.dtype();
    Tensor& y = ctx.output(0, dtype, p.shape());
    const int64_t n = p.element_count();
    std::vector<double> prob(static_cast<size_t>(n));
    dispatch_dtype_or_throw<FloatTypes>(p.dtype(), "Bernoulli", [&]<typename T>() {
      const T* in = p.data<T>();
      for (int64_t i = 0; i < n; ++i) prob[i] = static_cast<double>(load(in[i]));
    });
    std::vector<uint8_t> draws(static_cast<size_t>(n));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int64_t i = 0; i < n; ++i) draws[i] = portable_random::bernoulli(engine_, prob[i]) ? 1 : 0;
    }
    if (dtype == DataType::kBool) {
      bool* out = y.mutable_data<bool>();
      for (int64_t i = 0; i < n; ++i) out[i] = draws[i] != 0;
      return;
    }
    dispatch_dtype_or_throw<NumericTypes>(dtype, "Bernoulli", [&]<typename T>() {
      T* out = y.mutable_data<T>();
      for (int64_t i = 0; i < n; ++i) out[i] = convert_to<T>(draws[i]);
    });
  }

 private:
  std::mt19937_64 engine_;
  std::mutex mutex_;
  bool has_dtype_;
  DataType dtype_;
};

// Input [batch, classes] of unnormalized log-probabilities; output [batch, sample_size] of
// class indices drawn by inverse-CDF sampling of softmax(input).
class MultinomialKernel final : public Kernel {
 public:
  explicit MultinomialKernel(const KernelInfo& info)
      : engine_(make_engine(info.attributes())),
        samples_(info.attributes().get_int("sample_size", 1)),
        dtype_(static_cast<DataType>(info.attributes().get_int("dtype", 6))) {
    ONYX_CHECK(samples_ >= 1, ErrorCode::kInvalidModel, "Multinomial: sample_size must be >= 1, got ",
               samples_);
    ONYX_CHECK(dtype_ == DataType::kInt32 || dtype_ == DataType::kInt64, ErrorCode::kInvalidModel,
               "Multinomial: dtype must be int32 or int64, got ", dtype_name(dtype_));
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    ONYX_CHECK(x.rank() == 2 && x.dim(1) > 0, ErrorCode::kInvalidArgument,
               "Multinomial: input must have shape [batch, classes > 0], got ",
               shape_to_string(x.shape()));
    const int64_t batch = x.dim(0), classes = x.dim(1);
    std::vector<double> logits(static_cast<size_t>(batch * classes));
    dispatch_dtype_or_throw<FloatTypes>(x.dtype(), "Multinomial", [&]<typename T>() {
      const T* in = x.data<T>();
      for (int64_t i = 0; i < batch * classes; ++i) logits[i] = static_cast<double>(load(in[i]));
    });
    std::vector<int64_t> picks(static_cast<size_t>(batch * samples_));
    std::vector<double> cdf(static_cast<size_t>(classes));
    std::lock_guard<std::mutex> lock(mutex_);
    for (int64_t b = 0; b < batch; ++b) {
      const double* row = logits.data() + b * classes;
      double max = row[0];
      for (int64_t c = 1; c < classes; ++c) max = std::max(max, row[c]);
      double total = 0.0;
      for (int64_t c = 0; c < classes; ++c) cdf[c] = total += std::exp(row[c] - max);
      for (int64_t s = 0; s < samples_; ++s) {
        const double u = portable_random::unit(engine_) * total;
        const int64_t c = std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
        picks[b * samples_ + s] = std::min(c, classes - 1);
      }
    }
    Tensor& y = ctx.output(0, dtype_, {batch, samples_});
    if (dtype_ == DataType::kInt32) {
      int32_t* out = y.mutable_data<int32_t>();
      for (size_t i = 0; i < picks.size(); ++i) out[i] = static_cast<int32_t>(picks[i]);
    } else {
      std::copy(picks.begin(), picks.end(), y.mutable_data<int64_t>());
    }
  }

 private:
  std::mt19937_64 engine_;
  std::mutex mutex_;
  int64_t samples_;
  DataType dtype_;
};

template <Distribution D, bool Like>
std::unique_ptr<Kernel> make_random(const KernelInfo& info) {
  return std::make_unique<RandomKernel>(info, D, Like);
}

}  // namespace

ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "RandomUniform", 1, kOpsetOpenEnded,
                             (make_random<Distribution::kUniform, false>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "RandomNormal", 1, kOpsetOpenEnded,
                             (make_random<Distribution::kNormal, false>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "RandomUniformLike", 1, kOpsetOpenEnded,
                             (make_random<Distribution::kUniform, true>));
ONYX_REGISTER_KERNEL_FACTORY("CPU", "", "RandomNormalLike", 1, kOpsetOpenEnded,
                             (make_random<Distribution::kNormal, true>));
ONYX_REGISTER_KERNEL("CPU", "", "Bernoulli", 15, kOpsetOpenEnded, BernoulliKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Multinomial", 7, kOpsetOpenEnded, MultinomialKernel);

}  // namespace onyx
