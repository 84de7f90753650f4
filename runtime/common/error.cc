#include "runtime/common/error.h"

#include <new>

namespace onyx {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidModel: return "invalid model";
    case ErrorCode::kNotImplemented: return "not implemented";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kRuntimeFailure: return "runtime failure";
  }
  return "error";
}

std::string user_message(const std::exception& error) {
  if (dynamic_cast<const Error*>(&error)) return error.what();
  if (dynamic_cast<const std::bad_alloc*>(&error)) {
    return "out of memory: an allocation failed (lower the sizes the model asks for, or --memory-limit to fail earlier)";
  }
  if (dynamic_cast<const std::length_error*>(&error)) {
    return "out of memory: a buffer larger than the largest possible allocation was requested";
  }
  if (dynamic_cast<const std::out_of_range*>(&error)) return "an index or value is out of range";
  if (dynamic_cast<const std::invalid_argument*>(&error)) return "a value could not be interpreted";
  // Other standard exceptions name library internals ("map::at", "basic_string"); keep only
  // messages that read as sentences.
  std::string message = error.what();
  if (message.find("::") != std::string::npos || message.find("basic_string") != std::string::npos) {
    return "internal failure (" + std::string(dynamic_cast<const std::logic_error*>(&error) ? "logic" : "runtime") +
           " error in the standard library)";
  }
  return message;
}

}  // namespace onyx
