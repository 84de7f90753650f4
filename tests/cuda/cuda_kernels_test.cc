// Every CUDA kernel against the CPU kernel on the same inputs: one table of op cases, each run
// as a one-node model through an InferenceSession on the "cuda" provider and compared with the
// CPU provider's result within the case's tolerance. Without a CUDA device (or in a build
// without the CUDA provider) every case is skipped with the reason: none passes silently.
#include <gtest/gtest.h>

#include <ostream>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "providers/provider_factory.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/inference_session.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

// --- inputs ------------------------------------------------------------------------------------

// Deterministic values in [low, high): the same on every machine.
std::vector<float> cuda_test_values(int64_t count, float low, float high, uint32_t seed) {
  std::vector<float> values(static_cast<size_t>(count));
  uint32_t state = seed * 2654435761u + 1;
  for (float& v : values) {
    state = state * 1664525u + 1013904223u;
    v = low + (high - low) * static_cast<float>(state >> 8) / static_cast<float>(1u << 24);
  }
  return values;
}

int64_t cuda_test_count(const Shape& shape) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  return count;
}

Tensor f32(Shape shape, float low = -2.0f, float high = 2.0f, uint32_t seed = 1) {
  return Tensor::from_vector<float>(shape, cuda_test_values(cuda_test_count(shape), low, high, seed));
}
Tensor f16(Shape shape, float low = -2.0f, float high = 2.0f, uint32_t seed = 1) {
  std::vector<Float16> values;
  for (float v : cuda_test_values(cuda_test_count(shape), low, high, seed)) values.emplace_back(v);
  return Tensor::from_vector<Float16>(shape, values);
}
Tensor bf16(Shape shape, float low = -2.0f, float high = 2.0f, uint32_t seed = 1) {
  std::vector<BFloat16> values;
  for (float v : cuda_test_values(cuda_test_count(shape), low, high, seed)) values.emplace_back(v);
  return Tensor::from_vector<BFloat16>(shape, values);
}
Tensor i64(Shape shape, std::vector<int64_t> values) { return Tensor::from_vector<int64_t>(shape, values); }
Tensor i64s(std::vector<int64_t> values) { return i64({static_cast<int64_t>(values.size())}, values); }
Tensor i32(Shape shape, std::vector<int32_t> values) { return Tensor::from_vector<int32_t>(shape, values); }
Tensor boolean(Shape shape, uint32_t seed = 3) {
  std::vector<bool> values;
  for (float v : cuda_test_values(cuda_test_count(shape), 0.0f, 1.0f, seed)) values.push_back(v < 0.5f);
  Tensor t(DataType::kBool, shape);
  for (size_t i = 0; i < values.size(); ++i) static_cast<bool*>(t.mutable_raw_data())[i] = values[i];
  return t;
}

// --- the table ---------------------------------------------------------------------------------

struct CudaOpInput {
  Tensor value;              // undefined: an omitted optional input
  bool constant = false;     // an initializer (shapes, axes, weights), not a fed graph input
};

struct CudaOpCase {
  std::string name;  // the test's name
  std::string op;
  std::vector<CudaOpInput> inputs;
  std::vector<Attribute> attributes = {};
  int64_t opset = 18;
  double tolerance = 1e-5;  // |cuda - cpu| <= tolerance * (1 + |cpu|)
  size_t outputs = 1;
};

// GoogleTest prints a parameter in skip and failure lines: the case's name, not its bytes.
void PrintTo(const CudaOpCase& op_case, std::ostream* out) { *out << op_case.name; }

CudaOpInput in(Tensor t) { return {std::move(t), false}; }
CudaOpInput constant(Tensor t) { return {std::move(t), true}; }
CudaOpInput omitted() { return {Tensor(), false}; }

