// Gemm: Y = alpha * op(A) * op(B) + beta * C, C broadcast to (M, N). Float runs on oneDNN with
// alpha as the output scale and beta * C preloaded into Y and accumulated by a sum post-op;
// float16 and bfloat16 are widened to float for that same path, double runs on Eigen
// (gemm_library.h) and integers on the portable loops of gemm_plain.h.
#include <cstring>

#include "providers/cpu/linalg/dnnl_util.h"
#include "providers/cpu/linalg/gemm_library.h"
#include "providers/cpu/linalg/gemm_plain.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

using GemmIntegerTypes = TypeList<int32_t, int64_t, uint32_t, uint64_t>;

// How C maps onto the (M, N) output: its row and column counts, each 1 or the full size.
struct BiasLayout {
  int64_t rows = 1, cols = 1;
  int64_t index(int64_t i, int64_t j) const { return (rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j); }
};

BiasLayout bias_layout(const Shape& c, int64_t m, int64_t n) {
  BiasLayout layout;
  if (c.size() > 2) {
    throw_error(ErrorCode::kInvalidArgument, "Gemm: C must have rank <= 2, got ", shape_to_string(c));
  }
  if (c.size() >= 1) layout.cols = c.back();
  if (c.size() == 2) layout.rows = c[0];
  if ((layout.rows != 1 && layout.rows != m) || (layout.cols != 1 && layout.cols != n)) {
    throw_error(ErrorCode::kInvalidArgument, "Gemm: C of shape ", shape_to_string(c),
                " does not broadcast to the output [", m, ",", n, "]");
  }
  return layout;
}

class GemmKernel final : public Kernel {
 public:
  explicit GemmKernel(const KernelInfo& info) : cache_(info.precision()) {
    const NodeAttributes& attrs = info.attributes();
    trans_a_ = attrs.get_int("transA", 0) != 0;
    trans_b_ = attrs.get_int("transB", 0) != 0;
    alpha_ = attrs.get_float("alpha", 1.0f);
    beta_ = attrs.get_float("beta", 1.0f);
    const Tensor* b = info.constant_input(1);
    if (b && b->rank() == 2 && (b->dtype() == DataType::kFloat16 || b->dtype() == DataType::kBFloat16)) {
      constant_b_ = widen_tensor_to_float(*b);  // widened once, packed below like a float B
    } else if (b && b->rank() == 2 && b->dtype() == DataType::kFloat) {
      constant_b_ = *b;
    }
    if (constant_b_.defined()) {
      // With a static A the primitive (and B's packing) is built now, not on the first run.
      const TypeInfo& a = info.input_type(0);
      if (a.is_tensor() && a.elem_type == b->dtype() && a.has_static_shape() && a.shape->size() == 2) {
        Shape as = a.static_shape();
        const int64_t m = trans_a_ ? as[1] : as[0], k = trans_a_ ? as[0] : as[1];
        const int64_t n = trans_b_ ? b->dim(0) : b->dim(1);
        const TypeInfo* c = info.has_input(2) && beta_ != 0.0f ? &info.input_type(2) : nullptr;
        if (m * k * n > 0 && k == (trans_b_ ? b->dim(1) : b->dim(0)) && (!c || c->has_static_shape())) {
          BiasLayout layout;
          if (c) layout = bias_layout(c->static_shape(), m, n);
          cache_.get(spec(m, k, n, c ? &layout : nullptr), constant_b_.data<float>());
        }
      }
    }
  }

