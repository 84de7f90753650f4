#include "training/schedules.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>
#include <sstream>

#include "runtime/common/error.h"

namespace onyx::training {

namespace {

class StepSchedule final : public Schedule {
 public:
  StepSchedule(int64_t step_size, double gamma) : step_size_(step_size), gamma_(gamma) {
    ONYX_CHECK(step_size > 0, ErrorCode::kInvalidArgument, "step schedule: step_size must be positive, got ", step_size);
  }
  double value(int64_t step, double base) const override {
    return base * std::pow(gamma_, static_cast<double>(step / step_size_));
  }
  std::string describe() const override {
    return ::onyx::detail::concat("step(step_size=", step_size_, ", gamma=", gamma_, ")");
  }

 private:
  int64_t step_size_;
  double gamma_;
};

class CosineSchedule final : public Schedule {
 public:
  CosineSchedule(int64_t total_steps, double min_value) : total_steps_(total_steps), min_value_(min_value) {
    ONYX_CHECK(total_steps > 0, ErrorCode::kInvalidArgument, "cosine schedule: total_steps must be positive, got ",
               total_steps);
  }
  double value(int64_t step, double base) const override {
    // No clamp at total_steps: past it the value rises again, as torch's CosineAnnealingLR does.
    const double progress = static_cast<double>(step) / static_cast<double>(total_steps_);
    return min_value_ + (base - min_value_) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
  }
  std::string describe() const override {
    return ::onyx::detail::concat("cosine(total_steps=", total_steps_, ", min_value=", min_value_, ")");
  }

 private:
  int64_t total_steps_;
  double min_value_;
};

class LinearSchedule final : public Schedule {
 public:
  LinearSchedule(double start, double end, int64_t steps) : start_(start), end_(end), steps_(steps) {
    ONYX_CHECK(steps > 0, ErrorCode::kInvalidArgument, "linear schedule: steps must be positive, got ", steps);
  }
  double value(int64_t step, double base) const override {
    const double progress = static_cast<double>(std::min(step, steps_)) / static_cast<double>(steps_);
    return base * (start_ + (end_ - start_) * progress);
  }
  std::string describe() const override {
    return ::onyx::detail::concat("linear(start_factor=", start_, ", end_factor=", end_, ", steps=", steps_, ")");
  }

 private:
  double start_, end_;
  int64_t steps_;
};

class SequentialSchedule final : public Schedule {
 public:
  SequentialSchedule(std::vector<std::shared_ptr<Schedule>> schedules, std::vector<int64_t> milestones)
      : schedules_(std::move(schedules)), milestones_(std::move(milestones)) {
    ONYX_CHECK(!schedules_.empty() && milestones_.size() + 1 == schedules_.size(), ErrorCode::kInvalidArgument,
               "sequential schedule: needs one milestone fewer than schedules (", schedules_.size(), " schedules, ",
               milestones_.size(), " milestones)");
    ONYX_CHECK(std::is_sorted(milestones_.begin(), milestones_.end()), ErrorCode::kInvalidArgument,
               "sequential schedule: milestones must be increasing");
    for (const auto& schedule : schedules_) {
      ONYX_CHECK(schedule != nullptr, ErrorCode::kInvalidArgument, "sequential schedule: null schedule");
    }
  }
  double value(int64_t step, double base) const override {
    size_t index = 0;
    int64_t start = 0;
    while (index < milestones_.size() && step >= milestones_[index]) start = milestones_[index++];
    return schedules_[index]->value(step - start, base);
  }
  std::string describe() const override {
    std::ostringstream out;
    out << "sequential(";
    for (size_t i = 0; i < schedules_.size(); ++i) {
      if (i) out << ", until " << milestones_[i - 1] << ", then ";
      out << schedules_[i]->describe();
    }
    out << ")";
    return out.str();
  }

