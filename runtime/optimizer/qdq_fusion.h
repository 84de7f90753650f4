// Quantized models in the QDQ format (onnxruntime.quantization.quantize_static's default:
// every quantized tensor as QuantizeLinear -> DequantizeLinear around float ops) run their
// convolutions and matrix products in integers (optimization level 2, CPU only):
//
//   DequantizeLinear(xq) -> Conv(., DequantizeLinear(wq), DequantizeLinear(bias_q)) -> QuantizeLinear
//     becomes QLinearConv(xq, wq, bias_q), and
//   DequantizeLinear(aq) -> MatMul / Gemm(., DequantizeLinear(bq)) -> QuantizeLinear
//     becomes QLinearMatMul(aq, bq) (a Gemm only with transA 0, alpha 1 and no C; transB
//     transposes the constant int8 B once),
//
// as onnxruntime's QDQ transformer does, so that the node runs on oneDNN's int8 kernels
// (providers/cpu/quantization/dnnl_integer.h) instead of dequantizing, multiplying in float
// and quantizing again. Conditions: int8 constant weights with constant scales and zero
// points, per-tensor or per-output-channel (axis 0 for Conv, the columns for MatMul); the
// bias int32 with zero point 0 and scale x_scale * w_scale; the float product read only by
// its QuantizeLinear. The results are those of the integer ops: each output may differ from
// the float pattern's by one quantization step where the float sum lies near a rounding
// boundary. Runs before constant folding, which would turn DequantizeLinear(wq) into float
// weights.
#pragma once

#include "runtime/ir/graph.h"
#include "runtime/session/type_inference.h"

namespace onyx {

// Rewrites the main graph; returns the number of products fused. The DequantizeLinear nodes
// left without readers are for the caller's dead-node removal; types need inferring again.
int fuse_qdq_products(Graph& graph, const InferredTypes& types);

}  // namespace onyx
