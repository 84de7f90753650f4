// Meaning of the linear quantization ops (QuantizeLinear, DequantizeLinear and the integer
// matmul/conv family): how a scale/zero-point tensor maps onto the quantized tensor's elements
// (per tensor, per axis, or in blocks along one axis), and which element type the output has.
#pragma once

#include <cstdint>
#include <string_view>

#include "onnx_ops/node_attributes.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

// The data tensor viewed as [outer, axis_dim, inner]; element (o, a, i) uses parameter
// o * outer_stride + (a / block) * axis_stride + i * inner_stride. Per-tensor parameters have
// all strides 0, per-axis ones axis_stride 1 and block 1, blocked ones the scale's own strides.
struct QuantParamLayout {
  int64_t outer = 1, axis_dim = 1, inner = 1;
  int64_t block = 1;
  int64_t outer_stride = 0, axis_stride = 0, inner_stride = 0;

  int64_t index(int64_t o, int64_t a, int64_t i) const {
    return o * outer_stride + (a / block) * axis_stride + i * inner_stride;
  }
};

// Checks `param` (a scale or zero point) against `data` for the node's axis and block_size
// (block_size 0: per tensor or per axis) and returns its layout. Throws kInvalidArgument naming
// `op` and the shapes when they do not fit.
QuantParamLayout quant_param_layout(const Shape& data, const Shape& param, int64_t axis,
                                    int64_t block_size, std::string_view op);

// True for the element types QuantizeLinear may produce.
bool is_quantized_type(DataType type);

}  // namespace onyx