std::vector<CudaOpCase> cuda_op_cases() {
  std::vector<CudaOpCase> cases;
  // Unary elementwise ops, fp32 and a 16-bit type each.
  for (std::string op : {"Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Erf", "Softplus", "Softsign", "HardSwish",
                         "Floor", "Ceil", "Sin", "Cos", "Sign", "Elu", "Selu", "Mish"}) {
    cases.push_back({op + "_f32", op, {in(f32({2, 3, 5}))}});
    cases.push_back({op + "_f16", op, {in(f16({2, 3, 5}))}, {}, 18, 2e-3});
  }
  for (std::string op : {"Tan", "Atan", "Sinh", "Cosh", "Asinh", "Celu"}) cases.push_back({op + "_f32", op, {in(f32({4, 6}))}});
  for (std::string op : {"Asin", "Acos", "Atanh"}) cases.push_back({op + "_f32", op, {in(f32({4, 6}, -0.95f, 0.95f))}});
  cases.push_back({"Acosh_f32", "Acosh", {in(f32({4, 6}, 1.0f, 4.0f))}});
  cases.push_back({"Round_halves_to_even", "Round", {in(Tensor::from_vector<float>({6}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f}))}});
  cases.push_back({"ThresholdedRelu_f32", "ThresholdedRelu", {in(f32({4, 6}))}, {make_attribute("alpha", 0.5f)}});
  cases.push_back({"Shrink_f32", "Shrink", {in(f32({4, 6}))}, {make_attribute("lambd", 0.7f), make_attribute("bias", 0.2f)}});
  cases.push_back({"Mean_three_broadcast_f32", "Mean", {in(f32({2, 3})), in(f32({3}, -1, 1, 2)), in(f32({2, 1}, -1, 1, 3))}});
  cases.push_back({"Log_f32", "Log", {in(f32({4, 7}, 0.1f, 5.0f))}});
  cases.push_back({"Sqrt_bf16", "Sqrt", {in(bf16({4, 7}, 0.1f, 5.0f))}, {}, 18, 1e-2});
  cases.push_back({"Reciprocal_f32", "Reciprocal", {in(f32({9}, 0.5f, 3.0f))}});
  cases.push_back({"Gelu_f32", "Gelu", {in(f32({3, 8}))}, {}, 20});
  cases.push_back({"Gelu_tanh_f32", "Gelu", {in(f32({3, 8}))}, {make_attribute("approximate", "tanh")}, 20});
  cases.push_back({"HardSigmoid_f32", "HardSigmoid", {in(f32({3, 8}, -5, 5))}, {make_attribute("alpha", 0.3f)}});
  cases.push_back({"LeakyRelu_f32", "LeakyRelu", {in(f32({3, 8}))}, {make_attribute("alpha", 0.2f)}});
  cases.push_back({"Clip_inputs_f32", "Clip", {in(f32({3, 8})), constant(Tensor::scalar(-0.5f)), constant(Tensor::scalar(0.7f))}});
  cases.push_back({"Clip_max_only_f32", "Clip", {in(f32({3, 8})), omitted(), constant(Tensor::scalar(0.7f))}});
  cases.push_back({"Clip_attributes_opset6", "Clip", {in(f32({3, 8}))},
                   {make_attribute("min", -0.5f), make_attribute("max", 0.5f)}, 6});

  // Binary ops with broadcasting.
  for (std::string op : {"Add", "Sub", "Mul", "Div", "Max", "Min"}) {
    cases.push_back({op + "_same_shape_f32", op, {in(f32({4, 5})), in(f32({4, 5}, 0.5f, 2.0f, 2))}});
    cases.push_back({op + "_broadcast_f32", op, {in(f32({2, 1, 5})), in(f32({3, 1}, 0.5f, 2.0f, 2))}});
    cases.push_back({op + "_scalar_f16", op, {in(f16({4, 5})), in(f16({}, 0.5f, 2.0f, 2))}, {}, 18, 2e-3});
  }
  cases.push_back({"Add_int64_broadcast", "Add", {in(i64({2, 3}, {1, 2, 3, 4, 5, 6})), in(i64({3}, {10, -20, 30}))}});
  cases.push_back({"Mul_int32", "Mul", {in(i32({3}, {1, -2, 3})), in(i32({3}, {7, 8, -9}))}});
  cases.push_back({"Div_int64_truncates", "Div", {in(i64({4}, {7, -7, 9, 1})), in(i64({4}, {2, 2, -4, 3}))}});
  cases.push_back({"Pow_f32", "Pow", {in(f32({2, 4}, 0.5f, 2.0f)), in(f32({4}, -1.0f, 2.0f, 5))}});
  cases.push_back({"PRelu_f32", "PRelu", {in(f32({2, 3, 4})), in(f32({3, 1}, 0.0f, 0.5f, 4))}});
  cases.push_back({"Sum_three_f32", "Sum", {in(f32({2, 3})), in(f32({3}, -1, 1, 2)), in(f32({2, 1}, -1, 1, 3))}});
  for (std::string op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"}) {
    cases.push_back({op + "_int64", op, {in(i64({2, 3}, {1, 2, 3, 4, 5, 6})), in(i64({3}, {2, 2, 7}))}});
    cases.push_back({op + "_f32", op, {in(f32({2, 3})), in(f32({1, 3}, -2, 2, 9))}});
  }
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  Tensor specials = Tensor::from_vector<float>({2, 3}, {1.0f, nan, inf, -inf, 0.0f, -2.5f});
  cases.push_back({"Not_bool", "Not", {in(boolean({3, 4}))}});
  cases.push_back({"IsNaN_f32", "IsNaN", {in(specials)}});
  cases.push_back({"IsInf_positive_only", "IsInf", {in(specials)}, {make_attribute("detect_negative", int64_t{0})}});
  cases.push_back({"CumSum_exclusive_reverse", "CumSum", {in(f32({2, 5, 3})), constant(i64s({1}))},
                   {make_attribute("exclusive", int64_t{1}), make_attribute("reverse", int64_t{1})}});
  cases.push_back({"CumSum_int64_last_axis", "CumSum", {in(i64({2, 3}, {1, 2, 3, 4, 5, 6})), constant(Tensor::scalar<int64_t>(-1))}});
  cases.push_back({"And_bool", "And", {in(boolean({2, 3})), in(boolean({3}, 5))}});
  cases.push_back({"Where_broadcast_f32", "Where", {in(boolean({2, 1, 4})), in(f32({3, 4})), in(f32({2, 3, 1}, -1, 1, 7))}});
  cases.push_back({"Where_int64", "Where", {in(boolean({3})), in(i64({3}, {1, 2, 3})), in(i64({1}, {-1}))}});

  // Cast.
  auto cast_to = [](DataType to) { return std::vector<Attribute>{make_attribute("to", static_cast<int64_t>(to))}; };
  cases.push_back({"Cast_f32_to_f16", "Cast", {in(f32({3, 5}))}, cast_to(DataType::kFloat16), 18, 0.0});
  cases.push_back({"Cast_f16_to_f32", "Cast", {in(f16({3, 5}))}, cast_to(DataType::kFloat), 18, 0.0});
  cases.push_back({"Cast_f32_to_bf16", "Cast", {in(f32({3, 5}))}, cast_to(DataType::kBFloat16), 18, 0.0});
  cases.push_back({"Cast_f32_to_int64", "Cast", {in(f32({3, 5}, -50, 50))}, cast_to(DataType::kInt64), 18, 0.0});
  cases.push_back({"Cast_int64_to_f32", "Cast", {in(i64({4}, {-3, 0, 7, 1 << 20}))}, cast_to(DataType::kFloat), 18, 0.0});
  cases.push_back({"Cast_int64_to_bool", "Cast", {in(i64({4}, {0, 1, -2, 0}))}, cast_to(DataType::kBool), 18, 0.0});
  cases.push_back({"Cast_int64_to_int32", "Cast", {in(i64({3}, {-5, 6, 1 << 30}))}, cast_to(DataType::kInt32), 18, 0.0});

  // Views and data movement.
  cases.push_back({"Identity_f32", "Identity", {in(f32({2, 3}))}});
  cases.push_back({"Reshape_infer_dim", "Reshape", {in(f32({2, 3, 4})), constant(i64s({4, -1}))}});
  cases.push_back({"Flatten_axis2", "Flatten", {in(f32({2, 3, 4, 5}))}, {make_attribute("axis", int64_t{2})}});
  cases.push_back({"Squeeze_axes_input", "Squeeze", {in(f32({2, 1, 4, 1})), constant(i64s({1, -1}))}});
  cases.push_back({"Unsqueeze_axes_input", "Unsqueeze", {in(f32({2, 4})), constant(i64s({0, 3}))}});
  cases.push_back({"Transpose_4d", "Transpose", {in(f32({2, 3, 4, 5}))},
                   {make_attribute("perm", std::vector<int64_t>{3, 1, 0, 2})}});
  cases.push_back({"Transpose_default_reverses_f16", "Transpose", {in(f16({2, 3, 4}))}, {}, 18, 0.0});
  cases.push_back({"Concat_axis1", "Concat", {in(f32({2, 1, 3})), in(f32({2, 4, 3}, -1, 1, 2)), in(f32({2, 2, 3}, -1, 1, 3))},
                   {make_attribute("axis", int64_t{1})}});
  cases.push_back({"Concat_int64_axis_minus1", "Concat", {in(i64({2, 1}, {1, 2})), in(i64({2, 2}, {3, 4, 5, 6}))},
                   {make_attribute("axis", int64_t{-1})}});
  cases.push_back({"Gather_axis1_negative", "Gather", {in(f32({3, 5, 2})), in(i64({2, 2}, {4, -1, 0, -5}))},
                   {make_attribute("axis", int64_t{1})}});
  cases.push_back({"GatherElements_axis1_negative", "GatherElements", {in(f32({3, 4})), in(i64({3, 2}, {0, -1, 3, 2, 1, 1}))},
                   {make_attribute("axis", int64_t{1})}});
  cases.push_back({"Gather_int32_indices", "Gather", {in(f32({6, 3})), in(i32({3}, {5, 0, 2}))}});
  cases.push_back({"Slice_steps", "Slice",
                   {in(f32({4, 6, 5})), constant(i64s({3, 1})), constant(i64s({-100, 6})), constant(i64s({0, 1})),
                    constant(i64s({-1, 2}))}});
  cases.push_back({"Slice_opset9_attributes", "Slice", {in(f32({4, 6}))},
                   {make_attribute("starts", std::vector<int64_t>{1}), make_attribute("ends", std::vector<int64_t>{-1}),
                    make_attribute("axes", std::vector<int64_t>{1})}, 9});
  cases.push_back({"Split_sizes_input", "Split", {in(f32({2, 7, 3})), constant(i64s({2, 4, 1}))},
                   {make_attribute("axis", int64_t{1})}, 18, 0.0, 3});
  cases.push_back({"Split_num_outputs_uneven", "Split", {in(f32({5, 4}))}, {make_attribute("num_outputs", int64_t{2})},
                   18, 0.0, 2});
  cases.push_back({"Dropout_inference_with_mask", "Dropout", {in(f32({3, 4}))}, {}, 18, 0.0, 2});
  cases.push_back({"Trilu_upper_k1", "Trilu", {in(f32({2, 4, 5})), constant(Tensor::scalar<int64_t>(1))}});
  cases.push_back({"Trilu_lower_int64", "Trilu", {in(i64({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}))},
                   {make_attribute("upper", int64_t{0})}});
  cases.push_back({"ConstantOfShape_default_zero", "ConstantOfShape", {in(i64s({2, 3}))}});
  cases.push_back({"ConstantOfShape_float", "ConstantOfShape", {in(i64s({4, 1, 3}))},
                   {make_attribute("value", Tensor::from_vector<float>({1}, {1.5f}))}});
  cases.push_back({"ConstantOfShape_int64_empty", "ConstantOfShape", {in(i64s({2, 0}))},
                   {make_attribute("value", Tensor::from_vector<int64_t>({1}, {7}))}});
  cases.push_back({"ConstantOfShape_bool", "ConstantOfShape", {in(i64s({5}))},
                   {make_attribute("value", Tensor::from_vector<bool>({1}, {true}))}});
  cases.push_back({"Range_int64", "Range", {in(Tensor::scalar<int64_t>(2)), in(Tensor::scalar<int64_t>(11)),
                                            in(Tensor::scalar<int64_t>(3))}});
  cases.push_back({"Range_int32_descending", "Range", {in(Tensor::scalar<int32_t>(10)), in(Tensor::scalar<int32_t>(-3)),
                                                       in(Tensor::scalar<int32_t>(-4))}});
  cases.push_back({"Range_float", "Range", {in(Tensor::scalar<float>(0.5f)), in(Tensor::scalar<float>(10.0f)),
                                            in(Tensor::scalar<float>(1.5f))}});
  cases.push_back({"Range_empty", "Range", {in(Tensor::scalar<int64_t>(5)), in(Tensor::scalar<int64_t>(5)),
                                            in(Tensor::scalar<int64_t>(1))}});
  cases.push_back({"Tile_2d", "Tile", {in(f32({2, 3})), constant(i64s({3, 2}))}});
  cases.push_back({"Tile_int64_3d", "Tile", {in(i64({1, 2, 1}, {4, 5})), constant(i64s({2, 1, 3}))}});
  cases.push_back({"Expand_broadcast", "Expand", {in(f32({3, 1})), constant(i64s({2, 3, 4}))}});
  cases.push_back({"Pad_constant", "Pad", {in(f32({2, 3})), constant(i64s({1, 0, 0, 2})), constant(Tensor::scalar(1.5f))}});
  cases.push_back({"Pad_reflect", "Pad", {in(f32({3, 4})), constant(i64s({2, 1, 1, 3}))}, {make_attribute("mode", "reflect")}});
  cases.push_back({"Pad_edge_crop", "Pad", {in(f32({3, 4})), constant(i64s({1, -1, 2, 0}))}, {make_attribute("mode", "edge")}});
  cases.push_back({"Pad_wrap", "Pad", {in(f32({3, 4})), constant(i64s({1, 2, 2, 1}))}, {make_attribute("mode", "wrap")}, 19});

  // Normalizations and reductions.
  cases.push_back({"Softmax_last_axis", "Softmax", {in(f32({4, 37}))}});
  cases.push_back({"Softmax_long_rows", "Softmax", {in(f32({3, 3000}, -5, 5))}});
  cases.push_back({"Softmax_middle_axis", "Softmax", {in(f32({2, 5, 3}))}, {make_attribute("axis", int64_t{1})}});
  cases.push_back({"Softmax_opset11_flattens", "Softmax", {in(f32({2, 3, 4}))}, {make_attribute("axis", int64_t{1})}, 11});
  cases.push_back({"Softmax_f16", "Softmax", {in(f16({4, 64}))}, {}, 18, 2e-3});
  cases.push_back({"LogSoftmax_last_axis", "LogSoftmax", {in(f32({4, 37}))}});
  cases.push_back({"LayerNormalization_last_axis", "LayerNormalization",
                   {in(f32({2, 3, 16}, -3, 5)), constant(f32({16}, 0.5f, 1.5f, 2)), constant(f32({16}, -1, 1, 3))}});
  cases.push_back({"LayerNormalization_axis1_no_bias", "LayerNormalization",
                   {in(f32({2, 3, 4})), constant(f32({3, 4}, 0.5f, 1.5f, 2))}, {make_attribute("axis", int64_t{1})}});
  cases.push_back({"LayerNormalization_f16_stats", "LayerNormalization",
                   {in(f16({4, 32}, -3, 5)), constant(f16({32}, 0.5f, 1.5f, 2)), constant(f16({32}, -1, 1, 3))},
                   {}, 18, 5e-3, 3});
  cases.push_back({"BatchNormalization_inference", "BatchNormalization",
                   {in(f32({2, 3, 4, 4})), constant(f32({3}, 0.5f, 1.5f, 2)), constant(f32({3}, -1, 1, 3)),
                    constant(f32({3}, -1, 1, 4)), constant(f32({3}, 0.5f, 2.0f, 5))}});
  cases.push_back({"ReduceMean_axes_keepdims", "ReduceMean", {in(f32({2, 3, 4})), constant(i64s({1}))}});
  cases.push_back({"ReduceSum_two_axes_no_keepdims", "ReduceSum", {in(f32({2, 3, 4, 5})), constant(i64s({0, 2}))},
                   {make_attribute("keepdims", int64_t{0})}, 18, 1e-5});
  cases.push_back({"ReduceSum_all_long", "ReduceSum", {in(f32({64, 50}))}, {}, 18, 1e-4});
  cases.push_back({"ReduceMax_last_axis", "ReduceMax", {in(f32({3, 700})), constant(i64s({-1}))}});
  cases.push_back({"ReduceMean_opset13_attribute", "ReduceMean", {in(f32({2, 3, 4}))},
                   {make_attribute("axes", std::vector<int64_t>{0, 2})}, 13});
  cases.push_back({"ArgMax_axis1_keepdims", "ArgMax", {in(f32({3, 7, 2}))}, {make_attribute("axis", int64_t{1})}});
  cases.push_back({"ArgMin_last_index_ties_int64", "ArgMin", {in(i64({2, 4}, {3, 1, 1, 5, 2, 2, 9, 2}))},
                   {make_attribute("axis", int64_t{-1}), make_attribute("keepdims", int64_t{0}),
                    make_attribute("select_last_index", int64_t{1})}});
  cases.push_back({"TopK_largest_last_axis", "TopK", {in(f32({3, 300})), constant(i64s({5}))}, {}, 18, 0.0, 2});
  cases.push_back({"TopK_smallest_axis0_ties_int64", "TopK",
                   {in(i64({4, 2}, {3, 1, 1, 1, 3, 0, 1, 1})), constant(i64s({3}))},
                   {make_attribute("axis", int64_t{0}), make_attribute("largest", int64_t{0})}, 18, 0.0, 2});
  cases.push_back({"TopK_f16_middle_axis", "TopK", {in(f16({2, 9, 3})), constant(i64s({4}))},
                   {make_attribute("axis", int64_t{1})}, 18, 0.0, 2});
  cases.push_back({"ReduceL2_f32", "ReduceL2", {in(f32({3, 4})), constant(i64s({1}))}});
  cases.push_back({"ReduceLogSumExp_f32", "ReduceLogSumExp", {in(f32({3, 4}, 10, 20)), constant(i64s({0}))}});

  // cuBLAS and cuDNN.
  cases.push_back({"MatMul_2d", "MatMul", {in(f32({7, 33})), in(f32({33, 5}, -1, 1, 2))}, {}, 18, 1e-4});
  cases.push_back({"MatMul_batched", "MatMul", {in(f32({3, 4, 8})), in(f32({3, 8, 6}, -1, 1, 2))}, {}, 18, 1e-4});
  cases.push_back({"MatMul_shared_rhs", "MatMul", {in(f32({2, 3, 4, 8})), constant(f32({8, 6}, -1, 1, 2))}, {}, 18, 1e-4});
  cases.push_back({"MatMul_shared_lhs", "MatMul", {in(f32({4, 8})), in(f32({3, 8, 6}, -1, 1, 2))}, {}, 18, 1e-4});
  cases.push_back({"MatMul_broadcast_batches", "MatMul", {in(f32({2, 1, 4, 8})), in(f32({1, 3, 8, 6}, -1, 1, 2))}, {}, 18, 1e-4});
  cases.push_back({"MatMul_vector_matrix", "MatMul", {in(f32({8})), in(f32({2, 8, 6}, -1, 1, 2))}, {}, 18, 1e-4});
  cases.push_back({"MatMul_f16", "MatMul", {in(f16({16, 32})), in(f16({32, 8}, -1, 1, 2))}, {}, 18, 1e-2});
  cases.push_back({"MatMul_bf16", "MatMul", {in(bf16({16, 32})), in(bf16({32, 8}, -1, 1, 2))}, {}, 18, 3e-2});
  cases.push_back({"Gemm_transB_bias", "Gemm", {in(f32({5, 12})), constant(f32({7, 12}, -1, 1, 2)), constant(f32({7}, -1, 1, 3))},
                   {make_attribute("transB", int64_t{1}), make_attribute("alpha", 0.5f), make_attribute("beta", 2.0f)},
                   18, 1e-4});
  cases.push_back({"Gemm_transA_no_bias", "Gemm", {in(f32({12, 5})), in(f32({12, 7}, -1, 1, 2))},
                   {make_attribute("transA", int64_t{1})}, 18, 1e-4});
  cases.push_back({"Conv_2d_pads_bias", "Conv",
                   {in(f32({2, 3, 9, 9})), constant(f32({4, 3, 3, 3}, -1, 1, 2)), constant(f32({4}, -1, 1, 3))},
                   {make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})}, 18, 1e-4});
  cases.push_back({"Conv_2d_stride_dilation_groups", "Conv",
                   {in(f32({1, 4, 11, 10})), constant(f32({6, 2, 3, 2}, -1, 1, 2))},
                   {make_attribute("strides", std::vector<int64_t>{2, 1}),
                    make_attribute("dilations", std::vector<int64_t>{1, 2}), make_attribute("group", int64_t{2})},
                   18, 1e-4});
  cases.push_back({"Conv_same_upper_asymmetric", "Conv", {in(f32({1, 2, 8, 8})), constant(f32({3, 2, 2, 2}, -1, 1, 2))},
                   {make_attribute("auto_pad", "SAME_UPPER")}, 18, 1e-4});
  cases.push_back({"Conv_1d", "Conv", {in(f32({2, 3, 20})), constant(f32({5, 3, 4}, -1, 1, 2))},
                   {make_attribute("strides", std::vector<int64_t>{2})}, 18, 1e-4});
  cases.push_back({"Conv_depthwise_f16", "Conv", {in(f16({1, 8, 10, 10})), constant(f16({8, 1, 3, 3}, -1, 1, 2))},
                   {make_attribute("group", int64_t{8}), make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})},
                   18, 1e-2});
  cases.push_back({"MaxPool_2d", "MaxPool", {in(f32({2, 3, 8, 8}))},
                   {make_attribute("kernel_shape", std::vector<int64_t>{3, 3}),
                    make_attribute("strides", std::vector<int64_t>{2, 2}), make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})}});
  cases.push_back({"AveragePool_exclude_pad", "AveragePool", {in(f32({2, 3, 7, 7}))},
                   {make_attribute("kernel_shape", std::vector<int64_t>{3, 3}),
                    make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})}});
  cases.push_back({"AveragePool_include_pad", "AveragePool", {in(f32({1, 2, 6, 6}))},
                   {make_attribute("kernel_shape", std::vector<int64_t>{2, 2}),
                    make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1}),
                    make_attribute("count_include_pad", int64_t{1})}});
  cases.push_back({"MaxPool_1d_f16", "MaxPool", {in(f16({2, 3, 11}))},
                   {make_attribute("kernel_shape", std::vector<int64_t>{3}), make_attribute("strides", std::vector<int64_t>{2})},
                   18, 0.0});
  cases.push_back({"Conv_3d", "Conv", {in(f32({1, 2, 5, 5, 4})), constant(f32({3, 2, 3, 3, 2}, -1, 1, 2))},
                   {make_attribute("pads", std::vector<int64_t>{1, 1, 0, 1, 1, 0})}, 18, 1e-4});
  cases.push_back({"GlobalAveragePool", "GlobalAveragePool", {in(f32({2, 5, 7, 7}))}});
  cases.push_back({"ConvTranspose_stride2_output_padding_bias", "ConvTranspose",
                   {in(f32({2, 3, 5, 4})), constant(f32({3, 4, 3, 3}, -1, 1, 2)), constant(f32({4}, -1, 1, 3))},
                   {make_attribute("strides", std::vector<int64_t>{2, 2}),
                    make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1}),
                    make_attribute("output_padding", std::vector<int64_t>{1, 0})},
                   18, 1e-4});
  cases.push_back({"ConvTranspose_asymmetric_pads_groups", "ConvTranspose",
                   {in(f32({1, 4, 4, 4})), constant(f32({4, 3, 2, 3}, -1, 1, 2))},
                   {make_attribute("group", int64_t{2}), make_attribute("pads", std::vector<int64_t>{0, 1, 1, 0})},
                   18, 1e-4});
  cases.push_back({"ConvTranspose_1d_same_upper", "ConvTranspose", {in(f32({1, 2, 7})), constant(f32({2, 3, 4}, -1, 1, 2))},
                   {make_attribute("strides", std::vector<int64_t>{2}), make_attribute("auto_pad", "SAME_UPPER")},
                   18, 1e-4});
  cases.push_back({"LRN_size5", "LRN", {in(f32({2, 7, 3, 3}))}, {make_attribute("size", int64_t{5})}, 18, 1e-4});
  cases.push_back({"ScatterElements_axis1", "ScatterElements",
                   {in(f32({3, 4})), in(i64({3, 2}, {1, -1, 0, 2, 3, 1})), in(f32({3, 2}, 5, 6, 9))},
                   {make_attribute("axis", int64_t{1})}});
  cases.push_back({"ScatterND_rows", "ScatterND",
                   {in(f32({4, 3})), in(i64({2, 1}, {3, 0})), in(f32({2, 3}, 5, 6, 9))}});
  cases.push_back({"ScatterND_elements_int64", "ScatterND",
                   {in(i64({2, 2}, {1, 2, 3, 4})), in(i64({2, 2}, {0, 1, 1, -2})), in(i64({2}, {10, 20}))}});
  // LSTM: one projection GEMM per direction, a recurrent GEMM and a cell kernel per step.
  auto hidden = [](int64_t h) { return make_attribute("hidden_size", h); };
  cases.push_back({"LSTM_forward_bias_initial_states", "LSTM",
                   {in(f32({5, 2, 3})), constant(f32({1, 16, 3}, -0.5f, 0.5f, 2)), constant(f32({1, 16, 4}, -0.5f, 0.5f, 3)),
                    constant(f32({1, 32}, -0.5f, 0.5f, 4)), omitted(), in(f32({1, 2, 4}, -1, 1, 5)),
                    in(f32({1, 2, 4}, -1, 1, 6))},
                   {hidden(4)}, 18, 1e-5, 3});
  cases.push_back({"LSTM_bidirectional_no_bias", "LSTM",
                   {in(f32({4, 3, 2})), constant(f32({2, 12, 2}, -0.5f, 0.5f, 2)), constant(f32({2, 12, 3}, -0.5f, 0.5f, 3))},
                   {hidden(3), make_attribute("direction", "bidirectional")}, 18, 1e-5, 3});
  cases.push_back({"LSTM_reverse_batch_major", "LSTM",
                   {in(f32({2, 6, 3})), constant(f32({1, 8, 3}, -0.5f, 0.5f, 2)), constant(f32({1, 8, 2}, -0.5f, 0.5f, 3)),
                    constant(f32({1, 16}, -0.5f, 0.5f, 4)), omitted(), in(f32({2, 1, 2}, -1, 1, 5))},
                   {hidden(2), make_attribute("direction", "reverse"), make_attribute("layout", int64_t{1})}, 18, 1e-5, 3});
  cases.push_back({"GRU_forward_bias_initial_state", "GRU",
                   {in(f32({5, 2, 3})), constant(f32({1, 12, 3}, -0.5f, 0.5f, 2)), constant(f32({1, 12, 4}, -0.5f, 0.5f, 3)),
                    constant(f32({1, 24}, -0.5f, 0.5f, 4)), omitted(), in(f32({1, 2, 4}, -1, 1, 5))},
                   {hidden(4)}, 18, 1e-5, 2});
  cases.push_back({"GRU_bidirectional_linear_before_reset", "GRU",
                   {in(f32({4, 3, 2})), constant(f32({2, 9, 2}, -0.5f, 0.5f, 2)), constant(f32({2, 9, 3}, -0.5f, 0.5f, 3)),
                    constant(f32({2, 18}, -0.5f, 0.5f, 4))},
                   {hidden(3), make_attribute("direction", "bidirectional"), make_attribute("linear_before_reset", int64_t{1})},
                   18, 1e-5, 2});
  cases.push_back({"GRU_reverse_batch_major", "GRU",
                   {in(f32({2, 6, 3})), constant(f32({1, 6, 3}, -0.5f, 0.5f, 2)), constant(f32({1, 6, 2}, -0.5f, 0.5f, 3))},
                   {hidden(2), make_attribute("direction", "reverse"), make_attribute("layout", int64_t{1})}, 18, 1e-5, 2});
  cases.push_back({"RNN_forward_bias", "RNN",
                   {in(f32({5, 2, 3})), constant(f32({1, 4, 3}, -0.5f, 0.5f, 2)), constant(f32({1, 4, 4}, -0.5f, 0.5f, 3)),
                    constant(f32({1, 8}, -0.5f, 0.5f, 4))},
                   {hidden(4)}, 18, 1e-5, 2});
  cases.push_back({"RNN_bidirectional_batch_major", "RNN",
                   {in(f32({3, 4, 2})), constant(f32({2, 3, 2}, -0.5f, 0.5f, 2)), constant(f32({2, 3, 3}, -0.5f, 0.5f, 3)),
                    omitted(), omitted(), in(f32({3, 2, 3}, -1, 1, 5))},
                   {hidden(3), make_attribute("direction", "bidirectional"), make_attribute("layout", int64_t{1})},
                   18, 1e-5, 2});
  // Resize: scales or sizes, nearest and linear, the coordinate transforms.
  auto scales = [](std::vector<float> s) { return constant(Tensor::from_vector<float>({static_cast<int64_t>(s.size())}, s)); };
  cases.push_back({"Resize_nearest_upsample_asymmetric", "Resize", {in(f32({1, 2, 3, 4})), omitted(), scales({1, 1, 2, 2})},
                   {make_attribute("coordinate_transformation_mode", "asymmetric"), make_attribute("nearest_mode", "floor")}});
  cases.push_back({"Resize_nearest_half_pixel_sizes", "Resize",
                   {in(f32({1, 1, 5, 7})), omitted(), omitted(), constant(i64s({1, 1, 8, 3}))}});
  cases.push_back({"Resize_linear_half_pixel_down", "Resize", {in(f32({1, 2, 8, 8})), omitted(), scales({1, 1, 0.5f, 0.75f})},
                   {make_attribute("mode", "linear")}});
  cases.push_back({"Resize_linear_align_corners_up", "Resize", {in(f32({2, 1, 3, 3})), omitted(), scales({1, 1, 2.5f, 2})},
                   {make_attribute("mode", "linear"), make_attribute("coordinate_transformation_mode", "align_corners")}});
  cases.push_back({"Resize_linear_pytorch_half_pixel_f16", "Resize", {in(f16({1, 3, 4, 6})), omitted(), scales({1, 1, 1.5f, 0.5f})},
                   {make_attribute("mode", "linear"), make_attribute("coordinate_transformation_mode", "pytorch_half_pixel")},
                   18, 5e-3});
  cases.push_back({"Resize_tf_crop_and_resize_extrapolates", "Resize",
                   {in(f32({1, 1, 4, 4})), constant(Tensor::from_vector<float>({8}, {0, 0, -0.2f, 0.1f, 1, 1, 0.8f, 1.3f})),
                    omitted(), constant(i64s({1, 1, 3, 5}))},
                   {make_attribute("mode", "linear"), make_attribute("coordinate_transformation_mode", "tf_crop_and_resize"),
                    make_attribute("extrapolation_value", 7.0f)}});
  cases.push_back({"Resize_nearest_uint8_round_prefer_ceil", "Resize",
                   {in(Tensor::from_vector<uint8_t>({1, 1, 2, 3}, {0, 50, 100, 150, 200, 250})), omitted(), scales({1, 1, 3, 1.5f})},
                   {make_attribute("nearest_mode", "round_prefer_ceil")}});
  cases.push_back({"GlobalMaxPool", "GlobalMaxPool", {in(f32({2, 5, 3, 3}))}});
  return cases;
}

