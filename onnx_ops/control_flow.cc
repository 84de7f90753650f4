// Output types of If, Loop and Scan. Only element types are promised: a loop-carried value or
// a branch output may change shape between iterations or branches, so shapes stay unknown
// unless both branches of an If agree exactly.
#include "onnx_ops/attribute_checks.h"
#include "onnx_ops/op_schema.h"

namespace onyx {

namespace {

// Tensor element types that are both known and differ.
bool element_types_clash(const TypeInfo& a, const TypeInfo& b) {
  return a.is_tensor() && b.is_tensor() && a.elem_type != DataType::kUndefined && b.elem_type != DataType::kUndefined &&
         a.elem_type != b.elem_type;
}

TypeInfo element_type_only(const TypeInfo& type) {
  if (type.kind != TypeInfo::Kind::kTensor) return type;
  return TypeInfo::tensor(type.elem_type);
}

void if_rule(InferenceContext& ctx) {
  const Graph& then_branch = ctx.attributes().require_graph("then_branch");
  const Graph& else_branch = ctx.attributes().require_graph("else_branch");
  for (const Graph* branch : {&then_branch, &else_branch}) {
    if (branch->outputs.size() < ctx.output_count()) {
      throw_error(ErrorCode::kInvalidModel, "If: the node has ", ctx.output_count(), " outputs but ",
                  branch == &then_branch ? "then_branch" : "else_branch", " gives ", branch->outputs.size());
    }
  }
  for (size_t i = 0; i < ctx.output_count(); ++i) {
    if (element_types_clash(then_branch.outputs[i].type, else_branch.outputs[i].type)) {
      throw_error(ErrorCode::kInvalidModel, "If: output ", i, " is ", dtype_name(then_branch.outputs[i].type.elem_type),
                  " in then_branch but ", dtype_name(else_branch.outputs[i].type.elem_type), " in else_branch");
    }
  }
  for (size_t i = 0; i < ctx.output_count() && i < then_branch.outputs.size(); ++i) {
    const TypeInfo& a = then_branch.outputs[i].type;
    const TypeInfo* b = i < else_branch.outputs.size() ? &else_branch.outputs[i].type : nullptr;
    bool same = b && a.kind == b->kind && a.elem_type == b->elem_type && a.shape == b->shape;
    ctx.set_output_type(i, same ? a : element_type_only(a));
  }
}

// The body's signature must fit the node: (iteration, condition, carried...) in, (condition,
// carried..., scan outputs...) out, and each carried value keeps its element type from the
// initial value through the body's input to its output.
void check_loop_body(const InferenceContext& ctx, const Graph& body, size_t carried) {
  if (body.inputs.size() != 2 + carried) {
    throw_error(ErrorCode::kInvalidModel, "Loop: the body takes ", body.inputs.size(), " inputs, expected ", 2 + carried,
                " (iteration number, condition and the ", carried, " loop-carried values)");
  }
  if (body.outputs.size() < 1 + carried) {
    throw_error(ErrorCode::kInvalidModel, "Loop: the body gives ", body.outputs.size(), " outputs, expected at least ",
                1 + carried, " (condition and the ", carried, " loop-carried values)");
  }
  if (body.outputs.size() - 1 < ctx.output_count()) {
    throw_error(ErrorCode::kInvalidModel, "Loop: the node has ", ctx.output_count(), " outputs but the body gives ",
                body.outputs.size() - 1, " values after its condition");
  }
  for (size_t i = 0; i < carried; ++i) {
    const TypeInfo& initial = ctx.input_type(2 + i);
    const ValueInfo& body_in = body.inputs[2 + i];
    const ValueInfo& body_out = body.outputs[1 + i];
    for (const ValueInfo* side : {&body_in, &body_out}) {
      if (element_types_clash(initial, side->type)) {
        throw_error(ErrorCode::kInvalidModel, "Loop: loop-carried value ", i, " starts as ", dtype_name(initial.elem_type),
                    " (input '", ctx.node().inputs[2 + i], "') but the body's '", side->name, "' is ",
                    dtype_name(side->type.elem_type));
      }
    }
    if (element_types_clash(body_in.type, body_out.type)) {
      throw_error(ErrorCode::kInvalidModel, "Loop: loop-carried value ", i, " enters the body as ",
                  dtype_name(body_in.type.elem_type), " ('", body_in.name, "') but leaves it as ",
                  dtype_name(body_out.type.elem_type), " ('", body_out.name, "')");
    }
  }
}

void loop_rule(InferenceContext& ctx) {
  const Graph& body = ctx.attributes().require_graph("body");
  size_t carried = ctx.input_count() >= 2 ? ctx.input_count() - 2 : 0;
  check_loop_body(ctx, body, carried);
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

namespace {

// The counts the Scan kernel splits its inputs and outputs by, and the per-scan-value axes and
// directions.
void check_scan(const AttributeCheckContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  const bool batched = ctx.opset() < 9;  // Scan-8: input 0 is sequence_lens
  const int64_t inputs = static_cast<int64_t>(ctx.input_count()) - (batched ? 1 : 0);
  const int64_t outputs = static_cast<int64_t>(ctx.node().outputs.size());
  const int64_t scan_inputs = a.get_int_in_range("num_scan_inputs", 1, 1, std::max<int64_t>(inputs, 1));
  if (scan_inputs > inputs) {
    throw_error(ErrorCode::kInvalidModel, "attribute num_scan_inputs (", scan_inputs, ") exceeds the ", inputs,
                " inputs");
  }
  const int64_t states = inputs - scan_inputs;
  if (outputs < states) {
    throw_error(ErrorCode::kInvalidModel, "Scan has ", states, " state inputs but only ", outputs, " outputs");
  }
  const size_t scan_outputs = static_cast<size_t>(outputs - states);
  const std::string why_in = "one per scan input, num_scan_inputs = " + std::to_string(scan_inputs);
  const std::string why_out = "one per scan output, " + std::to_string(scan_outputs);
  const char* input_directions = batched ? "directions" : "scan_input_directions";
  a.expect_length(input_directions, static_cast<size_t>(scan_inputs), why_in);
  a.expect_length("scan_input_axes", static_cast<size_t>(scan_inputs), why_in);
  a.expect_length("scan_output_axes", scan_outputs, why_out);
  a.expect_length("scan_output_directions", scan_outputs, why_out);
  for (const char* name : {input_directions, "scan_output_directions"}) {
    for (int64_t d : a.get_ints(name)) {
      if (d != 0 && d != 1) {
        throw_error(ErrorCode::kInvalidModel, "attribute ", name, " must hold 0 (forward) or 1 (reverse), got ", d);
      }
    }
  }
  const std::vector<int64_t> axes = a.get_ints("scan_input_axes");
  for (size_t j = 0; j < axes.size(); ++j) {
    std::optional<int64_t> rank = ctx.input_rank(static_cast<size_t>(states) + j + (batched ? 1 : 0));
    if (rank && (axes[j] < -*rank || axes[j] >= *rank)) {
      throw_error(ErrorCode::kInvalidModel, "attribute scan_input_axes[", j, "] must be in [", -*rank, ", ",
                  *rank - 1, "] for a scan input of rank ", *rank, ", got ", axes[j]);
    }
  }
}

}  // namespace

ONYX_REGISTER_ATTRIBUTE_CHECK("", "Scan", check_scan);

}  // namespace onyx
