// TrainingSession, the gradient builder and checkpoint helpers for Python (onyx._onyx).
#pragma once

#include <nanobind/nanobind.h>

namespace onyx::python {

void add_training_functions(nanobind::module_& module);

}  // namespace onyx::python
