// Eager op calls, GradientTape, control flow and traced functions for Python (onyx._onyx).
#pragma once

#include <nanobind/nanobind.h>

namespace onyx::python {

void add_eager_functions(nanobind::module_& module);

}  // namespace onyx::python
