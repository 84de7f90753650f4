// Meaning of the linear-algebra ops (MatMul, Gemm): NumPy matmul shape rules with 1-D operands
// and broadcast batch dims, shared by the shape rules and every provider's kernels.
#pragma once

#include <string_view>
#include <vector>

#include "runtime/ir/type_info.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

// A resolved numpy.matmul: out[batch..., m, n] = a[batch..., m, k] @ b[batch..., k, n].
struct MatMulShape {
  Shape output;   // the op's output shape (1-D operand dims removed)
  Shape batch;    // broadcast batch dims
  Shape a_batch;  // a's batch dims, left-padded with 1s to batch.size()
  Shape b_batch;
  int64_t m = 1, k = 1, n = 1;

  int64_t batch_count() const { return shape_element_count(batch); }
};

// Throws kInvalidArgument naming `op` and both shapes when the inner dims differ or the batch
// dims do not broadcast, or an operand is a scalar.
MatMulShape matmul_shape(const Shape& a, const Shape& b, std::string_view op = "MatMul");

// The same on inferred dims; false when a rank is unknown. Throws on known mismatches.
bool matmul_dims(const TypeInfo& a, const TypeInfo& b, std::vector<Dim>& output,
                 std::string_view op = "MatMul");

}  // namespace onyx
