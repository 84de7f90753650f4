// TensorBoard event files: `onyx train --tensorboard DIR`, TrainingOptions::tensorboard_dir.
// The file is what TensorFlow's summary writer produces, so TensorBoard (and any reader of the
// format) shows the curves: TFRecord framing (uint64 length, masked CRC-32C of the length, the
// record, masked CRC-32C of the record), each record an `Event` protobuf (wall_time, step and
// either file_version "brain.Event:2", first, or a Summary of simple_value scalars). The few
// protobuf fields are encoded here by hand rather than through a generated class.
//
// Each record is written and flushed as it comes: an event file is append-only, so a crash
// leaves every record before it readable (at most the last one cut short, which readers skip).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace onyx::training {

// CRC-32C (Castagnoli) of `bytes`, as TFRecord uses it before masking.
uint32_t crc32c(std::string_view bytes);

class TensorBoardWriter {
 public:
  // Creates `folder` when missing and a new file in it, events.out.tfevents.<seconds>.<host>,
  // starting with the file_version event. Throws an onyx::Error naming the folder when it
  // cannot be created or written.
  explicit TensorBoardWriter(const std::filesystem::path& folder);
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  // One event at `step` holding one scalar per (tag, value).
  void write_scalars(const std::vector<std::pair<std::string, double>>& scalars, int64_t step);
  void write_scalar(const std::string& tag, double value, int64_t step) { write_scalars({{tag, value}}, step); }

  const std::filesystem::path& path() const { return path_; }

 private:
  void write_record(const std::string& event);

  std::filesystem::path path_;
  std::ofstream file_;
};

}  // namespace onyx::training
