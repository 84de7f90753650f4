#include "onnx_ops/host_inputs.h"

#include <map>
#include <vector>

namespace onyx {

namespace {

const std::map<std::string, std::vector<size_t>>& onnx_host_inputs() {
  static const auto* table = new std::map<std::string, std::vector<size_t>>{
      {"Reshape", {1}},         {"Expand", {1}},          {"Tile", {1}},
      {"ConstantOfShape", {0}}, {"Unsqueeze", {1}},       {"Squeeze", {1}},
      {"Slice", {1, 2, 3, 4}},  {"Pad", {1, 2, 3}},       {"Resize", {1, 2, 3}},
      {"Upsample", {1}},        {"TopK", {1}},            {"Split", {1}},
      {"OneHot", {1}},          {"Range", {0, 1, 2}},     {"CumSum", {1}},
      {"Trilu", {1}},           {"Clip", {1, 2}},         {"Dropout", {1, 2}},
      {"CenterCropPad", {1}},   {"Col2Im", {1, 2}},       {"DFT", {1, 2}},
      {"STFT", {1, 3}},         {"NonMaxSuppression", {2, 3, 4}},
      {"ReduceSum", {1}},       {"ReduceMean", {1}},      {"ReduceMax", {1}},
      {"ReduceMin", {1}},       {"ReduceProd", {1}},      {"ReduceL1", {1}},
      {"ReduceL2", {1}},        {"ReduceLogSum", {1}},    {"ReduceLogSumExp", {1}},
      {"ReduceSumSquare", {1}},
  };
  return *table;
}

}  // namespace

bool is_host_input(const std::string& domain, const std::string& op_type, size_t input) {
  if (!domain.empty()) return false;
  auto it = onnx_host_inputs().find(op_type);
  if (it == onnx_host_inputs().end()) return false;
  for (size_t index : it->second) {
    if (index == input) return true;
  }
  return false;
}

}  // namespace onyx
