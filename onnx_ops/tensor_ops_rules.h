// Small helpers of the tensor-op shape rules (tensor_ops_rules*.cc): reading input dims and
// constant inputs from an InferenceContext and setting tensor outputs.
#pragma once

#include <optional>
#include <vector>

#include "onnx_ops/op_schema.h"

namespace onyx::tensor_rules {

using Dims = std::vector<Dim>;

// Dims of input i, or nullopt when its rank is unknown.
std::optional<Dims> dims_of(const InferenceContext& ctx, size_t i);
DataType elem_of(const InferenceContext& ctx, size_t i);
// Input i's value as int64s when it is a known constant.
std::optional<std::vector<int64_t>> constant_ints(const InferenceContext& ctx, size_t i);
void set_tensor(InferenceContext& ctx, size_t output, DataType dtype, std::optional<Dims> dims);
// Output 0 a tensor of input 0's element type and dims (each unknown where input 0's is).
void same_tensor_as_input_0(InferenceContext& ctx);
// `rank` unknown dims.
Dims unknown_dims(size_t rank);
// Unknown dims as many as a shape input's declared length says (Reshape, Expand,
// ConstantOfShape), or an unknown rank when that length is not a plausible rank: a declared
// length is the model's word only, and 2^37 of them allocated gigabytes here (fuzz regression
// model_mutate/reshape-huge-declared-shape-length).
std::optional<Dims> unknown_dims_of_declared_rank(int64_t rank, size_t at_least = 0);
// Product of dims: known when every factor is known or one is a known 0.
Dim dim_product(const Dim* begin, const Dim* end);
bool all_known(const Dims& dims);
Shape to_shape(const Dims& dims);
Dims to_dims(const Shape& shape);

}  // namespace onyx::tensor_rules
