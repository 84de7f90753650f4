// libFuzzer target 'data_readers' (scripts/fuzz.sh data_readers SECONDS): see fuzz_entries.h.
#include "tests/fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  onyx::fuzz::fuzz_data_readers(data, size);
  return 0;
}
