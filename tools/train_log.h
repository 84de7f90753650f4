// The machine-readable log of `onyx train --log FILE`: one row per epoch, CSV (FILE.csv, with a
// header row) or JSON lines (any other name). Rows are appended and flushed as each epoch ends,
// so a resumed run continues the same file and an interrupted one keeps its finished epochs.
#pragma once

#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace onyx::cli {

class TrainLog {
 public:
  // Empty path: no log.
  explicit TrainLog(const std::string& path);
  // Fields in order: (name, value); numbers as written by the caller.
  void write(const std::vector<std::pair<std::string, double>>& row);

 private:
  std::string path_;
  bool csv_ = false;
  bool header_written_ = false;
};

}  // namespace onyx::cli
