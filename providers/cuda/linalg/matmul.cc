// CUDA MatMul (NumPy batching and broadcasting) and Gemm through cuBLAS. Row-major products
// are computed as the column-major product of the transposes (C^T = B^T A^T), so no operand
// is copied. fp32 uses exact fp32 math unless the provider allows TF32 (option tf32=1);
// fp16/bf16 accumulate in fp32.
#include "onnx_ops/linalg.h"
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/linalg/cublas_gemm.h"
#include "providers/cuda/tensor/copy_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

constexpr const char* kCudaGemmTypes = "float, float16, bfloat16";

bool cuda_gemm_type(const KernelInfo& info) {
  return input_type_in(info, 0, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}) &&
         input_type_in(info, 1, {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16});
}

class CudaMatMulKernel final : public Kernel {
 public:
  explicit CudaMatMulKernel(const KernelInfo& info)
      : node_(info.node()), tf32_(cuda_provider_of(info.provider()).options().tf32) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, kCudaGemmTypes);
  }
  static bool supports(const KernelInfo& info) { return cuda_gemm_type(info); }

  void compute(KernelContext& context) override {
    const Tensor& a = context.input(0);
    const Tensor& b = context.input(1);
    check_cuda_input_type(node_, 0, a.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}, kCudaGemmTypes);
    if (b.dtype() != a.dtype()) throw_cuda_unsupported_type(node_, 1, b.dtype(), std::string(dtype_name(a.dtype())));
    MatMulShape shape = matmul_shape(a.shape(), b.shape());
    Tensor& output = context.output(0, a.dtype(), shape.output);
    if (output.element_count() == 0) return;
    CudaRunState& run = run_state_of(context);
    if (shape.k == 0) {
      ONYX_CUDA_CHECK(cudaMemsetAsync(output.mutable_raw_data(), 0, output.byte_size(), run.stream));
      return;
    }
    CudaGemmCall call{a.dtype()};
    call.m = shape.m;
    call.n = shape.n;
    call.k = shape.k;
    int64_t a_count = shape_element_count(shape.a_batch), b_count = shape_element_count(shape.b_batch);
    int64_t batch = shape.batch_count();
    call.a = a.raw_data();
    call.b = b.raw_data();
    call.c = output.mutable_raw_data();
    if (b_count == 1) {
      // B shared by every batch: A's batch rows fold into m, one plain GEMM.
      call.m = shape.m * batch;
      run_cuda_gemm(run.cublas, call, tf32_);
    } else if (a_count == batch && b_count == batch) {
      call.stride_a = shape.m * shape.k;
      call.stride_b = shape.k * shape.n;
      call.stride_c = shape.m * shape.n;
      call.batch = batch;
      run_cuda_gemm(run.cublas, call, tf32_);
    } else if (a_count == 1) {
      call.stride_a = 0;  // one A against every B
      call.stride_b = shape.k * shape.n;
      call.stride_c = shape.m * shape.n;
      call.batch = batch;
      run_cuda_gemm(run.cublas, call, tf32_);
    } else {
      run_broadcast_batches(run, shape, a, b, output);
    }
  }

 private:
  // Batch dims that broadcast against each other ([2,1] x [1,3]): one GEMM per output batch.
  void run_broadcast_batches(CudaRunState& run, const MatMulShape& shape, const Tensor& a, const Tensor& b,
                             Tensor& output) {
    size_t element = static_cast<size_t>(dtype_bits(a.dtype()) / 8);
    std::vector<int64_t> a_strides = broadcast_input_strides(shape.a_batch, shape.batch);
    std::vector<int64_t> b_strides = broadcast_input_strides(shape.b_batch, shape.batch);
    for (int64_t index = 0; index < shape.batch_count(); ++index) {
      int64_t rest = index, a_index = 0, b_index = 0;
      for (size_t d = shape.batch.size(); d-- > 0;) {
        int64_t coordinate = rest % shape.batch[d];
        rest /= shape.batch[d];
        a_index += coordinate * a_strides[d];
        b_index += coordinate * b_strides[d];
      }
      CudaGemmCall call{a.dtype()};
      call.m = shape.m;
      call.n = shape.n;
      call.k = shape.k;
      call.a = static_cast<const char*>(a.raw_data()) + a_index * shape.m * shape.k * element;
      call.b = static_cast<const char*>(b.raw_data()) + b_index * shape.k * shape.n * element;
      call.c = static_cast<char*>(output.mutable_raw_data()) + index * shape.m * shape.n * element;
      run_cuda_gemm(run.cublas, call, tf32_);
    }
  }

  const Node& node_;
  bool tf32_;
};

