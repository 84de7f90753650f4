// TrainingSession, the gradient builder and checkpoint helpers for Python (onyx._onyx).
#pragma once

#include <nanobind/nanobind.h>

#include "training/optimizer.h"

namespace onyx::python {

void add_training_functions(nanobind::module_& module);

// onyx.training's optimizer options (SGD/Adam/AdamW._options(): kind, defaults, groups,
// schedules, clipping) as the C++ config; onyx.nn's optimizers take the same dict.
training::OptimizerConfig optimizer_config_from_python(const nanobind::dict& optimizer);

}  // namespace onyx::python
