#include "tools/train_distributed.h"

#include <csignal>
#include <cstdlib>
#include <thread>
#include <vector>

#include "runtime/common/error.h"

namespace onyx::cli {

RankSlice rank_slice(int64_t begin, int64_t end, int rank, int ranks) {
  const int64_t count = end - begin, base = count / ranks, extra = count % ranks;
  const int64_t start = begin + rank * base + std::min<int64_t>(rank, extra);
  return {start, start + base + (rank < extra ? 1 : 0)};
}

int64_t data_parallel_steps_per_epoch(int64_t samples, int64_t batch, int ranks) {
  const int64_t full = samples / batch, tail = samples % batch;
  return full + (tail >= ranks ? 1 : 0);
}

void WeightedSums::add(double batch_loss, const std::map<std::string, double>& batch_metrics, int64_t batch_samples) {
  const double weight = static_cast<double>(batch_samples);
  samples += weight;
  loss += batch_loss * weight;
  for (const auto& [name, value] : batch_metrics) metrics[name] += value * weight;
}

void WeightedSums::reduce(training::distributed::Communicator& communicator) {
  std::vector<double> values{samples, loss};
  for (const auto& [name, value] : metrics) values.push_back(value);
  communicator.all_reduce_sum(values);
  samples = values[0], loss = values[1];
  size_t next = 2;
  for (auto& [name, value] : metrics) value = values[next++];
}

void inject_test_fault(const training::distributed::Communicator& communicator, int64_t step) {
  const char* rank = std::getenv("ONYX_TEST_FAIL_RANK");
  const char* at_step = std::getenv("ONYX_TEST_FAIL_AT_STEP");
  if (rank == nullptr || at_step == nullptr || std::atoi(rank) != communicator.rank() || std::atoll(at_step) != step) {
    return;
  }
  const char* mode_text = std::getenv("ONYX_TEST_FAIL_MODE");
  const std::string mode = mode_text ? mode_text : "throw";
  if (mode == "kill") std::raise(SIGKILL);
  if (mode == "hang") {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  throw_error(ErrorCode::kRuntimeFailure, "step ", step, ": injected failure (ONYX_TEST_FAIL_RANK)");
}

}  // namespace onyx::cli
