#include "tools/train_log.h"

#include <cmath>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/common/error.h"

namespace onyx::cli {

namespace {
std::string number(double value) {
  if (!std::isfinite(value)) return "null";
  std::ostringstream text;
  text.precision(10);
  text << value;
  return text.str();
}
}  // namespace

TrainLog::TrainLog(const std::string& path) : path_(path) {
  if (path_.empty()) return;
  csv_ = std::filesystem::path(path_).extension() == ".csv";
  // Appending to an existing CSV log (a resumed run) must not repeat its header.
  header_written_ = std::filesystem::exists(path_) && std::filesystem::file_size(path_) > 0;
  std::ofstream probe(path_, std::ios::app);
  ONYX_CHECK(probe.good(), ErrorCode::kInvalidArgument, "cannot write the log ", path_);
}

void TrainLog::write(const std::vector<std::pair<std::string, double>>& row) {
  if (path_.empty()) return;
  std::ofstream out(path_, std::ios::app);
  ONYX_CHECK(out.good(), ErrorCode::kRuntimeFailure, "cannot write the log ", path_);
  if (csv_) {
    if (!header_written_) {
      for (size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << row[i].first;
      out << "\n";
      header_written_ = true;
    }
    for (size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << (std::isfinite(row[i].second) ? number(row[i].second) : "");
    out << "\n";
  } else {
    // nlohmann escapes the keys and writes doubles that read back exactly; JSON has no NaN.
    nlohmann::ordered_json line = nlohmann::ordered_json::object();
    for (const auto& [name, value] : row) {
      if (std::isfinite(value)) line[name] = value;
      else line[name] = nullptr;
    }
    out << line.dump() << "\n";
  }
  out.flush();
}

}  // namespace onyx::cli
