// MatMul (numpy.matmul semantics): float through oneDNN's matmul primitive, cached per shape,
// with a constant B packed once; float16 and bfloat16 widened to float on that same path;
// double through Eigen (gemm_library.h); integers through the portable loops in gemm_plain.h.
#include <cstring>

#include "onnx_ops/linalg.h"
#include "providers/cpu/linalg/dnnl_util.h"
#include "providers/cpu/linalg/gemm_library.h"
#include "providers/cpu/linalg/gemm_plain.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

using MatMulIntegerTypes = TypeList<int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t>;

// Element offsets of A's and B's matrix for each output batch, honouring broadcast batch dims.
void batch_offsets(const MatMulShape& s, std::vector<int64_t>& a_off, std::vector<int64_t>& b_off) {
  const int64_t count = s.batch_count();
  a_off.assign(static_cast<size_t>(count), 0);
  b_off.assign(static_cast<size_t>(count), 0);
  const size_t rank = s.batch.size();
  std::vector<int64_t> a_stride(rank), b_stride(rank);
  int64_t as = s.m * s.k, bs = s.k * s.n;
  for (size_t d = rank; d-- > 0;) {
    a_stride[d] = s.a_batch[d] == 1 ? 0 : as;
    b_stride[d] = s.b_batch[d] == 1 ? 0 : bs;
    as *= s.a_batch[d];
    bs *= s.b_batch[d];
  }
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t ao = 0, bo = 0;
    for (size_t d = 0; d < rank; ++d) {
      ao += index[d] * a_stride[d];
      bo += index[d] * b_stride[d];
    }
    a_off[static_cast<size_t>(i)] = ao;
    b_off[static_cast<size_t>(i)] = bo;
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < s.batch[d]) break;
      index[d] = 0;
    }
  }
}

class MatMulKernel final : public Kernel {
 public:
  explicit MatMulKernel(const KernelInfo& info) : cache_(info.precision()) {
    const Tensor* b = info.constant_input(1);
    if (b && (b->dtype() == DataType::kFloat16 || b->dtype() == DataType::kBFloat16)) {
      constant_b_ = widen_tensor_to_float(*b);  // widened once, packed below like a float B
    } else if (b && b->dtype() == DataType::kFloat) {
      constant_b_ = *b;
    }
    if (constant_b_.defined()) {
      // With a static A the primitive (and B's packing) is built now, not on the first run.
      const TypeInfo& a = info.input_type(0);
      if (a.is_tensor() && a.elem_type == b->dtype() && a.has_static_shape() && b->rank() <= 2) {
        MatMulShape s = matmul_shape(a.static_shape(), b->shape());
        if (s.m * s.k * s.n > 0) cache_.get({1, s.batch_count() * s.m, s.k, s.n}, constant_b_.data<float>());
      }
    }
  }

  void compute(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    if (a.dtype() != b.dtype()) {
      throw_error(ErrorCode::kInvalidArgument, "MatMul: A is ", dtype_name(a.dtype()),
                  " but B is ", dtype_name(b.dtype()));
    }
    MatMulShape s = matmul_shape(a.shape(), b.shape());
    Tensor& y = ctx.output(0, a.dtype(), s.output);
    if (y.element_count() == 0) return;
    if (s.k == 0) {
      std::memset(y.mutable_raw_data(), 0, y.byte_size());
      return;
    }
    if (a.dtype() == DataType::kFloat) {
      return run_float(ctx, a.data<float>(), b.data<float>(), s, y.mutable_data<float>());
    }
    if (a.dtype() == DataType::kFloat16) return run_widened<Float16>(ctx, a, b, s, y);
    if (a.dtype() == DataType::kBFloat16) return run_widened<BFloat16>(ctx, a, b, s, y);
    std::vector<int64_t> a_off, b_off;
    batch_offsets(s, a_off, b_off);
    if (a.dtype() == DataType::kDouble) {
      for (size_t i = 0; i < a_off.size(); ++i) {
        gemm_double(a.data<double>() + a_off[i], b.data<double>() + b_off[i],
                    y.mutable_data<double>() + static_cast<int64_t>(i) * s.m * s.n, s.m, s.k, s.n, false, false, 1.0,
                    false);
      }
      return;
    }
    dispatch_dtype_or_throw<MatMulIntegerTypes>(a.dtype(), "MatMul", [&]<typename T>() {
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* py = y.mutable_data<T>();
      for (size_t i = 0; i < a_off.size(); ++i) {
        gemm_plain(pa + a_off[i], pb + b_off[i], py + static_cast<int64_t>(i) * s.m * s.n, s.m, s.k,
                   s.n, false, false, ctx.threads());
      }
    });
  }

 private:
  // 16-bit floats: A (and B unless it was widened at creation) widened, the float path, Y
  // rounded once.
  template <typename T>
  void run_widened(KernelContext& ctx, const Tensor& a, const Tensor& b, const MatMulShape& s, Tensor& y) {
    std::vector<float> wide_a = widen_to_float(a.data<T>(), a.element_count());
    std::vector<float> wide_b = constant_b_.defined() ? std::vector<float>{} : widen_to_float(b.data<T>(), b.element_count());
    std::vector<float> wide_y(static_cast<size_t>(y.element_count()));
    run_float(ctx, wide_a.data(), constant_b_.defined() ? constant_b_.data<float>() : wide_b.data(), s, wide_y.data());
    narrow_from_float(wide_y.data(), y.mutable_data<T>(), y.element_count());
  }

  void run_float(KernelContext& ctx, const float* pa, const float* pb, const MatMulShape& s, float* py) {
    const int64_t batch = s.batch_count();
    const int64_t a_count = shape_element_count(s.a_batch);
    const int64_t b_count = shape_element_count(s.b_batch);
    const bool packed = constant_b_.defined() && b_count == 1;
    if (b_count == 1 && a_count == batch) {
      // One B for every batch: fold the batch into M, a single large GEMM.
      auto gemm = cache_.get({1, batch * s.m, s.k, s.n}, packed ? constant_b_.data<float>() : nullptr);
      Tensor scratch = ctx.scratch(gemm->scratch_bytes());
      gemm->run(pa, pb, py, scratch.mutable_raw_data());
    } else if (s.a_batch == s.b_batch) {
      auto gemm = cache_.get({batch, s.m, s.k, s.n}, nullptr);
      Tensor scratch = ctx.scratch(gemm->scratch_bytes());
      gemm->run(pa, pb, py, scratch.mutable_raw_data());
    } else {
      auto gemm = cache_.get({1, s.m, s.k, s.n}, packed ? constant_b_.data<float>() : nullptr);
      Tensor scratch = ctx.scratch(gemm->scratch_bytes());
      std::vector<int64_t> a_off, b_off;
      batch_offsets(s, a_off, b_off);
      for (size_t i = 0; i < a_off.size(); ++i) {
        gemm->run(pa + a_off[i], pb + b_off[i], py + static_cast<int64_t>(i) * s.m * s.n, scratch.mutable_raw_data());
      }
    }
  }

  Tensor constant_b_;
  DnnlGemmCache cache_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "MatMul", 1, kOpsetOpenEnded, MatMulKernel);

}  // namespace onyx
