#include "tools/train_distributed.h"

#include <csignal>
#include <cstdlib>
#include <cstring>
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

namespace {

using training::distributed::Communicator;
using training::distributed::PendingReduction;

std::string test_fault_mode() {
  const char* mode = std::getenv("ONYX_TEST_FAIL_MODE");
  return mode ? mode : "throw";
}

constexpr const char* kInBackward = "-in-backward";

bool is_in_backward(const std::string& mode) {
  return mode.size() > std::strlen(kInBackward) && mode.ends_with(kInBackward);
}

void fail(const std::string& mode, int64_t step, const char* where) {
  if (mode.starts_with("kill")) std::raise(SIGKILL);
  if (mode.starts_with("hang")) {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  throw_error(ErrorCode::kRuntimeFailure, "step ", step, ": injected failure", where, " (ONYX_TEST_FAIL_RANK)");
}

// Forwards everything to the world's communicator; once armed, fails at the next progress()
// call, which the training session makes only between backward nodes with buckets in flight.
class FaultInBackward final : public Communicator {
 public:
  FaultInBackward(std::shared_ptr<Communicator> world, std::string mode) : world_(std::move(world)), mode_(std::move(mode)) {}
  int rank() const override { return world_->rank(); }
  int size() const override { return world_->size(); }
  std::string backend() const override { return world_->backend(); }
  std::unique_ptr<PendingReduction> start_all_reduce_sum(void* data, size_t count, DataType type) override {
    count_all_reduce(count, type);
    return world_->start_all_reduce_sum(data, count, type);
  }
  void progress() override {
    if (armed_step_ > 0) fail(mode_, armed_step_, " in the backward pass");
    world_->progress();
  }
  void broadcast(void* data, size_t bytes, int root) override { world_->broadcast(data, bytes, root); }
  [[noreturn]] void abort(const std::string& message) override { world_->abort(message); }
  void arm(int64_t step) const { armed_step_ = step; }

 private:
  std::shared_ptr<Communicator> world_;
  std::string mode_;
  mutable int64_t armed_step_ = 0;
};

}  // namespace

void inject_test_fault(const training::distributed::Communicator& communicator, int64_t step) {
  const char* rank = std::getenv("ONYX_TEST_FAIL_RANK");
  const char* at_step = std::getenv("ONYX_TEST_FAIL_AT_STEP");
  if (rank == nullptr || at_step == nullptr || std::atoi(rank) != communicator.rank() || std::atoll(at_step) != step) {
    return;
  }
  const std::string mode = test_fault_mode();
  if (!is_in_backward(mode)) fail(mode, step, "");
  const auto* wrapped = dynamic_cast<const FaultInBackward*>(&communicator);
  ONYX_CHECK(wrapped != nullptr, ErrorCode::kInvalidArgument, "ONYX_TEST_FAIL_MODE=", mode,
             " needs the communicator from with_test_faults");
  wrapped->arm(step);
}

std::shared_ptr<Communicator> with_test_faults(std::shared_ptr<Communicator> world) {
  if (std::getenv("ONYX_TEST_FAIL_RANK") == nullptr || !is_in_backward(test_fault_mode())) return world;
  return std::make_shared<FaultInBackward>(std::move(world), test_fault_mode());
}

}  // namespace onyx::cli
