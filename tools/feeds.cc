#include "tools/feeds.h"

#include "runtime/ir/value_files.h"
#include "tools/random_inputs.h"

namespace onyx::cli {

std::map<std::string, Value> build_feeds(const InferenceSession& session,
                                         const std::vector<std::string>& specs, bool random_rest) {
  std::map<std::string, Value> feeds;
  for (const std::string& spec : specs) {
    auto equals = spec.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw_error(ErrorCode::kInvalidArgument, "--input expects NAME=FILE, got '", spec, "'");
    }
    std::string name = spec.substr(0, equals);
    const ValueInfo* input = &session.input_named(name);
    feeds[name] = read_value_file(spec.substr(equals + 1), input->type).value;
  }
  if (random_rest) {
    uint64_t seed = 1;
    for (const ValueInfo& input : session.inputs()) {
      if (!feeds.count(input.name) && !session.input_is_optional(input.name)) {
        feeds[input.name] = random_value(input.name, input.type, seed++, session.memory_limit());
      }
    }
  }
  return feeds;
}

}  // namespace onyx::cli
