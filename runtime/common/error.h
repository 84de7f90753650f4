// onyx's single error type. Every failure a user can cause (bad model, bad input, missing
// kernel) is reported as an onyx::Error carrying a code and a message with its context, so the
// CLI can print one line and exit nonzero instead of aborting.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace onyx {

enum class ErrorCode {
  kInvalidModel,     // the model itself is malformed or inconsistent
  kNotImplemented,   // valid ONNX that onyx cannot run (yet): unknown op, opset, dtype
  kInvalidArgument,  // caller error: wrong input name, shape, type, missing file
  kRuntimeFailure,   // anything that goes wrong while executing
};

const char* error_code_name(ErrorCode code);

// What to tell a user about an exception: the message of an onyx::Error, and for the standard
// library's own exceptions (std::bad_alloc, std::length_error, "basic_string::_M_create",
// "vector::_M_range_check", ...) a readable sentence instead of C++ internals.
std::string user_message(const std::exception& error);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

namespace detail {
template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

// Builds the message from streamable parts: throw_error(kInvalidModel, "node ", name, " ...").
template <typename... Parts>
[[noreturn]] void throw_error(ErrorCode code, Parts&&... parts) {
  throw Error(code, detail::concat(std::forward<Parts>(parts)...));
}

}  // namespace onyx

#define ONYX_CHECK(condition, code, ...)                         \
  do {                                                           \
    if (!(condition)) ::onyx::throw_error(::onyx::code, __VA_ARGS__); \
  } while (0)