// --- running a case ----------------------------------------------------------------------------

// Why CUDA cases cannot run here, or nullopt when a device is there.
std::optional<std::string> cuda_unavailable_reason() {
  static const std::optional<std::string> reason = []() -> std::optional<std::string> {
    try {
      std::shared_ptr<ExecutionProvider> provider = make_provider(ProviderSpec::parse("cuda"));
      provider->open();
      return std::nullopt;
    } catch (const std::exception& error) {
      return std::string(error.what());
    }
  }();
  return reason;
}

Node cuda_case_node(const CudaOpCase& c) {
  Node node;
  node.name = c.name;
  node.op_type = c.op;
  for (size_t i = 0; i < c.inputs.size(); ++i) node.inputs.push_back(c.inputs[i].value.defined() ? "in" + std::to_string(i) : "");
  for (size_t i = 0; i < c.outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  node.attributes = c.attributes;
  return node;
}

Model cuda_case_model(const CudaOpCase& c, const std::vector<Value>& expected) {
  Model model;
  model.ir_version = 8;
  model.producer_name = "onyx-cuda-tests";
  model.opsets[""] = c.opset;
  model.graph.name = c.name;
  model.graph.nodes.push_back(cuda_case_node(c));
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Tensor& value = c.inputs[i].value;
    if (!value.defined()) continue;
    std::string name = "in" + std::to_string(i);
    if (c.inputs[i].constant) {
      model.graph.set_initializer(name, value);
    } else {
      model.graph.inputs.push_back({name, TypeInfo::tensor_of_shape(value.dtype(), value.shape()), ""});
    }
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const Tensor& value = expected[i].tensor();
    model.graph.outputs.push_back({"out" + std::to_string(i), TypeInfo::tensor_of_shape(value.dtype(), value.shape()), ""});
  }
  return model;
}

