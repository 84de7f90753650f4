#include "runtime/common/error.h"

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

}  // namespace onyx
