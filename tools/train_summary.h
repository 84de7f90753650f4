// The table `onyx train` prints when it is done: one row per epoch it trained (train loss,
// validation loss and metrics, learning rate, samples/s, the columns of its --log rows), then
// where the model and the logs went.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace onyx::cli {

using EpochRow = std::vector<std::pair<std::string, double>>;

struct TrainOutputs {
  std::string model;
  std::string log;          // --log FILE ("" without)
  std::string tensorboard;  // the event file ("" without)
  std::string checkpoints;  // --checkpoint-dir ("" without)
};

void print_train_summary(std::ostream& out, const std::vector<EpochRow>& epochs, const TrainOutputs& outputs);

}  // namespace onyx::cli
