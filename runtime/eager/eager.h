// Eager mode in one include: tensors and their operators, every op as a function, gradient
// tapes, control flow, and onyx::function to trace all of it into a compiled graph.
// docs/architecture.md ("Eager mode") describes how the parts fit.
#pragma once

#include "runtime/eager/control_flow.h"
#include "runtime/eager/function.h"
#include "runtime/eager/gradient_tape.h"
#include "runtime/eager/operators.h"
#include "runtime/eager/ops.h"
#include "runtime/eager/tensor_factory.h"
