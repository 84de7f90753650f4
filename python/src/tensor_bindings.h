// onyx.Tensor (the eager tensor) and onyx.from_dlpack.
#pragma once

#include <nanobind/nanobind.h>

#include "runtime/tensor/tensor.h"

namespace onyx::python {

void add_tensor_class(nanobind::module_& module);

// A tensor for a Python value: an onyx.Tensor as it is, a NumPy array or DLPack tensor as a view
// of its memory, anything else through NumPy. Throws onyx::Error for what cannot be one.
Tensor tensor_from_object(nanobind::handle object);

}  // namespace onyx::python
