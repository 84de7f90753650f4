// Einsum's meaning: the equation parsed against the input shapes into labels with sizes,
// per-operand strides and the output labels, shared by the shape rule and the CPU kernel.
// Ellipsis dims get labels of their own (right-aligned, broadcasting like NumPy); a label
// repeated within one operand takes its diagonal, which summed strides express directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor/tensor.h"

namespace onyx {

struct EinsumPlan {
  std::vector<int64_t> label_sizes;               // by label id
  std::vector<std::vector<int64_t>> strides;      // [operand][label]: element stride, 0 if absent
  std::vector<int64_t> output_labels;             // output dims, outer to inner
  std::vector<int64_t> contracted_labels;         // summed labels
  Shape output_shape;
};

// Throws kInvalidArgument naming the equation on a malformed equation, a term whose rank does
// not match its input, or labels whose sizes disagree.
EinsumPlan plan_einsum(const std::string& equation, const std::vector<Shape>& input_shapes);

}  // namespace onyx
