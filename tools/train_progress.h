// What `onyx train` shows while it trains: a progress bar per epoch (loss, metric, samples/s)
// redrawn in place when stderr is a terminal, else a plain line on stdout every tenth of the
// epoch, so logs and pipes get readable lines and no carriage returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace onyx::cli {

enum class ProgressStyle { kBar, kLines, kNone };
// "auto" (bar on a terminal, else lines), "bar", "lines", "none".
ProgressStyle parse_progress_style(const std::string& name);

class EpochProgress {
 public:
  EpochProgress(ProgressStyle style, int64_t epoch, int64_t epochs, int64_t steps, int64_t first_step);
  // After each step: the running mean loss, the running metric (name empty when none).
  void update(int64_t step, int64_t samples, double mean_loss, const std::string& metric_name,
              std::optional<double> metric);
  // Clears the bar before the epoch's summary line.
  void finish();
  double seconds() const;
  int64_t samples() const { return samples_; }

 private:
  std::string describe(int64_t step, double mean_loss, const std::string& metric_name,
                       std::optional<double> metric) const;

  ProgressStyle style_;
  int64_t epoch_, epochs_, steps_, first_step_;
  int64_t samples_ = 0;
  int64_t next_line_step_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace onyx::cli
