// Made-up inputs from declared types, for `onyx run --random` and `onyx bench`: symbolic
// dims become 1, floats are uniform in [-1, 1), integers in [0, 10). Seeded: repeatable.
#pragma once

#include <cstdint>

#include "runtime/ir/type_info.h"
#include "runtime/tensor/value.h"

namespace onyx::cli {

// Refuses (naming the input) a declared shape that would take more than `memory_limit` bytes.
Value random_value(const std::string& name, const TypeInfo& type, uint64_t seed, size_t memory_limit);

}  // namespace onyx::cli