void expect_close(const Tensor& cuda, const Tensor& cpu, double tolerance, const std::string& what) {
  ASSERT_EQ(cuda.dtype(), cpu.dtype()) << what;
  ASSERT_EQ(shape_to_string(cuda.shape()), shape_to_string(cpu.shape())) << what;
  int reported = 0;
  for (int64_t i = 0; i < cpu.element_count(); ++i) {
    double expected = cpu.element_as_double(i);
    double got = cuda.element_as_double(i);
    bool same = (std::isnan(expected) && std::isnan(got)) || std::abs(got - expected) <= tolerance * (1.0 + std::abs(expected));
    if (!same && reported++ < 5) ADD_FAILURE() << what << " element " << i << ": CUDA " << got << ", CPU " << expected;
  }
}

class CudaKernels : public ::testing::TestWithParam<CudaOpCase> {};

TEST_P(CudaKernels, MatchTheCpuKernel) {
  const CudaOpCase& c = GetParam();
  if (auto reason = cuda_unavailable_reason()) GTEST_SKIP() << "no CUDA device: " << *reason;

  std::vector<Value> inputs;
  for (const CudaOpInput& input : c.inputs) inputs.push_back(input.value.defined() ? Value(input.value) : Value());
  std::vector<Value> expected = call_node_on_cpu(cuda_case_node(c), c.opset, inputs);

  SessionOptions options;
  options.providers = make_providers({"cuda"});
  options.optimization_level = 0;  // the node itself must run, not an optimized-away or folded form
  InferenceSession session(cuda_case_model(c, expected), options);
  // The node must really run on CUDA, not fall back to the CPU.
  bool on_cuda = false;
  for (const PlanStep& step : session.plan().steps()) {
    if (step.node != nullptr && step.node->op_type == c.op) on_cuda = step.provider->name() == "CUDA";
  }
  ASSERT_TRUE(on_cuda) << c.op << " was not placed on the CUDA provider";
  std::map<std::string, Value> feeds;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (c.inputs[i].value.defined() && !c.inputs[i].constant) feeds["in" + std::to_string(i)] = c.inputs[i].value;
  }
  std::vector<NamedValue> outputs = session.run(feeds);
  ASSERT_EQ(outputs.size(), expected.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    Tensor got = outputs[i].value.tensor();
    if (!got.device().is_cpu()) got = options.providers[0]->to_host(got, nullptr);
    expect_close(got, expected[i].tensor(), c.tolerance, c.name + " output " + std::to_string(i));
  }
}

