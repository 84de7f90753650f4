// Dropout (identity at inference; random mask in training mode) and LRN (cross-channel local
// response normalization).
#include <cmath>
#include <cstring>
#include <random>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"
#include "runtime/common/portable_random.h"

namespace onyx {

namespace {

using FloatOnly = TypeList<float, double, Float16, BFloat16>;

class DropoutKernel final : public Kernel {
 public:
  explicit DropoutKernel(const KernelInfo& info) : opset_(info.opset()) {
    ratio_ = info.attributes().get_float("ratio", 0.5f);
    // Before opset 7 inference was requested with is_test; later opsets are inference unless
    // the training_mode input (opset 12) says otherwise.
    training_ = opset_ < 7 && info.attributes().get_int("is_test", 0) == 0;
    if (info.attributes().has("seed")) {
      seed_ = static_cast<uint64_t>(info.attributes().get_int("seed", 0));
      seeded_ = true;
    }
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    float ratio = ratio_;
    bool training = training_;
    if (opset_ >= 12) {
      if (ctx.has_input(1)) ratio = static_cast<float>(ctx.input(1).element_as_double(0));
      training = ctx.has_input(2) && ctx.input(2).element_as_double(0) != 0.0;
    }
    if (training && (ratio < 0.0f || ratio >= 1.0f)) {
      throw_error(ErrorCode::kInvalidArgument, "Dropout: ratio ", ratio, " must be in [0, 1)");
    }
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    const bool want_mask = ctx.has_output(1);
    const DataType mask_type = opset_ >= 10 ? DataType::kBool : x.dtype();
    Tensor* mask = want_mask ? &ctx.output(1, mask_type, x.shape()) : nullptr;
    const int64_t n = x.element_count();
    if (!training || ratio == 0.0f) {
      if (y.mutable_raw_data() != x.raw_data()) std::memcpy(y.mutable_raw_data(), x.raw_data(), x.byte_size());
      if (mask) fill_mask(*mask, nullptr);
      return;
    }
    std::vector<uint8_t> keep(static_cast<size_t>(n));
    portable_random::Engine rng(seeded_ ? seed_ : std::random_device{}());
    for (auto& k : keep) k = portable_random::bernoulli(rng, 1.0 - ratio) ? 1 : 0;
    const float scale = 1.0f / (1.0f - ratio);
    dispatch_dtype_or_throw<FloatOnly>(x.dtype(), "Dropout", [&]<typename T>() {
      const T* px = x.data<T>();
      T* py = y.mutable_data<T>();
      for (int64_t i = 0; i < n; ++i) {
        py[i] = convert_to<T>(keep[static_cast<size_t>(i)] ? static_cast<ComputeType<T>>(load(px[i])) * scale : 0);
      }
    });
    if (mask) fill_mask(*mask, keep.data());
  }

 private:
  static void fill_mask(Tensor& mask, const uint8_t* keep) {
    const int64_t n = mask.element_count();
    if (mask.dtype() == DataType::kBool) {
      bool* p = mask.mutable_data<bool>();
      for (int64_t i = 0; i < n; ++i) p[i] = keep ? keep[i] != 0 : true;
      return;
    }
    dispatch_dtype_or_throw<FloatOnly>(mask.dtype(), "Dropout", [&]<typename T>() {
      T* p = mask.mutable_data<T>();
      for (int64_t i = 0; i < n; ++i) p[i] = convert_to<T>(keep && !keep[i] ? 0.0f : 1.0f);
    });
  }

  int64_t opset_;
  float ratio_;
  bool training_ = false;
  bool seeded_ = false;
  uint64_t seed_ = 0;
};

class LrnKernel final : public Kernel {
 public:
  explicit LrnKernel(const KernelInfo& info) {
    const NodeAttributes& a = info.attributes();
    alpha_ = a.get_float("alpha", 1e-4f);
    beta_ = a.get_float("beta", 0.75f);
    bias_ = a.get_float("bias", 1.0f);
    size_ = a.require_int("size");
    if (size_ <= 0) throw_error(ErrorCode::kInvalidModel, info.node().describe(), ": size must be positive");
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.rank() < 2) {
      throw_error(ErrorCode::kInvalidArgument, "LRN: X ", shape_to_string(x.shape()), " needs rank >= 2");
    }
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    const int64_t n = x.dim(0), c = x.dim(1);
    const int64_t plane = n * c == 0 ? 0 : x.element_count() / (n * c);
    const int64_t before = (size_ - 1) / 2, after = size_ - 1 - before;
    dispatch_dtype_or_throw<FloatOnly>(x.dtype(), "LRN", [&]<typename T>() {
      using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
      const T* px = x.data<T>();
      T* py = y.mutable_data<T>();
      const A scale = static_cast<A>(alpha_) / static_cast<A>(size_);
      parallel_for(n * c, 1, ctx.threads(), [&](int64_t begin, int64_t end) {
        std::vector<A> sum(static_cast<size_t>(plane));
        for (int64_t r = begin; r < end; ++r) {
          const int64_t b = r / c, ch = r % c;
          std::fill(sum.begin(), sum.end(), A(0));
          for (int64_t k = std::max<int64_t>(0, ch - before); k <= std::min<int64_t>(c - 1, ch + after); ++k) {
            const T* pk = px + (b * c + k) * plane;
            for (int64_t i = 0; i < plane; ++i) {
              A v = static_cast<A>(load(pk[i]));
              sum[static_cast<size_t>(i)] += v * v;
            }
          }
          const T* pr = px + r * plane;
          T* out = py + r * plane;
          for (int64_t i = 0; i < plane; ++i) {
            A d = std::pow(static_cast<A>(bias_) + scale * sum[static_cast<size_t>(i)], static_cast<A>(beta_));
            out[i] = convert_to<T>(static_cast<A>(load(pr[i])) / d);
          }
        }
      });
    });
  }

 private:
  float alpha_, beta_, bias_;
  int64_t size_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Dropout", 1, kOpsetOpenEnded, DropoutKernel);
ONYX_REGISTER_KERNEL("CPU", "", "LRN", 1, kOpsetOpenEnded, LrnKernel);

}  // namespace onyx
