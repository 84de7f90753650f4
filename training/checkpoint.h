// Training checkpoints: parameters, optimizer state, step count, hyper-parameter base values and
// RNG state in one file, written atomically (a crash mid-save leaves the previous checkpoint).
// The file is an ONNX ModelProto with no nodes: tensors are initializers ("param/<name>",
// "state/<name>"), scalars are metadata_props ("onyx.checkpoint.format" = format version), so
// onnx.load and Netron can open it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "runtime/tensor/tensor.h"

namespace onyx::training {

inline constexpr int64_t kCheckpointFormatVersion = 1;

struct Checkpoint {
  std::map<std::string, Tensor> parameters;       // every parameter, trainable or frozen
  std::map<std::string, Tensor> optimizer_state;  // "exp_avg/<param>", "momentum_buffer/<param>", ...
  int64_t step = 0;                               // optimizer updates made
  std::map<std::string, double> hyperparameters;  // base values, "<name>/group<g>"
  std::string rng_state;
  // Informative entries checked on resume (optimizer kind, schedules, ...).
  std::map<std::string, std::string> metadata;
};

void save_checkpoint(const Checkpoint& checkpoint, const std::filesystem::path& path);
// Throws naming the file when it is missing, not a checkpoint, or of a newer format version.
Checkpoint load_checkpoint(const std::filesystem::path& path);

// A folder of checkpoints (the CLI's --checkpoint-dir / --resume): "checkpoint-<step>.onnx".
std::filesystem::path checkpoint_path(const std::filesystem::path& dir, int64_t step);
// The checkpoint of the highest step in `dir`; nullopt when there is none (or no folder).
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& dir);
// Deletes all but the `keep` newest checkpoints of `dir` (other files are left alone).
void prune_checkpoints(const std::filesystem::path& dir, size_t keep);

}  // namespace onyx::training
