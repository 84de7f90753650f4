// Conversions between Python objects and onyx Values for the bindings: NumPy arrays <-> tensors
// (strings as object arrays of str, ml_dtypes arrays for bfloat16, float8, int4 and the other
// types NumPy lacks), lists <-> sequences, None <-> an empty optional. Every function here
// needs the GIL; the numpy C API lives in numpy_values.cc alone.
#pragma once

#include <Python.h>

#include "runtime/ir/type_info.h"
#include "runtime/tensor/value.h"

namespace onyx::python {

// Loads NumPy's C API (and ml_dtypes' types when it is installed); once, at module import.
// Returns false with a Python error set on failure.
bool init_numpy();

// A feed for an input declared as `declared`. A C-contiguous, aligned array of the declared
// element type becomes a view of the array's memory (no copy; the tensor keeps the array
// alive); anything else (another memory layout, a list of numbers, a scalar) is converted by
// NumPy first. Throws onyx::Error (kInvalidArgument) naming `name` for what cannot be a value
// of that kind.
Value value_from_python(PyObject* object, const std::string& name, const TypeInfo& declared);

// A new reference: an ndarray (a copy of the tensor's memory, so that it never aliases the
// session's initializers or the caller's feeds), a list for a sequence, None for an empty
// optional. Throws onyx::Error for a tensor on a device the host cannot read.
PyObject* value_to_python(const Value& value);

}  // namespace onyx::python
