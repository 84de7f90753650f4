// Attribute meaning shared by the ai.onnx.ml shape rules and kernels.
#pragma once

#include "onnx_ops/node_attributes.h"

namespace onyx {

// LabelEncoder's output element type: that of whichever values attribute the node has
// (values_strings, values_int64s, values_floats, or values_tensor from opset 4).
DataType label_encoder_value_type(const NodeAttributes& attributes);

}  // namespace onyx
