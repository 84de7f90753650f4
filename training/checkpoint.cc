#include "training/checkpoint.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <vector>

#include "onnx/onnx-ml.pb.h"
#include "runtime/common/error.h"
#include "runtime/ir/model_loader.h"
#include "runtime/ir/model_saver.h"
#include "runtime/ir/tensor_proto.h"

namespace onyx::training {

namespace {

constexpr const char* kProducer = "onyx-checkpoint";
constexpr const char* kFormatKey = "onyx.checkpoint.format";
constexpr const char* kStepKey = "onyx.step";
constexpr const char* kRngKey = "onyx.rng_state";
constexpr const char* kHyperparameterPrefix = "onyx.hyperparameter.";
constexpr const char* kMetadataPrefix = "onyx.meta.";
constexpr const char* kParameterPrefix = "param/";
constexpr const char* kStatePrefix = "state/";

// Shortest text that reads back to the same double (bit-exact resume needs exact values).
std::string exact_text(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

template <typename T>
T parse_number(const std::string& text, const std::string& key, const std::filesystem::path& path) {
  T value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  ONYX_CHECK(error == std::errc() && end == text.data() + text.size(), ErrorCode::kInvalidArgument, "checkpoint ",
             path, ": '", key, "' is not a number: '", text, "'");
  return value;
}

bool starts_with(const std::string& text, const char* prefix, std::string* rest) {
  const std::string_view p(prefix);
  if (text.compare(0, p.size(), p) != 0) return false;
  *rest = text.substr(p.size());
  return true;
}

}  // namespace

void save_checkpoint(const Checkpoint& checkpoint, const std::filesystem::path& path) {
  onnx::ModelProto proto;
  proto.set_ir_version(8);
  proto.set_producer_name(kProducer);
  auto add_entry = [&](const std::string& key, const std::string& value) {
    auto* entry = proto.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  };
  add_entry(kFormatKey, std::to_string(kCheckpointFormatVersion));
  add_entry(kStepKey, std::to_string(checkpoint.step));
  add_entry(kRngKey, checkpoint.rng_state);
  for (const auto& [name, value] : checkpoint.hyperparameters) add_entry(kHyperparameterPrefix + name, exact_text(value));
  for (const auto& [key, value] : checkpoint.metadata) add_entry(kMetadataPrefix + key, value);
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("checkpoint");
  for (const auto& [name, tensor] : checkpoint.parameters) tensor_to_proto(tensor, kParameterPrefix + name, graph->add_initializer());
  for (const auto& [name, tensor] : checkpoint.optimizer_state) tensor_to_proto(tensor, kStatePrefix + name, graph->add_initializer());
  std::string bytes;
  ONYX_CHECK(proto.SerializeToString(&bytes), ErrorCode::kRuntimeFailure, "checkpoint ", path,
             ": cannot serialize (protobuf files are limited to 2 GiB)");
  write_file_atomically(path, bytes);
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const std::string bytes = read_file_bytes(path);
  onnx::ModelProto proto;
  ONYX_CHECK(proto.ParseFromString(bytes) && proto.producer_name() == kProducer, ErrorCode::kInvalidArgument,
             "checkpoint ", path, " is not an onyx checkpoint");
  Checkpoint checkpoint;
  bool has_format = false;
  for (const auto& entry : proto.metadata_props()) {
    std::string rest;
    if (entry.key() == kFormatKey) {
      const auto version = parse_number<int64_t>(entry.value(), entry.key(), path);
      ONYX_CHECK(version >= 1 && version <= kCheckpointFormatVersion, ErrorCode::kInvalidArgument, "checkpoint ", path,
                 " has format version ", version, "; this onyx reads versions 1 to ", kCheckpointFormatVersion);
      has_format = true;
    } else if (entry.key() == kStepKey) {
      checkpoint.step = parse_number<int64_t>(entry.value(), entry.key(), path);
    } else if (entry.key() == kRngKey) {
      checkpoint.rng_state = entry.value();
    } else if (starts_with(entry.key(), kHyperparameterPrefix, &rest)) {
      checkpoint.hyperparameters[rest] = parse_number<double>(entry.value(), entry.key(), path);
    } else if (starts_with(entry.key(), kMetadataPrefix, &rest)) {
      checkpoint.metadata[rest] = entry.value();
    }
  }
  ONYX_CHECK(has_format, ErrorCode::kInvalidArgument, "checkpoint ", path, " has no format version");
  for (const auto& initializer : proto.graph().initializer()) {
    std::string rest;
    if (starts_with(initializer.name(), kParameterPrefix, &rest)) {
      checkpoint.parameters[rest] = tensor_from_proto(initializer, {});
    } else if (starts_with(initializer.name(), kStatePrefix, &rest)) {
      checkpoint.optimizer_state[rest] = tensor_from_proto(initializer, {});
    } else {
      throw_error(ErrorCode::kInvalidArgument, "checkpoint ", path, ": unexpected tensor '", initializer.name(), "'");
    }
  }
  return checkpoint;
}

namespace {

// Step of "checkpoint-<digits>.onnx"; nullopt for any other name (temporary files included).
std::optional<int64_t> step_of_checkpoint_name(const std::string& name) {
  constexpr std::string_view prefix = "checkpoint-", suffix = ".onnx";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix)) {
    return std::nullopt;
  }
  const std::string_view digits(name.data() + prefix.size(), name.size() - prefix.size() - suffix.size());
  int64_t step = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return step;
}

// (step, path) of every checkpoint in `dir`, oldest first.
std::vector<std::pair<int64_t, std::filesystem::path>> checkpoints_in(const std::filesystem::path& dir) {
  std::vector<std::pair<int64_t, std::filesystem::path>> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (auto step = step_of_checkpoint_name(entry.path().filename().string())) found.emplace_back(*step, entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& dir, int64_t step) {
  return dir / ("checkpoint-" + std::to_string(step) + ".onnx");
}

std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& dir) {
  auto found = checkpoints_in(dir);
  if (found.empty()) return std::nullopt;
  return found.back().second;
}

void prune_checkpoints(const std::filesystem::path& dir, size_t keep) {
  auto found = checkpoints_in(dir);
  for (size_t i = 0; i + keep < found.size(); ++i) std::filesystem::remove(found[i].second);
}

}  // namespace onyx::training
