// Equality and hashing of node attributes by value, so eager calls with the same attributes
// share one cached kernel however the attributes were built.
#pragma once

#include <cstdint>
#include <span>

#include "runtime/ir/attribute.h"

namespace onyx::eager {

bool attributes_equal(const Attribute& a, const Attribute& b);
uint64_t hash_attributes(std::span<const Attribute> attributes);

}  // namespace onyx::eager
