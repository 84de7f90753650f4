// `onyx run --top-k K`: a classifier's output read as classes. Each batch row of a float output
// of shape [classes] or [batch, classes] prints its K largest entries as "class (value)";
// probabilities (a row of non-negative values summing to 1) are printed as they are, logits
// with their softmax probability beside them.
#pragma once

#include <optional>
#include <string>

#include "runtime/tensor/value.h"

namespace onyx::cli {

// One line per batch row, or nullopt when `value` is not a float tensor of rank 1 or 2.
std::optional<std::string> describe_top_k(const Value& value, int k);

}  // namespace onyx::cli
