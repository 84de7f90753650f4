// The `--precision fp32|bf16` option of the verbs that create sessions (run, bench, test,
// train): SessionOptions::precision. bf16 is opt-in reduced precision (providers/precision.h);
// on a CPU without avx512_bf16 the session prints a one-line notice and runs fp32.
#pragma once

#include <CLI/CLI.hpp>

#include "providers/precision.h"

namespace onyx::cli {

// `what` completes the help text: what bf16 changes for this verb.
void add_precision_option(CLI::App& command, Precision& precision, const std::string& what);

}  // namespace onyx::cli
