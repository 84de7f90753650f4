// The eager op API: a typed wrapper per ONNX op with a CPU kernel (generated into
// runtime/eager/ops/ by scripts/generate_eager_ops.py, grouped by kernel family), plus `call`
// for any op by name, custom ops included.
//
//   Tensor y = ops::conv(x, w, {.strides = {2, 2}});
//   Tensor z = ops::call("com.acme", "MyOp", {x}, {make_attribute("alpha", 0.5f)});
//
// Every wrapper is one eager call (op_dispatch.h): it runs the graph runtime's kernel, traces
// inside onyx::function and records on a GradientTape.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "runtime/eager/ops/all_families.h"
#include "runtime/ir/attribute_builders.h"

namespace onyx::ops {

// Any op by (domain, name): "" or "ai.onnx" for ONNX ops, or a registered custom op's domain.
// `opset` 0 uses the eager default (for custom domains, the newest registered version).
std::vector<Tensor> call(const std::string& domain, const std::string& op_type, const std::vector<Tensor>& inputs,
                         const std::vector<Attribute>& attributes, size_t output_count, int64_t opset = 0);
// One-output form.
Tensor call(const std::string& domain, const std::string& op_type, const std::vector<Tensor>& inputs,
            const std::vector<Attribute>& attributes = {});

// (domain, op) of every generated wrapper, and the ops with kernels left to eager::call_values
// (sequences, optionals, graph attributes). Tests check these against the kernel registry.
const std::vector<std::pair<std::string, std::string>>& generated_ops();
const std::vector<std::string>& ops_left_to_call_values();

}  // namespace onyx::ops
