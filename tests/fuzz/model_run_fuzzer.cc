// libFuzzer target 'model_run' (scripts/fuzz.sh model_run SECONDS): see fuzz_entries.h.
#include "tests/fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  onyx::fuzz::fuzz_model_run(data, size);
  return 0;
}
