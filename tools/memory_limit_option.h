// The `--memory-limit SIZE` option of every verb that creates a session (run, bench, train): the
// most bytes one tensor may take (SessionOptions::memory_limit). SIZE is a byte count with an
// optional binary unit: 512M, 8G, 1T (K, M, G, T are 1024-based; KB/KiB spell the same).
#pragma once

#include <cstddef>

#include <CLI/CLI.hpp>

namespace onyx::cli {

// `bytes` stays 0 when the option is absent, which SessionOptions reads as the machine's memory.
void add_memory_limit_option(CLI::App& command, size_t& bytes);

}  // namespace onyx::cli
