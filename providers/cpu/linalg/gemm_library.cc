#include "providers/cpu/linalg/gemm_library.h"

#include "runtime/common/error.h"

namespace onyx {

Tensor widen_tensor_to_float(const Tensor& t) {
  Tensor out(DataType::kFloat, t.shape());
  float* to = out.mutable_data<float>();
  if (t.dtype() == DataType::kFloat16) {
    for (int64_t i = 0; i < t.element_count(); ++i) to[i] = static_cast<float>(t.data<Float16>()[i]);
  } else if (t.dtype() == DataType::kBFloat16) {
    for (int64_t i = 0; i < t.element_count(); ++i) to[i] = static_cast<float>(t.data<BFloat16>()[i]);
  } else {
    throw_error(ErrorCode::kRuntimeFailure, "widen_tensor_to_float: ", dtype_name(t.dtype()), " is not a 16-bit float");
  }
  return out;
}

void gemm_double(const double* a, const double* b, double* c, int64_t m, int64_t k, int64_t n, bool trans_a,
                 bool trans_b, double alpha, bool accumulate) {
  using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ConstMap = Eigen::Map<const Matrix>;
  Eigen::Map<Matrix> out(c, m, n);
  // A transposed operand is a row-major map of the stored shape, transposed as an expression:
  // Eigen's GEMM reads it in place.
  auto product = [&](const auto& left) {
    if (trans_b) {
      if (accumulate) out.noalias() += alpha * (left * ConstMap(b, n, k).transpose());
      else out.noalias() = alpha * (left * ConstMap(b, n, k).transpose());
    } else {
      if (accumulate) out.noalias() += alpha * (left * ConstMap(b, k, n));
      else out.noalias() = alpha * (left * ConstMap(b, k, n));
    }
  };
  if (trans_a) product(ConstMap(a, k, m).transpose());
  else product(ConstMap(a, m, k));
}

}  // namespace onyx
