// How `onyx train` divides its work when mpirun starts it several times: each global batch
// split into contiguous per-rank slices (the ranks' slices of an epoch are disjoint and cover
// it, in the seeded order every rank computes alike), validation sharded and its sums reduced,
// and the test hook that makes one rank fail at a given step.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "training/distributed/communicator.h"

namespace onyx::cli {

struct RankSlice {
  int64_t begin = 0, end = 0;
};

// Rank `rank`'s part of [begin, end): contiguous, the first (end - begin) % ranks ranks one
// sample more than the others.
RankSlice rank_slice(int64_t begin, int64_t end, int rank, int ranks);

// Steps per epoch for `samples` in global batches of `batch`. A last batch with fewer samples
// than ranks would leave a rank without any: it is dropped (a single process never drops one).
int64_t data_parallel_steps_per_epoch(int64_t samples, int64_t batch, int ranks);

// Sample-weighted sums of a loss and metrics over batches, summed over ranks by reduce().
struct WeightedSums {
  double samples = 0, loss = 0;
  std::map<std::string, double> metrics;

  void add(double batch_loss, const std::map<std::string, double>& batch_metrics, int64_t batch_samples);
  // Every rank calls it with the same metric names; afterwards every rank holds the totals.
  void reduce(training::distributed::Communicator& communicator);
};

// Test hook: ONYX_TEST_FAIL_RANK=R ONYX_TEST_FAIL_AT_STEP=K [ONYX_TEST_FAIL_MODE=throw|kill|hang]
// makes rank R, before step K of the run (counted from 1), throw an error (a bad batch, an
// allocation failure), die from SIGKILL, or stop responding. The modes throw-in-backward,
// kill-in-backward and hang-in-backward do it during step K's backward pass instead, between
// two nodes once its first gradient bucket's all-reduce is in flight (at the first progress()
// the session asks of the communicator, which with_test_faults wraps for that).
void inject_test_fault(const training::distributed::Communicator& communicator, int64_t step);
// `world` wrapped for the in-backward modes when ONYX_TEST_FAIL_MODE asks for one; else `world`.
std::shared_ptr<training::distributed::Communicator> with_test_faults(
    std::shared_ptr<training::distributed::Communicator> world);

}  // namespace onyx::cli
