// A gradient written as an ONNX graph template, turned into a gradient rule. This is how a
// plug-in library (through the C ABI) and, if it likes, C++ code give an op's backward pass:
// declaratively, as ONNX nodes, without linking onyx.
//
// The template's inputs are, in order: the op's inputs, its outputs, and the gradients flowing
// into its outputs. Its outputs are the gradients of the op's inputs, one per input, with ""
// for an input that has none (labels, indices). Initializers become constants. Names inside
// the template are local: each use gets fresh names from the gradient builder. An output
// gradient that does not flow (its output is unused) is replaced by zeros of the output's shape.
#pragma once

#include <cstddef>
#include <string>

#include "runtime/ir/graph.h"
#include "training/gradient_rule.h"

namespace onyx {

// `op` names the op in errors ("com.example::Swish version 1+"). Throws kInvalidArgument when
// the template uses subgraphs or reads a name it does not define.
training::GradientRule gradient_rule_from_template(Graph graph, std::string op);
// Same from a serialized GraphProto.
training::GradientRule gradient_rule_from_template(const void* data, size_t size, std::string op);

}  // namespace onyx
