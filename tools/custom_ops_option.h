// The repeatable `--custom-ops LIB.so` option, shared by every verb that loads a model (run,
// test, bench, inspect, gradient; train reuses it). The CLI runs one model per process, so libraries go
// into the global registry: `onyx test`'s per-test child processes inherit them.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace onyx::cli {

void add_custom_ops_option(CLI::App& command, std::vector<std::string>& libraries);
// Loads each library in order; the first failure throws onyx::Error with the loader's message.
void load_custom_op_libraries(const std::vector<std::string>& libraries);

}  // namespace onyx::cli
