#include "training/checkpoint.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <vector>

#include "onnx/onnx-ml.pb.h"
#include "runtime/common/atomic_file.h"
#include "runtime/common/error.h"
#include "runtime/ir/model_loader.h"
#include "runtime/ir/tensor_proto.h"
#include "training/checkpoint_file.h"

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
  std::string payload;
  ONYX_CHECK(proto.SerializeToString(&payload), ErrorCode::kRuntimeFailure, "checkpoint ", path,
             ": cannot serialize (protobuf files are limited to 2 GiB)");
  write_file_atomically(path, wrap_checkpoint_payload(payload, kCheckpointFormatVersion));
}

namespace {

// The format version a payload's metadata states; 0 when it states none.
int64_t stated_format(const onnx::ModelProto& proto) {
  for (const auto& entry : proto.metadata_props()) {
    if (entry.key() != kFormatKey) continue;
    int64_t version = 0;
    std::from_chars(entry.value().data(), entry.value().data() + entry.value().size(), version);
    return version;
  }
  return 0;
}

// The checked payload of the file at `path` as a ModelProto. Format 1 files (no header, so no
// checksum) still load; anything else without the header is damage.
onnx::ModelProto read_checkpoint_proto(const std::filesystem::path& path) {
  const std::string bytes = read_file_bytes(path);
  if (bytes.empty()) throw CheckpointDamaged(path, "the file is empty");
  const UnwrappedCheckpoint file = unwrap_checkpoint_file(bytes, path);
  onnx::ModelProto proto;
  const bool parsed = proto.ParseFromArray(file.payload.data(), static_cast<int>(file.payload.size()));
  if (!file.has_header) {
    if (parsed && proto.producer_name() == kProducer && stated_format(proto) == 1) return proto;
    throw CheckpointDamaged(path, "it does not start with the onyx checkpoint header (not a checkpoint, or its first " +
                                      std::to_string(checkpoint_header_size()) + " bytes are overwritten)");
  }
  ONYX_CHECK(file.version >= 1 && file.version <= kCheckpointFormatVersion, ErrorCode::kInvalidArgument, "checkpoint ",
             path, " has format version ", file.version, "; this onyx reads versions 1 to ", kCheckpointFormatVersion);
  // The checksum matched, so an unparsable payload was written wrong, which is damage all the same.
  if (!parsed || proto.producer_name() != kProducer) throw CheckpointDamaged(path, "its payload is not a checkpoint");
  return proto;
}

}  // namespace

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const onnx::ModelProto proto = read_checkpoint_proto(path);
  Checkpoint checkpoint;
  bool has_format = false;
  for (const auto& entry : proto.metadata_props()) {
    std::string rest;
    if (entry.key() == kFormatKey) {
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

std::vector<std::filesystem::path> checkpoints_newest_first(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  for (auto& [step, path] : checkpoints_in(dir)) paths.push_back(path);
  std::reverse(paths.begin(), paths.end());
  return paths;
}

void prune_checkpoints(const std::filesystem::path& dir, size_t keep) {
  auto found = checkpoints_in(dir);
  for (size_t i = 0; i + keep < found.size(); ++i) std::filesystem::remove(found[i].second);
  std::error_code error;
  std::vector<std::filesystem::path> stale;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    const size_t tmp = name.find(".onnx.tmp");
    if (tmp != std::string::npos && step_of_checkpoint_name(name.substr(0, tmp + 5))) stale.push_back(entry.path());
  }
  for (const auto& path : stale) std::filesystem::remove(path, error);
}

std::optional<ResumedCheckpoint> load_newest_intact_checkpoint(
    const std::filesystem::path& dir, const std::function<void(const std::filesystem::path&)>& load) {
  const std::vector<std::filesystem::path> candidates = checkpoints_newest_first(dir);
  if (candidates.empty()) return std::nullopt;
  ResumedCheckpoint resumed;
  for (const auto& path : candidates) {
    try {
      load(path);
      resumed.path = path;
      return resumed;
    } catch (const CheckpointDamaged& damaged) {
      resumed.skipped.push_back(damaged.what());
    }
  }
  std::string newest = resumed.skipped.front();
  if (candidates.size() > 1) {
    newest += "; the " + std::to_string(candidates.size() - 1) + " older checkpoint" +
              (candidates.size() > 2 ? "s" : "") + " in " + dir.string() + (candidates.size() > 2 ? " are" : " is") +
              " damaged too";
  }
  throw Error(ErrorCode::kInvalidArgument, newest);
}

}  // namespace onyx::training
