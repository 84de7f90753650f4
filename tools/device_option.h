// The `--device DEVICE` option of run, bench, test and inspect: `cpu` (the default), `cuda`,
// `cuda:N`, `emulated` (the test-only device of providers/emulated/), with provider options
// after commas (`cuda:0,memory_limit=4000000000,tf32=1`). Nodes the device cannot run fall
// back to the CPU.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "providers/execution_provider.h"

namespace onyx::cli {

void add_device_option(CLI::App& command, std::string& device);
// The providers for SessionOptions::providers, the CPU last. Throws one readable error when
// the device is unknown or absent from this build.
std::vector<std::shared_ptr<ExecutionProvider>> providers_for_device(const std::string& device);

}  // namespace onyx::cli
