// onyx._onyx.compare_outputs: the conformance harness's output check (harness_bindings.cc).
#pragma once

#include <nanobind/nanobind.h>

namespace onyx::python {

void add_harness_functions(nanobind::module_& module);

}  // namespace onyx::python