// The table itself, on every machine: each case is a valid node the CPU runs, and the one-node
// model built for it runs in a CPU session with the same result, so a CUDA failure on the GPU
// machine is about CUDA, never about the case.
class CudaKernelTable : public ::testing::TestWithParam<CudaOpCase> {};

TEST_P(CudaKernelTable, RunsOnTheCpuAsANodeAndAsAModel) {
  const CudaOpCase& c = GetParam();
  std::vector<Value> inputs;
  for (const CudaOpInput& input : c.inputs) inputs.push_back(input.value.defined() ? Value(input.value) : Value());
  std::vector<Value> expected = call_node_on_cpu(cuda_case_node(c), c.opset, inputs);
  SessionOptions options;
  options.optimization_level = 0;
  InferenceSession session(cuda_case_model(c, expected), options);
  std::map<std::string, Value> feeds;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (c.inputs[i].value.defined() && !c.inputs[i].constant) feeds["in" + std::to_string(i)] = c.inputs[i].value;
  }
  std::vector<NamedValue> outputs = session.run(feeds);
  ASSERT_EQ(outputs.size(), expected.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    expect_close(outputs[i].value.tensor(), expected[i].tensor(), 0.0, c.name + " output " + std::to_string(i));
  }
}

INSTANTIATE_TEST_SUITE_P(Cuda, CudaKernelTable, ::testing::ValuesIn(cuda_op_cases()),
                         [](const ::testing::TestParamInfo<CudaOpCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(Cuda, CudaKernels, ::testing::ValuesIn(cuda_op_cases()),
                         [](const ::testing::TestParamInfo<CudaOpCase>& info) { return info.param.name; });

}  // namespace
}  // namespace onyx
