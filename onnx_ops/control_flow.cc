// Output types of If, Loop and Scan. Only element types are promised: a loop-carried value or
// a branch output may change shape between iterations or branches, so shapes stay unknown
// unless both branches of an If agree exactly.
#include "onnx_ops/op_schema.h"

namespace onyx {

namespace {

TypeInfo element_type_only(const TypeInfo& type) {
  if (type.kind != TypeInfo::Kind::kTensor) return type;
  return TypeInfo::tensor(type.elem_type);
}

void if_rule(InferenceContext& ctx) {
  const Graph& then_branch = ctx.attributes().require_graph("then_branch");
  const Graph& else_branch = ctx.attributes().require_graph("else_branch");
  for (size_t i = 0; i < ctx.output_count() && i < then_branch.outputs.size(); ++i) {
    const TypeInfo& a = then_branch.outputs[i].type;
    const TypeInfo* b = i < else_branch.outputs.size() ? &else_branch.outputs[i].type : nullptr;
    bool same = b && a.kind == b->kind && a.elem_type == b->elem_type && a.shape == b->shape;
    ctx.set_output_type(i, same ? a : element_type_only(a));
  }
}

void loop_rule(InferenceContext& ctx) {
  const Graph& body = ctx.attributes().require_graph("body");
  size_t carried = ctx.input_count() >= 2 ? ctx.input_count() - 2 : 0;
  for (size_t i = 0; i < carried && i < ctx.output_count(); ++i) {
    ctx.set_output_type(i, element_type_only(ctx.input_type(2 + i)));
  }
  for (size_t k = carried; k < ctx.output_count() && 1 + k < body.outputs.size(); ++k) {
    const TypeInfo& item = body.outputs[1 + k].type;
    if (item.kind == TypeInfo::Kind::kTensor) ctx.set_output_type(k, TypeInfo::tensor(item.elem_type));
  }
}

void scan_rule(InferenceContext& ctx) {
  const Graph& body = ctx.attributes().require_graph("body");
  for (size_t i = 0; i < ctx.output_count() && i < body.outputs.size(); ++i) {
    const TypeInfo& item = body.outputs[i].type;
    if (item.kind == TypeInfo::Kind::kTensor) ctx.set_output_type(i, TypeInfo::tensor(item.elem_type));
  }
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "If", if_rule);
ONYX_REGISTER_SHAPE_RULE("", "Loop", loop_rule);
ONYX_REGISTER_SHAPE_RULE("", "Scan", scan_rule);

}  // namespace onyx
