// Attribute meaning shared by the ai.onnx.ml shape rules and kernels.
#pragma once

#include "onnx_ops/node_attributes.h"

namespace onyx {

// LabelEncoder's output element type: that of whichever values attribute the node has
// (values_strings, values_int64s, values_floats, or values_tensor from opset 4).
DataType label_encoder_value_type(const NodeAttributes& attributes);

// CastMap's output element type from cast_to (TO_FLOAT, TO_STRING, TO_INT64); throws
// kInvalidModel for another value.
DataType cast_map_output_type(const NodeAttributes& attributes);
// Whether CastMap's map_form is SPARSE (else DENSE); throws kInvalidModel for another value.
bool cast_map_is_sparse(const NodeAttributes& attributes);

}  // namespace onyx
