// Channels-last convolutions (optimization level 2). oneDNN's fast f32 convolutions work on
// [N, spatial..., C] data; a Conv on ONNX's [N, C, spatial...] therefore reorders its input
// and output at every call, which in MobileNetV2 costs more than the convolutions themselves.
// This pass rewrites each float Conv with constant weights into com.onyx NhwcConv, keeps the
// chain channels-last through the ops that do not care about layout (elementwise activations,
// and Add/Sub/Mul/Div/Min/Max/Sum of operands of one rank or one-element constants) and through
// MaxPool/AveragePool and their Global forms (com.onyx NhwcMaxPool, ...), Concat (along the
// moved axis) and inference BatchNormalization (as Mul and Add by [C] constants), fuses a Relu,
// LeakyRelu, HardSwish, constant Clip or SiLU (Mul(y, Sigmoid(y))) that alone reads a
// convolution into it, as well as a residual Add before such an activation (ResNet's
// Relu(Conv(x) + skip), MobileNet's Conv(x) + skip), and puts Transposes only where the chain
// meets other ops. Every
// original value keeps its name and meaning: a Transpose back to channels-first produces it,
// and dead-node removal drops those nobody reads.
#pragma once

#include "runtime/ir/graph.h"
#include "runtime/session/type_inference.h"

namespace onyx {

// Rewrites the main graph (not subgraphs); returns the number of Convs converted. When it
// converts any, it imports the com.onyx domain into `model` and the caller must run
// remove_dead_nodes and infer_types again.
int convert_to_channels_last(Graph& graph, Model& model, const InferredTypes& types);

}  // namespace onyx
