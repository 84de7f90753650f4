// com.onyx FusedMatMul (written by runtime/optimizer/matmul_fusion.h): Y = act(A @ op(B) + bias)
// for a float A of rank >= 2, a constant 2-D B (stored [N, K] when transB) and an optional
// constant bias [N]: a fully connected layer and the activation after it in one oneDNN matmul
// (bias argument, eltwise post-op) with B packed once, instead of two or three passes.
#include <vector>

#include "onnx_ops/linalg.h"
#include "onnx_ops/op_schema.h"
#include "providers/cpu/activation/fused_activation.h"
#include "providers/cpu/linalg/dnnl_util.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

class FusedMatMulKernel final : public Kernel {
 public:
  explicit FusedMatMulKernel(const KernelInfo& info)
      : trans_b_(info.attributes().get_int("transB", 0) != 0),
        activation_(FusedActivation::read(info.attributes(), "FusedMatMul")),
        has_bias_(info.has_input(2)),
        cache_(info.precision()) {
    const Tensor* b = info.constant_input(1);
    if (!b || b->dtype() != DataType::kFloat || b->rank() != 2) {
      throw_error(ErrorCode::kInvalidModel, "FusedMatMul: B must be a constant 2-D float tensor");
    }
    weights_ = *b;
    const TypeInfo& a = info.input_type(0);
    if (a.is_tensor() && a.has_static_shape() && a.static_shape().size() >= 2) {
      MatMulShape s = shape(a.static_shape());
      if (s.m * s.k * s.n > 0) gemm_for(s);  // built now: the first run pays nothing
    }
  }

  void compute(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    if (a.dtype() != DataType::kFloat || a.rank() < 2) {
      throw_error(ErrorCode::kInvalidArgument, "FusedMatMul: A must be float of rank >= 2, got ",
                  dtype_name(a.dtype()), " ", shape_to_string(a.shape()));
    }
    MatMulShape s = shape(a.shape());
    const Tensor* bias = has_bias_ ? &ctx.input(2) : nullptr;
    if (bias && (bias->dtype() != DataType::kFloat || bias->element_count() != s.n)) {
      throw_error(ErrorCode::kInvalidArgument, "FusedMatMul: the bias ", shape_to_string(bias->shape()), " must hold ",
                  s.n, " floats");
    }
    Tensor& y = ctx.output(0, DataType::kFloat, s.output);
    if (y.element_count() == 0) return;
    float* py = y.mutable_data<float>();
    if (s.k == 0) {  // an empty sum: bias and activation of zeros
      for (int64_t i = 0; i < y.element_count(); ++i) py[i] = bias ? bias->data<float>()[i % s.n] : 0.f;
      activation_.apply(py, y.element_count());
      return;
    }
    auto gemm = gemm_for(s);
    Tensor scratch = ctx.scratch(gemm->scratch_bytes());
    gemm->run(a.data<float>(), nullptr, py, scratch.mutable_raw_data(), bias ? bias->data<float>() : nullptr);
  }

 private:
  // A's batch dims fold into M: B is one matrix for every batch.
  MatMulShape shape(const Shape& a) const {
    Shape b = weights_.shape();
    if (trans_b_) std::swap(b[0], b[1]);
    return matmul_shape(a, b, "FusedMatMul");
  }

  std::shared_ptr<const DnnlGemm> gemm_for(const MatMulShape& s) {
    DnnlGemm::Spec spec{1, s.batch_count() * s.m, s.k, s.n, false, trans_b_};
    spec.bias = has_bias_;
    spec.activation = activation_.dnnl_algorithm();
    spec.activation_alpha = activation_.alpha;
    spec.activation_beta = activation_.beta;
    return cache_.get(spec, weights_.data<float>());
  }

  bool trans_b_;
  FusedActivation activation_;
  bool has_bias_;
  Tensor weights_;
  DnnlGemmCache cache_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", kOnyxDomain, "FusedMatMul", 1, kOpsetOpenEnded, FusedMatMulKernel);

}  // namespace onyx
