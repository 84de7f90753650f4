// Control flow that runs eagerly outside a trace and becomes ONNX Loop / If nodes inside one
// (onyx::function): the body is traced once into a subgraph, so a traced loop costs one Loop
// node however many times it iterates.
//
//   auto [sum] = onyx::for_range(n, [](const Tensor& i, const std::vector<Tensor>& v) {
//     return std::vector<Tensor>{v[0] + i};
//   }, {Tensor::scalar<int64_t>(0)});
//
// Loop-carried values keep their element type; a value whose shape changes between iterations
// is traced with those dims unknown. Inside a body, tensors computed outside it may be read
// (they become outer-scope values), but tensors computed inside must leave through the results.
#pragma once

#include <functional>
#include <vector>

#include "runtime/tensor/tensor.h"

namespace onyx {

using LoopBody = std::function<std::vector<Tensor>(const std::vector<Tensor>& values)>;
using LoopCondition = std::function<Tensor(const std::vector<Tensor>& values)>;
using RangeBody = std::function<std::vector<Tensor>(const Tensor& index, const std::vector<Tensor>& values)>;
using Branch = std::function<std::vector<Tensor>()>;

// Runs `body` while `condition(values)` (a one-element bool or number) holds; returns the
// final values.
std::vector<Tensor> while_loop(const LoopCondition& condition, const LoopBody& body,
                               std::vector<Tensor> values);
// Runs `body(i, values)` for i = 0 .. count-1 (an int64 scalar index); returns the final values.
std::vector<Tensor> for_range(const Tensor& count, const RangeBody& body, std::vector<Tensor> values);
std::vector<Tensor> for_range(int64_t count, const RangeBody& body, std::vector<Tensor> values);
// then_branch() if `predicate` (one element) holds, else else_branch(); both return the same
// number of tensors with the same element types.
std::vector<Tensor> cond(const Tensor& predicate, const Branch& then_branch, const Branch& else_branch);

}  // namespace onyx
