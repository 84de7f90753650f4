// Fully connected layers in one kernel (optimization level 2, CPU only): a MatMul by a constant
// 2-D float B followed by an Add of a constant bias row ([N], or [1, ..., 1, N] no longer than
// the product), and/or the activation after it (Relu, LeakyRelu, constant Clip, HardSwish,
// Sigmoid, Tanh, Gelu), and a Gemm of that shape (transA 0, alpha and beta 1, C absent or a bias row)
// followed by such an activation, become one com.onyx FusedMatMul: Y = act(A @ op(B) + bias),
// a single oneDNN matmul with the bias and the activation inside. Only values read by nothing
// else are absorbed; the fused node takes over the last absorbed node's output name.
#pragma once

#include "runtime/ir/graph.h"
#include "runtime/session/type_inference.h"

namespace onyx {

// Rewrites the main graph (not subgraphs); returns the number of nodes absorbed. When it
// absorbs any, it imports the com.onyx domain into `model` and the caller must run
// infer_types again.
int fuse_matmul_bias_activation(Graph& graph, Model& model, const InferredTypes& types);

}  // namespace onyx
