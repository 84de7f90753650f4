// Shape rules of MatMul and Gemm, and the matmul shape helper.
#include "onnx_ops/linalg.h"

#include "onnx_ops/broadcast.h"
#include "onnx_ops/op_schema.h"

namespace onyx {

MatMulShape matmul_shape(const Shape& a, const Shape& b, std::string_view op) {
  if (a.empty() || b.empty()) {
    throw_error(ErrorCode::kInvalidArgument, op, ": operands must have rank >= 1, got ",
                shape_to_string(a), " and ", shape_to_string(b));
  }
  MatMulShape s;
  Shape a2 = a, b2 = b;
  if (a2.size() == 1) a2.insert(a2.begin(), 1);
  if (b2.size() == 1) b2.push_back(1);
  s.m = a2[a2.size() - 2];
  s.k = a2.back();
  s.n = b2.back();
  if (b2[b2.size() - 2] != s.k) {
    throw_error(ErrorCode::kInvalidArgument, op, ": inner dims differ: A is ", shape_to_string(a),
                " and B is ", shape_to_string(b));
  }
  Shape a_batch(a2.begin(), a2.end() - 2), b_batch(b2.begin(), b2.end() - 2);
  s.batch = broadcast_shapes(a_batch, b_batch, op);
  s.a_batch = Shape(s.batch.size() - a_batch.size(), 1);
  s.a_batch.insert(s.a_batch.end(), a_batch.begin(), a_batch.end());
  s.b_batch = Shape(s.batch.size() - b_batch.size(), 1);
  s.b_batch.insert(s.b_batch.end(), b_batch.begin(), b_batch.end());
  s.output = s.batch;
  if (a.size() > 1) s.output.push_back(s.m);
  if (b.size() > 1) s.output.push_back(s.n);
  return s;
}

bool matmul_dims(const TypeInfo& a, const TypeInfo& b, std::vector<Dim>& output,
                 std::string_view op) {
  if (!a.shape || !b.shape) return false;
  std::vector<Dim> a2 = *a.shape, b2 = *b.shape;
  if (a2.empty() || b2.empty()) {
    throw_error(ErrorCode::kInvalidArgument, op, ": operands must have rank >= 1, got ",
                a.to_string(), " and ", b.to_string());
  }
  if (a2.size() == 1) a2.insert(a2.begin(), Dim::known(1));
  if (b2.size() == 1) b2.push_back(Dim::known(1));
  const Dim& ka = a2.back();
  const Dim& kb = b2[b2.size() - 2];
  if (ka.is_known() && kb.is_known() && ka.value != kb.value) {
    throw_error(ErrorCode::kInvalidArgument, op, ": inner dims differ: A is ", a.to_string(),
                " and B is ", b.to_string());
  }
  std::vector<Dim> batches[2] = {std::vector<Dim>(a2.begin(), a2.end() - 2),
                                 std::vector<Dim>(b2.begin(), b2.end() - 2)};
  output = broadcast_dims(std::span<const std::vector<Dim>>(batches, 2), op);
  if (a.shape->size() > 1) output.push_back(a2[a2.size() - 2]);
  if (b.shape->size() > 1) output.push_back(b2.back());
  return true;
}

namespace {

void matmul_rule(InferenceContext& ctx, DataType out_type, const char* op) {
  const TypeInfo& a = ctx.input_type(0);
  const TypeInfo& b = ctx.input_type(1);
  if (!a.is_tensor()) return;
  DataType type = out_type == DataType::kUndefined ? a.elem_type : out_type;
  std::vector<Dim> dims;
  if (b.is_tensor() && matmul_dims(a, b, dims, op)) {
    ctx.set_output_type(0, TypeInfo::tensor(type, std::move(dims)));
  } else {
    ctx.set_output_type(0, TypeInfo::tensor(type));
  }
}

void gemm_rule(InferenceContext& ctx) {
  const TypeInfo& a = ctx.input_type(0);
  const TypeInfo& b = ctx.input_type(1);
  if (!a.is_tensor()) return;
  if (!a.shape || !b.is_tensor() || !b.shape) return ctx.set_output_type(0, TypeInfo::tensor(a.elem_type));
  if (a.shape->size() != 2 || b.shape->size() != 2) {
    throw_error(ErrorCode::kInvalidArgument, ctx.node().describe(), ": Gemm needs 2-D A and B, got ",
                a.to_string(), " and ", b.to_string());
  }
  bool trans_a = ctx.attributes().get_int("transA", 0) != 0;
  bool trans_b = ctx.attributes().get_int("transB", 0) != 0;
  Dim m = (*a.shape)[trans_a ? 1 : 0], ka = (*a.shape)[trans_a ? 0 : 1];
  Dim kb = (*b.shape)[trans_b ? 1 : 0], n = (*b.shape)[trans_b ? 0 : 1];
  if (ka.is_known() && kb.is_known() && ka.value != kb.value) {
    throw_error(ErrorCode::kInvalidArgument, ctx.node().describe(), ": inner dims differ: A is ",
                a.to_string(), (trans_a ? " (transposed)" : ""), " and B is ", b.to_string(),
                (trans_b ? " (transposed)" : ""));
  }
  ctx.set_output_type(0, TypeInfo::tensor(a.elem_type, std::vector<Dim>{m, n}));
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "MatMul",
                         [](InferenceContext& ctx) { matmul_rule(ctx, DataType::kUndefined, "MatMul"); });
ONYX_REGISTER_SHAPE_RULE("", "Gemm", gemm_rule);
// com.onyx FusedMatMul (runtime/optimizer/matmul_fusion.h): MatMul of A and op(B), B 2-D.
ONYX_REGISTER_SHAPE_RULE(kOnyxDomain, "FusedMatMul", [](InferenceContext& ctx) {
  const TypeInfo& a = ctx.input_type(0);
  if (!a.is_tensor()) return;
  TypeInfo b = ctx.input_type(1);
  if (b.is_tensor() && b.shape && b.shape->size() == 2 && ctx.attributes().get_int("transB", 0) != 0) {
    std::swap((*b.shape)[0], (*b.shape)[1]);
  }
  std::vector<Dim> dims;
  if (b.is_tensor() && matmul_dims(a, b, dims, "FusedMatMul")) {
    ctx.set_output_type(0, TypeInfo::tensor(a.elem_type, std::move(dims)));
  } else {
    ctx.set_output_type(0, TypeInfo::tensor(a.elem_type));
  }
});

}  // namespace onyx
