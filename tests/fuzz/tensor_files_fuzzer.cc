// libFuzzer target 'tensor_files' (scripts/fuzz.sh tensor_files SECONDS): see fuzz_entries.h.
#include "tests/fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  onyx::fuzz::fuzz_tensor_files(data, size);
  return 0;
}
