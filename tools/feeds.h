// Builds a session's feeds from NAME=FILE specs and, optionally, random data for the rest.
// Shared by `onyx run` and `onyx bench`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/session/inference_session.h"

namespace onyx::cli {

std::map<std::string, Value> build_feeds(const InferenceSession& session,
                                         const std::vector<std::string>& specs, bool random_rest);

}  // namespace onyx::cli
