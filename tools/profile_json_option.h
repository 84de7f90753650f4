// The `--profile-json FILE` option of `onyx run` and `onyx bench`: a Chrome trace of session
// creation and every run (SessionOptions::enable_profiling, runtime/session/profiler.h). The
// folder is checked when the command line is read, so a wrong path fails before any work.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace onyx::cli {

void add_profile_json_option(CLI::App& command, std::string& file);

}  // namespace onyx::cli
