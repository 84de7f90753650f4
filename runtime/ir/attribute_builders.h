// Short constructors for attributes, for code that builds graphs (tests, the training graph
// builder, eager calls): make_attribute("axis", int64_t{1}).
#pragma once

#include <string>
#include <vector>

#include "runtime/ir/attribute.h"

namespace onyx {

Attribute make_attribute(const std::string& name, int64_t value);
Attribute make_attribute(const std::string& name, float value);
Attribute make_attribute(const std::string& name, const std::string& value);
Attribute make_attribute(const std::string& name, const char* value);
Attribute make_attribute(const std::string& name, std::vector<int64_t> values);
Attribute make_attribute(const std::string& name, std::vector<float> values);
Attribute make_attribute(const std::string& name, std::vector<std::string> values);
Attribute make_attribute(const std::string& name, Tensor value);

}  // namespace onyx
