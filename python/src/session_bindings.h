// The inference session class of the native module (onyx._onyx.Session) and the provider list.
#pragma once

#include <nanobind/nanobind.h>

namespace onyx::python {

void add_session_class(nanobind::module_& module);

}  // namespace onyx::python
