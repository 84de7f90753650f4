#include "tools/custom_ops_option.h"

#include "runtime/extensions/custom_op_library.h"

namespace onyx::cli {

void add_custom_ops_option(CLI::App& command, std::vector<std::string>& libraries) {
  command.add_option("--custom-ops", libraries, "LIB.so: a custom-op library to load first; repeatable")
      ->expected(1)
      ->allow_extra_args(false)  // one path per occurrence, so a following model is not taken
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void load_custom_op_libraries(const std::vector<std::string>& libraries) {
  for (const std::string& library : libraries) register_custom_op_library(OpRegistry::global(), library);
}

}  // namespace onyx::cli
