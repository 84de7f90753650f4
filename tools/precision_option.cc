#include "tools/precision_option.h"

#include <map>

namespace onyx::cli {

void add_precision_option(CLI::App& command, Precision& precision, const std::string& what) {
  const std::map<std::string, Precision> names{{"fp32", Precision::kFp32}, {"bf16", Precision::kBf16}};
  command
      .add_option("--precision", precision,
                  "fp32 (default) or bf16: " + what +
                      " (bf16 needs avx512_bf16; without it a notice is printed and fp32 runs)")
      ->transform(CLI::CheckedTransformer(names, CLI::ignore_case));
}

}  // namespace onyx::cli
