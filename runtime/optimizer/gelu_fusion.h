// GELU written out with Erf (optimization level 2, CPU only), as PyTorch exports nn.GELU()
// before opset 20 and Keras/tf2onnx write it: 0.5 * x * (1 + Erf(x / sqrt(2))), with the
// scaling by 1/sqrt(2) as a Div or a Mul and the three factors multiplied in any order, becomes
// one com.onyx Gelu node. Five elementwise passes over the tensor become one, and the matmul
// fusion that runs next can then take the GELU into the preceding MatMul/Gemm as a oneDNN
// post-op (a transformer's feed-forward layer becomes a single kernel).
#pragma once

#include "runtime/ir/graph.h"

namespace onyx {

// Rewrites the main graph (not subgraphs); returns the number of GELUs formed. When it forms
// any, it imports the com.onyx domain into `model` and the caller must run infer_types again.
int fuse_gelu(Graph& graph, Model& model);

}  // namespace onyx