class CudaGemmKernel final : public Kernel {
 public:
  explicit CudaGemmKernel(const KernelInfo& info)
      : node_(info.node()), tf32_(cuda_provider_of(info.provider()).options().tf32),
        trans_a_(info.attributes().get_int("transA", 0) != 0), trans_b_(info.attributes().get_int("transB", 0) != 0),
        alpha_(info.attributes().get_float("alpha", 1.0f)), beta_(info.attributes().get_float("beta", 1.0f)) {
    if (!CudaMatMulKernel::supports(info)) throw_cuda_unsupported_type(info, 0, kCudaGemmTypes);
  }

  static bool supports(const KernelInfo& info) { return cuda_gemm_type(info); }

  void compute(KernelContext& context) override {
    const Tensor& a = context.input(0);
    const Tensor& b = context.input(1);
    check_cuda_input_type(node_, 0, a.dtype(), {DataType::kFloat, DataType::kFloat16, DataType::kBFloat16}, kCudaGemmTypes);
    if (a.rank() != 2 || b.rank() != 2) {
      throw_error(ErrorCode::kInvalidArgument, "Gemm (node '", node_.name, "'): A and B must be 2-D, got ",
                  shape_to_string(a.shape()), " and ", shape_to_string(b.shape()));
    }
    int64_t m = trans_a_ ? a.dim(1) : a.dim(0), k = trans_a_ ? a.dim(0) : a.dim(1);
    int64_t kb = trans_b_ ? b.dim(1) : b.dim(0), n = trans_b_ ? b.dim(0) : b.dim(1);
    if (k != kb) {
      throw_error(ErrorCode::kInvalidArgument, "Gemm (node '", node_.name, "'): inner dims differ: A ",
                  shape_to_string(a.shape()), ", B ", shape_to_string(b.shape()));
    }
    Tensor& output = context.output(0, a.dtype(), {m, n});
    if (output.element_count() == 0) return;
    CudaRunState& run = run_state_of(context);
    float beta = 0.0f;
    if (context.has_input(2) && beta_ != 0.0f) {
      // C broadcast into Y first; the GEMM then accumulates onto it with beta.
      const Tensor& c = context.input(2);
      if (c.dtype() != a.dtype()) throw_cuda_unsupported_type(node_, 2, c.dtype(), std::string(dtype_name(a.dtype())));
      std::vector<int64_t> strides = broadcast_input_strides(c.shape(), {m, n});
      StridedMap map = make_strided_map({m, n}, strides, 0, "Gemm");
      launch_strided_copy(dtype_bits(a.dtype()) / 8, c.raw_data(), output.mutable_raw_data(), m * n, map, run.stream);
      beta = beta_;
    }
    if (k == 0) {
      if (beta == 0.0f) ONYX_CUDA_CHECK(cudaMemsetAsync(output.mutable_raw_data(), 0, output.byte_size(), run.stream));
      // else: Y = beta * C: a GEMM with k = 0 is refused by cuBLAS; scale on the device.
      if (beta != 0.0f && beta != 1.0f) {
        throw_error(ErrorCode::kNotImplemented, "CUDA Gemm (node '", node_.name, "'): K = 0 with beta != 1");
      }
      return;
    }
    CudaGemmCall call{a.dtype(), trans_a_, trans_b_, m, n, k, a.raw_data(), b.raw_data(), output.mutable_raw_data()};
    call.alpha = alpha_;
    call.beta = beta;
    run_cuda_gemm(run.cublas, call, tf32_);
  }

 private:
  const Node& node_;
  bool tf32_;
  bool trans_a_, trans_b_;
  float alpha_, beta_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "MatMul", 1, kOpsetOpenEnded, CudaMatMulKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "Gemm", 1, kOpsetOpenEnded, CudaGemmKernel);

}  // namespace onyx::cuda
