// onyx.nn for Python (onyx._onyx.nn): the C++ module system of training/nn/.
#pragma once

#include <nanobind/nanobind.h>

namespace onyx::python {

void add_nn_functions(nanobind::module_& module);

}  // namespace onyx::python
