// Training checkpoints: parameters, optimizer state, step count, hyper-parameter base values and
// RNG state in one file, written atomically (a crash mid-save leaves the previous checkpoint).
// The payload is an ONNX ModelProto with no nodes: tensors are initializers ("param/<name>",
// "state/<name>"), scalars are metadata_props ("onyx.checkpoint.format" = format version). Format
// 2 puts a checksummed header in front (checkpoint_file.h); the file is still a ModelProto, so
// onnx.load and Netron can open it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/tensor/tensor.h"
#include "training/checkpoint_file.h"

namespace onyx::training {

inline constexpr int64_t kCheckpointFormatVersion = 2;  // 1: no header (still read, unchecked)

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
// Throws CheckpointDamaged ("checkpoint FILE is damaged: ...") when the file is empty, truncated,
// changed after writing or not a checkpoint, before parsing its payload; other errors name the
// file when it is missing or of a newer format version.
Checkpoint load_checkpoint(const std::filesystem::path& path);

// A folder of checkpoints (the CLI's --checkpoint-dir / --resume): "checkpoint-<step>.onnx".
std::filesystem::path checkpoint_path(const std::filesystem::path& dir, int64_t step);
// The checkpoint of the highest step in `dir`; nullopt when there is none (or no folder).
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& dir);
// Every checkpoint of `dir`, newest (highest step) first.
std::vector<std::filesystem::path> checkpoints_newest_first(const std::filesystem::path& dir);
// Deletes all but the `keep` newest checkpoints of `dir`, and the temporary files that writes
// killed before their rename left behind ("checkpoint-<step>.onnx.tmp*"; call it only after this
// process's own write has finished). Other files are left alone.
void prune_checkpoints(const std::filesystem::path& dir, size_t keep);

// --resume: calls `load` on the checkpoints of `dir`, newest first, until one does not throw
// CheckpointDamaged. Returns the one loaded and the messages of the damaged newer ones skipped;
// nullopt when `dir` holds no checkpoint. When every one is damaged, throws an Error with the
// newest's message and how many older ones were damaged too. Other errors propagate at once:
// a checkpoint of another model is a mistake to report, not damage to skip.
struct ResumedCheckpoint {
  std::filesystem::path path;
  std::vector<std::string> skipped;
};
std::optional<ResumedCheckpoint> load_newest_intact_checkpoint(
    const std::filesystem::path& dir, const std::function<void(const std::filesystem::path&)>& load);

}  // namespace onyx::training
