// Comparing an output with its reference for `onyx test`: floats within rtol/atol with NaN
// positions matching, integers, bools and strings exactly, shapes and types always exactly.
#pragma once

#include <optional>
#include <string>

#include "runtime/ir/graph.h"
#include "runtime/tensor/value.h"

namespace onyx::cli {

struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-7;
  // For outputs of random ops, whose values no other generator reproduces: compare types and
  // shapes, and require finite floats, but not the values.
  bool random_values = false;
};

// True when the graph's outputs depend on a random op (Bernoulli, RandomUniform*, RandomNormal*,
// Multinomial, Dropout in training mode): their tests are checked by type, shape and
// finiteness (Tolerance::random_values) instead of values.
bool has_random_outputs(const Graph& graph);

// nullopt when equal; else a description of the first mismatch.
std::optional<std::string> compare_values(const Value& expected, const Value& actual, Tolerance tolerance);

}  // namespace onyx::cli
