// Human-readable summaries of values for the CLI: "float [2,3] 0.1 0.2 ... (6 values)".
#pragma once

#include <string>

#include "runtime/tensor/value.h"

namespace onyx::cli {

std::string describe_value(const Value& value, int max_values = 8);

}  // namespace onyx::cli
