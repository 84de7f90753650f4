#include "tools/backend_test.h"

#include <algorithm>

#include "runtime/ir/value_files.h"
#include "runtime/session/inference_session.h"
#include "tools/device_option.h"
#include "tools/value_comparison.h"

namespace onyx::cli {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> numbered_files(const fs::path& folder, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int k = 0;; ++k) {
    fs::path path = folder / (prefix + std::to_string(k) + ".pb");
    if (!fs::exists(path)) break;
    files.push_back(path);
  }
  return files;
}

std::vector<fs::path> data_sets(const fs::path& folder) {
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) {
      sets.push_back(entry.path());
    }
  }
  std::sort(sets.begin(), sets.end());
  return sets;
}

// Test data written before ONNX had a bfloat16 TensorProto type stores bfloat16 values as
// uint16 bit patterns; read them as the bfloat16 the model declares.
Value as_declared_type(Value value, const TypeInfo& declared) {
  if (value.is_tensor() && value.tensor().dtype() == DataType::kUInt16 &&
      declared.kind == TypeInfo::Kind::kTensor && declared.elem_type == DataType::kBFloat16) {
    Tensor bits = value.tensor();
    return Tensor::view(DataType::kBFloat16, bits.shape(), bits.mutable_raw_data(),
                        std::shared_ptr<void>(std::make_shared<Tensor>(bits), nullptr), bits.device());
  }
  return value;
}

}  // namespace

const char* test_status_word(TestStatus status) {
  switch (status) {
    case TestStatus::kPass: return "PASS";
    case TestStatus::kFail: return "FAIL";
    case TestStatus::kError: return "ERROR";
    case TestStatus::kSkip: return "SKIP";
  }
  return "?";
}

TestOutcome run_backend_test(const fs::path& folder, int threads, const std::string& device, Precision precision) {
  fs::path model_path = folder / "model.onnx";
  if (!fs::exists(model_path)) return {TestStatus::kSkip, "no model.onnx"};
  std::vector<fs::path> sets = data_sets(folder);
  if (sets.empty()) return {TestStatus::kSkip, "no test_data_set_* folders"};

  SessionOptions options;
  options.intra_op_threads = threads;
  options.providers = providers_for_device(device);
  options.precision = precision;
  InferenceSession session(model_path, options);
  Tolerance tolerance;
  if (session.precision() == Precision::kBf16) {
    // Each bf16 input carries a relative rounding error of up to 2^-8 into every product.
    tolerance.rtol = 3e-2;
    tolerance.atol = 1e-2;
  }
  tolerance.random_values = has_random_outputs(session.model().graph);
  for (const fs::path& set : sets) {
    std::vector<fs::path> input_files = numbered_files(set, "input_");
    std::vector<fs::path> output_files = numbered_files(set, "output_");
    if (input_files.size() > session.inputs().size()) {
      return {TestStatus::kError, set.filename().string() + " has " + std::to_string(input_files.size()) +
                                      " inputs, the model takes " + std::to_string(session.inputs().size())};
    }
    std::map<std::string, Value> feeds;
    for (size_t k = 0; k < input_files.size(); ++k) {
      const ValueInfo& input = session.inputs()[k];
      feeds[input.name] = as_declared_type(read_value_file(input_files[k], input.type).value, input.type);
    }
    std::vector<NamedValue> outputs = session.run(feeds);
    if (output_files.size() != outputs.size()) {
      return {TestStatus::kFail, "the model gave " + std::to_string(outputs.size()) + " outputs, the data set has " +
                                     std::to_string(output_files.size())};
    }
    for (size_t k = 0; k < outputs.size(); ++k) {
      Value expected = as_declared_type(read_value_file(output_files[k], session.outputs()[k].type).value,
                                        session.outputs()[k].type);
      if (auto mismatch = compare_values(expected, outputs[k].value, tolerance)) {
        return {TestStatus::kFail, set.filename().string() + " output " + std::to_string(k) + " '" +
                                       outputs[k].name + "': " + *mismatch};
      }
    }
  }
  return {TestStatus::kPass, tolerance.random_values ? "random op: types, shapes and finiteness checked" : ""};
}

}  // namespace onyx::cli
