// onyx._onyx, the native half of the Python package (python/onyx/): the C++ runtime's
// sessions, values and errors. Each part binds in a file of its own so that later parts
// (eager tensors, training, onyx.nn) each add a file here rather than grow one.
#include <nanobind/nanobind.h>

#include <cstdint>

#include "python/src/eager_bindings.h"
#include "python/src/errors.h"
#include "python/src/harness_bindings.h"
#include "python/src/nn_bindings.h"
#include "python/src/numpy_values.h"
#include "python/src/session_bindings.h"
#include "python/src/tensor_bindings.h"
#include "python/src/training_bindings.h"

namespace nb = nanobind;

NB_MODULE(_onyx, module) {
  if (!onyx::python::init_numpy()) throw nb::python_error();
  onyx::python::add_error_classes(module);
  onyx::python::add_session_class(module);
  onyx::python::add_harness_functions(module);
  onyx::python::add_tensor_class(module);
  onyx::python::add_eager_functions(module);
  onyx::python::add_training_functions(module);
  onyx::python::add_nn_functions(module);

  // Where the tensor that run() makes of `value` (fed to a tensor input of element type code
  // `element_type`, ONNX numbering) keeps its elements: the array's own address when the feed
  // is read without a copy. For the tests of that promise (tests/python/test_python_values.py).
  module.def("feed_data_address", [](nb::handle value, int element_type) {
    onyx::Value feed = onyx::python::value_from_python(
        value.ptr(), "value", onyx::TypeInfo::tensor(onyx::dtype_from_code(element_type)));
    return reinterpret_cast<uintptr_t>(feed.tensor().raw_data());
  });
}