 private:
  std::vector<std::shared_ptr<Schedule>> schedules_;
  std::vector<int64_t> milestones_;
};

}  // namespace

std::shared_ptr<Schedule> step_schedule(int64_t step_size, double gamma) {
  return std::make_shared<StepSchedule>(step_size, gamma);
}
std::shared_ptr<Schedule> cosine_schedule(int64_t total_steps, double min_value) {
  return std::make_shared<CosineSchedule>(total_steps, min_value);
}
std::shared_ptr<Schedule> linear_schedule(double start_factor, double end_factor, int64_t steps) {
  return std::make_shared<LinearSchedule>(start_factor, end_factor, steps);
}
std::shared_ptr<Schedule> linear_warmup(int64_t warmup_steps, double start_factor) {
  return linear_schedule(start_factor, 1.0, warmup_steps);
}
std::shared_ptr<Schedule> sequential_schedule(std::vector<std::shared_ptr<Schedule>> schedules,
                                              std::vector<int64_t> milestones) {
  return std::make_shared<SequentialSchedule>(std::move(schedules), std::move(milestones));
}

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t end; (end = text.find(separator, start)) != std::string_view::npos; start = end + 1) {
    parts.push_back(text.substr(start, end - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

template <typename T>
T parse_field(std::string_view field, std::string_view spec) {
  T value{};
  auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  ONYX_CHECK(error == std::errc() && end == field.data() + field.size() && !field.empty(),
             ErrorCode::kInvalidArgument, "schedule '", spec, "': '", field, "' is not a number");
  return value;
}

// One schedule and how many steps it lasts (0: for ever, so nothing may follow it).
std::pair<std::shared_ptr<Schedule>, int64_t> parse_one(std::string_view part, std::string_view spec) {
  std::vector<std::string_view> fields = split(part, ':');
  const std::string_view kind = fields.front();
  auto arity = [&](size_t low, size_t high) {
    ONYX_CHECK(fields.size() - 1 >= low && fields.size() - 1 <= high, ErrorCode::kInvalidArgument, "schedule '", spec,
               "': '", kind, "' takes ", low == high ? "" : "from ", low, high == low ? "" : " to ",
               high == low ? "" : std::to_string(high), " values");
  };
  if (kind == "step") {
    arity(2, 2);
    return {step_schedule(parse_field<int64_t>(fields[1], spec), parse_field<double>(fields[2], spec)), 0};
  }
  if (kind == "cosine") {
    arity(1, 2);
    const auto total = parse_field<int64_t>(fields[1], spec);
    return {cosine_schedule(total, fields.size() > 2 ? parse_field<double>(fields[2], spec) : 0.0), total};
  }
  if (kind == "linear") {
    arity(3, 3);
    const auto steps = parse_field<int64_t>(fields[3], spec);
    return {linear_schedule(parse_field<double>(fields[1], spec), parse_field<double>(fields[2], spec), steps), steps};
  }
  if (kind == "warmup") {
    arity(1, 2);
    const auto steps = parse_field<int64_t>(fields[1], spec);
    return {linear_warmup(steps, fields.size() > 2 ? parse_field<double>(fields[2], spec) : 0.0), steps};
  }
  throw_error(ErrorCode::kInvalidArgument, "schedule '", spec, "': unknown schedule '", kind,
              "' (expected step, cosine, linear or warmup)");
}

}  // namespace

std::shared_ptr<Schedule> parse_schedule(std::string_view spec) {
  std::vector<std::shared_ptr<Schedule>> schedules;
  std::vector<int64_t> milestones;
  int64_t position = 0;
  for (std::string_view part : split(spec, ',')) {
    if (!schedules.empty()) {
      ONYX_CHECK(position > 0, ErrorCode::kInvalidArgument, "schedule '", spec,
                 "': a 'step' schedule lasts for ever, so it must come last");
      milestones.push_back(position);
    }
    auto [schedule, length] = parse_one(part, spec);
    schedules.push_back(schedule);
    position = length == 0 ? 0 : position + length;
  }
  return schedules.size() == 1 ? schedules.front() : sequential_schedule(std::move(schedules), std::move(milestones));
}

}  // namespace onyx::training
