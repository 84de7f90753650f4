// Conversions between Python objects and onyx Values for the bindings: NumPy arrays <-> tensors
// (strings as object arrays of str, ml_dtypes arrays for bfloat16, float8, int4 and the other
// types NumPy lacks), lists <-> sequences, dicts <-> maps, None <-> an empty optional. Every
// function here needs the GIL; the numpy C API lives in numpy_values.cc alone.
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
// session's initializers or the caller's feeds), a list for a sequence, a dict for a map (int or
// str keys; float, int or str values, as onnxruntime gives them), None for an empty optional. Throws onyx::Error for a tensor on a device the host cannot read.
PyObject* value_to_python(const Value& value);

// A tensor of the array's own element type (no copy where value_from_python makes none):
// `object` is an ndarray or anything NumPy turns into one (numbers, nested lists, __array__).
Tensor tensor_from_array_like(PyObject* object, const std::string& name);

// Whether `object` is a NumPy ndarray (or a subclass).
bool is_ndarray(PyObject* object);

// A new reference to the NumPy dtype of `dtype`'s elements (ml_dtypes' for the types NumPy lacks).
PyObject* numpy_dtype(DataType dtype);

// A new reference: a read-only ndarray over a host tensor's memory (no copy; the array keeps the
// tensor's buffer alive). Strings and packed sub-byte types, which NumPy stores differently, are
// copied (value_to_python).
PyObject* array_view(const Tensor& tensor);

}  // namespace onyx::python
