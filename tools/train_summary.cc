#include "tools/train_summary.h"

#include <algorithm>
#include <cstdio>

namespace onyx::cli {

namespace {

// The per-epoch columns worth reading at a glance; step and seconds stay in the log.
bool shown_in_summary(const std::string& column) { return column != "step" && column != "seconds"; }

std::string summary_cell(const std::string& column, double value) {
  char text[32];
  if (column == "epoch") std::snprintf(text, sizeof(text), "%.0f", value);
  else if (column == "samples_per_s") std::snprintf(text, sizeof(text), "%.0f", value);
  else if (column == "lr") std::snprintf(text, sizeof(text), "%.3g", value);
  else std::snprintf(text, sizeof(text), "%.4f", value);
  return text;
}

}  // namespace

void print_train_summary(std::ostream& out, const std::vector<EpochRow>& epochs, const TrainOutputs& outputs) {
  if (!epochs.empty()) {
    std::vector<std::string> columns;
    for (const auto& [column, value] : epochs.front()) {
      if (shown_in_summary(column)) columns.push_back(column);
    }
    std::vector<size_t> widths;
    for (const std::string& column : columns) widths.push_back(std::max<size_t>(column.size(), 8));
    out << "summary:\n";
    for (size_t c = 0; c < columns.size(); ++c) {
      out << (c ? "  " : "  ") << std::string(widths[c] - columns[c].size(), ' ') << columns[c];
    }
    out << "\n";
    for (const EpochRow& row : epochs) {
      for (size_t c = 0; c < columns.size(); ++c) {
        std::string cell = "-";
        for (const auto& [column, value] : row) {
          if (column == columns[c]) cell = summary_cell(column, value);
        }
        out << "  " << std::string(widths[c] > cell.size() ? widths[c] - cell.size() : 0, ' ') << cell;
      }
      out << "\n";
    }
  }
  out << "model: " << outputs.model << "\n";
  if (!outputs.log.empty()) out << "log: " << outputs.log << "\n";
  if (!outputs.tensorboard.empty()) out << "tensorboard events: " << outputs.tensorboard << "\n";
  if (!outputs.checkpoints.empty()) out << "checkpoints: " << outputs.checkpoints << "\n";
  out.flush();
}

}  // namespace onyx::cli
