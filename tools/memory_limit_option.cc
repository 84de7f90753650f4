#include "tools/memory_limit_option.h"

#include "runtime/tensor/memory_limit.h"

namespace onyx::cli {

void add_memory_limit_option(CLI::App& command, size_t& bytes) {
  std::string default_limit = std::to_string(default_memory_limit() >> 20) + "M";
  command
      .add_option("--memory-limit", bytes,
                  "SIZE: the most memory one tensor may take, e.g. 512M or 8G (default: this machine's memory, " +
                      default_limit + "); a model asking for more stops with an error naming the node")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::PositiveNumber);
}

}  // namespace onyx::cli
