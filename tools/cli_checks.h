// Value checks for CLI options whose failures read as plain sentences: CLI11's own
// NonNegativeNumber/PositiveNumber print their range as "0.000000 to 1797693134862315708...".
#pragma once

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <string>

namespace onyx::cli {

namespace detail {
inline CLI::Validator number_check(bool zero_allowed) {
  return CLI::Validator(
      [zero_allowed](std::string& text) -> std::string {
        char* end = nullptr;
        double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) return "'" + text + "' is not a number";
        if (zero_allowed ? value < 0 : value <= 0) {
          return std::string("must be ") + (zero_allowed ? "0 or more" : "more than 0") + ", not " + text;
        }
        return "";
      },
      zero_allowed ? "NUMBER >= 0" : "NUMBER > 0");
}
}  // namespace detail

// Accepts 0 and positive numbers: "--threads: must be 0 or more, not -3".
inline CLI::Validator non_negative() { return detail::number_check(true); }
// Accepts positive numbers only: "--lr: must be more than 0, not 0".
inline CLI::Validator positive() { return detail::number_check(false); }

}  // namespace onyx::cli
