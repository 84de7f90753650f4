// One ONNX backend test folder (model.onnx + test_data_set_*/input_k.pb, output_k.pb): load
// the model, run every data set, compare the outputs. Used by `onyx test`.
#pragma once

#include <filesystem>
#include <string>

#include "providers/precision.h"

namespace onyx::cli {

enum class TestStatus { kPass, kFail, kError, kSkip };

struct TestOutcome {
  TestStatus status;
  std::string message;
};

// `device` as --device takes it ("" or "cpu", "cuda:0", "emulated"). With bf16 (when the CPU
// runs it) floats are compared within a tolerance suited to bf16's 8-bit significand.
TestOutcome run_backend_test(const std::filesystem::path& folder, int threads, const std::string& device = "",
                             Precision precision = Precision::kFp32);

const char* test_status_word(TestStatus status);  // "PASS", "FAIL", ...

}  // namespace onyx::cli
