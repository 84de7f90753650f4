// libFuzzer target 'checkpoint' (scripts/fuzz.sh checkpoint SECONDS): see fuzz_entries.h.
#include "tests/fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  onyx::fuzz::fuzz_checkpoint(data, size);
  return 0;
}
