// onyx's errors as Python exceptions: one class per onyx::ErrorCode under onyx.OnyxError (a
// RuntimeError), carrying the message the CLI prints after "onyx: error: ".
#pragma once

#include <nanobind/nanobind.h>

namespace onyx::python {

// Creates the classes in `module` and registers the translator of C++ exceptions.
void add_error_classes(nanobind::module_& module);

}  // namespace onyx::python
