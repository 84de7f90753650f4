// Attribute meanings shared by the elementwise shape rules and kernels.
#pragma once

#include "onnx_ops/node_attributes.h"
#include "runtime/tensor/dtype.h"

namespace onyx {

// Cast's target type: the `to` attribute, an element type code, or in opset 1 a type name
// ("FLOAT", "INT32", ...). Throws kInvalidModel naming the node when missing or unknown.
DataType cast_target_type(const NodeAttributes& attributes);

}  // namespace onyx