  void compute(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (a.rank() != 2 || b.rank() != 2) {
      throw_error(ErrorCode::kInvalidArgument, "Gemm: A and B must be 2-D, got ",
                  shape_to_string(a.shape()), " and ", shape_to_string(b.shape()));
    }
    if (a.dtype() != b.dtype()) {
      throw_error(ErrorCode::kInvalidArgument, "Gemm: A is ", dtype_name(a.dtype()), " but B is ",
                  dtype_name(b.dtype()));
    }
    const int64_t m = trans_a_ ? a.dim(1) : a.dim(0);
    const int64_t k = trans_a_ ? a.dim(0) : a.dim(1);
    const int64_t kb = trans_b_ ? b.dim(1) : b.dim(0);
    const int64_t n = trans_b_ ? b.dim(0) : b.dim(1);
    if (k != kb) {
      throw_error(ErrorCode::kInvalidArgument, "Gemm: inner dims differ: A is ",
                  shape_to_string(a.shape()), (trans_a_ ? " (transA)" : ""), " and B is ",
                  shape_to_string(b.shape()), (trans_b_ ? " (transB)" : ""));
    }
    const Tensor* c = ctx.has_input(2) && beta_ != 0.0f ? &ctx.input(2) : nullptr;
    BiasLayout layout;
    if (c) {
      layout = bias_layout(c->shape(), m, n);
      if (c->dtype() != a.dtype()) {
        throw_error(ErrorCode::kInvalidArgument, "Gemm: C is ", dtype_name(c->dtype()),
                    " but A is ", dtype_name(a.dtype()));
      }
    }
    Tensor& y = ctx.output(0, a.dtype(), {m, n});
    if (y.element_count() == 0) return;
    if (a.dtype() == DataType::kFloat) {
      return run_float(ctx, a.data<float>(), b.data<float>(), c ? c->data<float>() : nullptr, layout,
                       y.mutable_data<float>(), m, k, n);
    }
    if (a.dtype() == DataType::kFloat16) return run_widened<Float16>(ctx, a, b, c, layout, y, m, k, n);
    if (a.dtype() == DataType::kBFloat16) return run_widened<BFloat16>(ctx, a, b, c, layout, y, m, k, n);
    if (a.dtype() == DataType::kDouble) {
      double* py = y.mutable_data<double>();
      if (c) {
        const double* pc = c->data<double>();
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t j = 0; j < n; ++j) py[i * n + j] = static_cast<double>(beta_) * pc[layout.index(i, j)];
        }
      }
      if (k > 0) gemm_double(a.data<double>(), b.data<double>(), py, m, k, n, trans_a_, trans_b_, alpha_, c != nullptr);
      else if (!c) std::fill_n(py, m * n, 0.0);
      return;
    }
    dispatch_dtype_or_throw<GemmIntegerTypes>(a.dtype(), "Gemm", [&]<typename T>() {
      using Acc = GemmAccType<T>;
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      const T* pc = c ? c->data<T>() : nullptr;
      T* py = y.mutable_data<T>();
      const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n * std::max<int64_t>(k, 1)));
      parallel_for(m, grain, ctx.threads(), [&](int64_t begin, int64_t end) {
        std::vector<Acc> acc(static_cast<size_t>(n));
        for (int64_t i = begin; i < end; ++i) {
          gemm_rows(pa, pb, acc.data(), i, i + 1, m, k, n, trans_a_, trans_b_);
          for (int64_t j = 0; j < n; ++j) {
            // Integer Gemm: alpha/beta are floats in the schema; ORT casts them the same way.
            T v = static_cast<T>(static_cast<T>(alpha_) * static_cast<T>(acc[j]));
            if (pc) v = static_cast<T>(v + static_cast<T>(beta_) * pc[layout.index(i, j)]);
            py[i * n + j] = v;
          }
        }
      });
    });
  }

 private:
  // A row of biases (a fully connected layer's C, beta 1) is oneDNN's bias argument; any other
  // C is preloaded into Y (times beta) and accumulated by a sum post-op.
  bool c_is_bias(const BiasLayout& c, int64_t n) const { return alpha_ == 1.f && beta_ == 1.f && c.rows == 1 && c.cols == n; }

  DnnlGemm::Spec spec(int64_t m, int64_t k, int64_t n, const BiasLayout* c) const {
    DnnlGemm::Spec spec{1, m, k, n, trans_a_, trans_b_, alpha_};
    spec.bias = c && c_is_bias(*c, n);
    spec.accumulate = c && !spec.bias;
    return spec;
  }

  // Y = alpha * op(A) * op(B) + beta * C on float values.
  void run_float(KernelContext& ctx, const float* pa, const float* pb, const float* pc, const BiasLayout& layout,
                 float* py, int64_t m, int64_t k, int64_t n) {
    const bool bias = pc && c_is_bias(layout, n);
    if (pc && (!bias || k == 0)) {
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) py[i * n + j] = beta_ * pc[layout.index(i, j)];
      }
    }
    if (k == 0) {
      if (!pc) std::memset(py, 0, static_cast<size_t>(m * n) * sizeof(float));
      return;
    }
    auto gemm = cache_.get(spec(m, k, n, pc ? &layout : nullptr), constant_b_.defined() ? constant_b_.data<float>() : nullptr);
    Tensor scratch = ctx.scratch(gemm->scratch_bytes());
    gemm->run(pa, pb, py, scratch.mutable_raw_data(), bias ? pc : nullptr);
  }

  // 16-bit floats: A, C (and B unless it was widened at creation) widened, the float path, Y
  // rounded once.
  template <typename T>
  void run_widened(KernelContext& ctx, const Tensor& a, const Tensor& b, const Tensor* c, const BiasLayout& layout,
                   Tensor& y, int64_t m, int64_t k, int64_t n) {
    std::vector<float> wide_a = widen_to_float(a.data<T>(), a.element_count());
    std::vector<float> wide_b = constant_b_.defined() ? std::vector<float>{} : widen_to_float(b.data<T>(), b.element_count());
    std::vector<float> wide_c = c ? widen_to_float(c->data<T>(), c->element_count()) : std::vector<float>{};
    std::vector<float> wide_y(static_cast<size_t>(y.element_count()));
    run_float(ctx, wide_a.data(), constant_b_.defined() ? constant_b_.data<float>() : wide_b.data(),
              c ? wide_c.data() : nullptr, layout, wide_y.data(), m, k, n);
    narrow_from_float(wide_y.data(), y.mutable_data<T>(), y.element_count());
  }

  bool trans_a_ = false, trans_b_ = false;
  float alpha_ = 1.0f, beta_ = 1.0f;
  Tensor constant_b_;
  DnnlGemmCache cache_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Gemm", 1, kOpsetOpenEnded, GemmKernel);

}  // namespace onyx
