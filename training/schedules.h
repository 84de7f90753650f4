// Hyper-parameter schedules: closed-form functions of the optimizer step, so a schedule has no
// state beyond the step count and a base value (a checkpoint restores both). Any optimizer
// hyper-parameter can follow one (the learning rate, momentum, weight decay, betas, ...).
// Each matches the PyTorch scheduler of the same meaning.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace onyx::training {

class Schedule {
 public:
  virtual ~Schedule() = default;
  // The value for the optimizer step with 0-based index `step` (the number of steps already
  // taken), given the hyper-parameter's base value.
  virtual double value(int64_t step, double base) const = 0;
  // "cosine(total_steps=100, min_value=0)": stored in checkpoints to tell schedules apart.
  virtual std::string describe() const = 0;
};

// base * gamma^(step / step_size)  (torch.optim.lr_scheduler.StepLR).
std::shared_ptr<Schedule> step_schedule(int64_t step_size, double gamma);
// min + (base - min) (1 + cos(pi step / total)) / 2  (CosineAnnealingLR's closed form; like it,
// the value climbs back after total_steps, so set total_steps to the length of training).
std::shared_ptr<Schedule> cosine_schedule(int64_t total_steps, double min_value = 0.0);
// base * (start + (end - start) min(step, steps) / steps)  (LinearLR: warmup when start < end).
std::shared_ptr<Schedule> linear_schedule(double start_factor, double end_factor, int64_t steps);
std::shared_ptr<Schedule> linear_warmup(int64_t warmup_steps, double start_factor = 0.0);
// Runs schedules[0] until milestones[0], then schedules[1] with its step counted from the
// milestone, and so on (SequentialLR: e.g. linear warmup followed by cosine decay).
std::shared_ptr<Schedule> sequential_schedule(std::vector<std::shared_ptr<Schedule>> schedules,
                                              std::vector<int64_t> milestones);

// Parses the CLI's schedule syntax: "step:STEP_SIZE:GAMMA", "cosine:TOTAL_STEPS[:MIN_VALUE]",
// "linear:START_FACTOR:END_FACTOR:STEPS", "warmup:STEPS[:START_FACTOR]", or several joined by
// commas, each starting when the previous one's steps are over ("warmup:100,cosine:900").
std::shared_ptr<Schedule> parse_schedule(std::string_view spec);

}  // namespace onyx::training
