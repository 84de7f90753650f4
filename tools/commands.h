// The verbs of the `onyx` CLI. Each registers its options on a CLI11 subcommand and returns
// the function that runs it; main.cc turns any onyx::Error into one line and exit status 1.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace onyx::cli {

using Command = std::function<int()>;

Command add_run_command(CLI::App& app);
Command add_inspect_command(CLI::App& app);
Command add_test_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_gradient_command(CLI::App& app);
Command add_train_command(CLI::App& app);

}  // namespace onyx::cli
