// The entry functions of the libFuzzer targets (tests/fuzz/*_fuzzer.cc), shared with the
// GoogleTest that replays the stored reproducers (regressions_test.cc) so that a reproducer is
// checked in the normal build, without sanitizers. Each takes untrusted bytes, swallows a clean
// onyx::Error and lets anything else (another exception, a crash) escape to the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace onyx::fuzz {

// Model bytes -> load -> session -> one run on made-up inputs (dims and bytes capped).
void fuzz_model_run(const uint8_t* data, size_t size);
// Tensor files: the first byte picks .pb (TensorProto / Sequence / Optional), .npy or .npz.
void fuzz_tensor_files(const uint8_t* data, size_t size);
// Training data readers: the first byte picks CSV or IDX (plain or gzipped).
void fuzz_data_readers(const uint8_t* data, size_t size);
// Checkpoint loading (the checksummed header, then the payload).
void fuzz_checkpoint(const uint8_t* data, size_t size);

struct FuzzTarget {
  std::string name;
  void (*entry)(const uint8_t*, size_t);
};
// Every target by the name scripts/fuzz.sh and tests/fuzz/regressions/<name>/ use.
const std::vector<FuzzTarget>& fuzz_targets();

}  // namespace onyx::fuzz
