// Prints where a session's nodes run when a device was asked for: the nodes left on the CPU
// with the reason, and every copy between devices (`onyx inspect --device`, `onyx run
// --verbose`, `onyx bench` on a device).
#pragma once

#include <ostream>

#include "runtime/ir/graph.h"
#include "runtime/session/placement.h"

namespace onyx::cli {

void print_placement(std::ostream& out, const Graph& graph, const GraphPlacement& placement);

}  // namespace onyx::cli
