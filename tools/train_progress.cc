#include "tools/train_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "runtime/common/error.h"

namespace onyx::cli {

ProgressStyle parse_progress_style(const std::string& name) {
  if (name == "bar") return ProgressStyle::kBar;
  if (name == "lines") return ProgressStyle::kLines;
  if (name == "none") return ProgressStyle::kNone;
  ONYX_CHECK(name == "auto", ErrorCode::kInvalidArgument, "unknown --progress '", name,
             "' (expected auto, bar, lines or none)");
  return isatty(STDERR_FILENO) ? ProgressStyle::kBar : ProgressStyle::kLines;
}

EpochProgress::EpochProgress(ProgressStyle style, int64_t epoch, int64_t epochs, int64_t steps, int64_t first_step)
    : style_(style), epoch_(epoch), epochs_(epochs), steps_(steps), first_step_(first_step),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  const int64_t tenth = std::max<int64_t>(1, steps_ / 10);
  next_line_step_ = (first_step_ / tenth + 1) * tenth;
}

double EpochProgress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string EpochProgress::describe(int64_t step, double mean_loss, const std::string& metric_name,
                                    std::optional<double> metric) const {
  std::ostringstream text;
  text.setf(std::ios::fixed);
  text.precision(4);
  text << "epoch " << epoch_ + 1 << "/" << epochs_ << " step " << step << "/" << steps_ << " loss " << mean_loss;
  if (!metric_name.empty() && metric) text << " " << metric_name << " " << *metric;
  text.precision(0);
  const double elapsed = seconds();
  text << " " << (elapsed > 0 ? static_cast<double>(samples_) / elapsed : 0.0) << " samples/s";
  return text.str();
}

void EpochProgress::update(int64_t step, int64_t samples, double mean_loss, const std::string& metric_name,
                           std::optional<double> metric) {
  samples_ += samples;
  if (style_ == ProgressStyle::kNone) return;
  if (style_ == ProgressStyle::kLines) {
    if (step >= next_line_step_ || step == steps_) {
      std::cout << describe(step, mean_loss, metric_name, metric) << std::endl;
      const int64_t tenth = std::max<int64_t>(1, steps_ / 10);
      next_line_step_ = (step / tenth + 1) * tenth;
    }
    return;
  }
  // A bar redrawn at most ten times a second.
  const auto now = std::chrono::steady_clock::now();
  if (step != steps_ && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * step / std::max<int64_t>(1, steps_));
  std::string bar = "[" + std::string(filled, '=') + std::string(kWidth - filled, ' ') + "] ";
  std::cerr << "\r\033[K" << bar << describe(step, mean_loss, metric_name, metric) << std::flush;
}

void EpochProgress::finish() {
  if (style_ == ProgressStyle::kBar && drawn_) std::cerr << "\r\033[K" << std::flush;
}

}  // namespace onyx::cli
