// Data parallelism without MPI: ranks as threads of this process, joined by an in-memory
// communicator, so the session's data-parallel logic (loss scaling, synchronized BatchNorm,
// bucketed gradient averaging, rank-0 start) is checked here against one session on the whole
// batch; tests/python/test_distributed_*.py run the same through mpirun and the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "runtime/ir/attribute_builders.h"
#include "tests/runtime/model_building.h"
#include "tests/training/training_test_util.h"
#include "training/distributed/communicator.h"
#include "training/distributed/gradient_buckets.h"
#include "training/training_session.h"

namespace onyx::training::distributed {
namespace {

using onyx::testing::error_message;
using onyx::testing::make_model;
using onyx::testing::make_node;
using onyx::testing::tensor_value;
using onyx::testing::tensors_close;

// Ranks that are threads: each collective waits for all of them, then the last to arrive
// combines every rank's buffer (in rank order, as a sum).
class ThreadGroup {
 public:
  explicit ThreadGroup(int ranks) : buffers_(static_cast<size_t>(ranks)) {}
  int size() const { return static_cast<int>(buffers_.size()); }

  void all_reduce(int rank, void* data, size_t count, DataType type) {
    collective(rank, data, [&] {
      for (size_t i = 0; i < count; ++i) {
        if (type == DataType::kFloat) {
          float sum = 0;
          for (void* buffer : buffers_) sum += static_cast<float*>(buffer)[i];
          for (void* buffer : buffers_) static_cast<float*>(buffer)[i] = sum;
        } else {
          double sum = 0;
          for (void* buffer : buffers_) sum += static_cast<double*>(buffer)[i];
          for (void* buffer : buffers_) static_cast<double*>(buffer)[i] = sum;
        }
      }
    });
  }
  void broadcast(int rank, void* data, size_t bytes, int root) {
    collective(rank, data, [&] {
      for (void* buffer : buffers_) {
        if (buffer != buffers_[root]) std::memcpy(buffer, buffers_[root], bytes);
      }
    });
  }

 private:
  template <typename Combine>
  void collective(int rank, void* data, Combine combine) {
    std::unique_lock lock(mutex_);
    buffers_[rank] = data;
    const uint64_t generation = generation_;
    if (++arrived_ == size()) {
      combine();
      arrived_ = 0, ++generation_;
      done_.notify_all();
    } else {
      done_.wait(lock, [&] { return generation_ != generation; });
    }
  }
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<void*> buffers_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
};

class ThreadRank final : public Communicator {
 public:
  ThreadRank(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }
  std::string backend() const override { return "threads"; }
  std::unique_ptr<PendingReduction> start_all_reduce_sum(void* data, size_t count, DataType type) override {
    count_all_reduce(count, type);
    group_.all_reduce(rank_, data, count, type);
    struct Done final : PendingReduction {
      void wait() override {}
    };
    return std::make_unique<Done>();
  }
  void broadcast(void* data, size_t bytes, int root) override { group_.broadcast(rank_, data, bytes, root); }
  [[noreturn]] void abort(const std::string& message) override {
    ADD_FAILURE() << message;
    std::abort();
  }

 private:
  ThreadGroup& group_;
  int rank_;
};

constexpr int64_t kFeatures = 8;

// x[N, 8] -> Gemm(8->6) -> Relu -> Gemm(6->3) -> y.
Model mlp() {
  Model model = make_model({make_node("Gemm", {"x", "w1", "b1"}, {"h"}), make_node("Relu", {"h"}, {"r"}),
                            make_node("Gemm", {"r", "w2", "b2"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {-1, kFeatures})},
                           {tensor_value("y", DataType::kFloat, {-1, 3})}, 17);
  std::vector<float> w1(48), w2(18);
  for (size_t i = 0; i < w1.size(); ++i) w1[i] = 0.4f * std::sin(1.3f * static_cast<float>(i));
  for (size_t i = 0; i < w2.size(); ++i) w2[i] = 0.5f * std::cos(0.9f * static_cast<float>(i));
  model.graph.set_initializer("w1", Tensor::from_vector<float>({kFeatures, 6}, w1));
  model.graph.set_initializer("b1", Tensor::from_vector<float>({6}, std::vector<float>(6, 0.1f)));
  model.graph.set_initializer("w2", Tensor::from_vector<float>({6, 3}, w2));
  model.graph.set_initializer("b2", Tensor::from_vector<float>({3}, std::vector<float>(3, 0.0f)));
  return model;
}

// x[N, 8] seen as [N, 2, 2, 2] -> Conv(3 maps, 1x1, no bias: BatchNorm removes it) ->
// BatchNormalization -> Relu -> Flatten -> Gemm -> y[N, 3].
Model cnn_with_batch_norm() {
  Model model = make_model(
      {make_node("Reshape", {"x", "image_shape"}, {"image"}), make_node("Conv", {"image", "cw"}, {"c"}),
       make_node("BatchNormalization", {"c", "scale", "bias", "mean", "var"}, {"n"},
                 {make_attribute("momentum", 0.8f)}),
       make_node("Relu", {"n"}, {"r"}), make_node("Flatten", {"r"}, {"f"}), make_node("Gemm", {"f", "w", "b"}, {"y"})},
      {tensor_value("x", DataType::kFloat, {-1, kFeatures})}, {tensor_value("y", DataType::kFloat, {-1, 3})}, 17);
  Graph& graph = model.graph;
  graph.set_initializer("image_shape", Tensor::from_vector<int64_t>({4}, {-1, 2, 2, 2}));
  graph.set_initializer("cw", Tensor::from_vector<float>({3, 2, 1, 1}, {0.7f, -1.1f, 0.4f, 0.9f, -0.5f, 0.6f}));
  graph.set_initializer("scale", Tensor::from_vector<float>({3}, {1.0f, 0.8f, 1.2f}));
  graph.set_initializer("bias", Tensor::from_vector<float>({3}, {0.0f, 0.1f, -0.1f}));
  graph.set_initializer("mean", Tensor::from_vector<float>({3}, {0.0f, 0.0f, 0.0f}));
  graph.set_initializer("var", Tensor::from_vector<float>({3}, {1.0f, 1.0f, 1.0f}));
  std::vector<float> w(36);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.3f * std::sin(0.7f * static_cast<float>(i) + 1.0f);
  graph.set_initializer("w", Tensor::from_vector<float>({12, 3}, w));
  graph.set_initializer("b", Tensor::from_vector<float>({3}, {0.0f, 0.0f, 0.0f}));
  return model;
}

// Rows [begin, end) of step `step`'s batch (deterministic values).
Feeds rows(int64_t step, int64_t begin, int64_t end) {
  std::vector<float> x, y;
  for (int64_t i = begin; i < end; ++i) {
    for (int64_t j = 0; j < kFeatures; ++j) {
      x.push_back(std::sin(0.37f * static_cast<float>(i * kFeatures + j + 11 * step)) * 2.0f);
    }
    for (int64_t j = 0; j < 3; ++j) y.push_back(std::cos(0.23f * static_cast<float>(i * 3 + j + 5 * step)));
  }
  return {{"x", Tensor::from_vector<float>({end - begin, kFeatures}, x)},
          {"target", Tensor::from_vector<float>({end - begin, 3}, y)}};
}

TrainingOptions mse_options(OptimizerConfig optimizer) {
  TrainingOptions options;
  options.loss = LossSpec{};
  options.loss->kind = LossKind::kMse;
  options.optimizer = std::move(optimizer);
  options.session.intra_op_threads = 1;
  return options;
}

constexpr int64_t kBatch = 7, kSteps = 4;
// Rank 0 takes 4 of the 7 rows, rank 1 the other 3: shares weight the gradients.
constexpr int64_t kSplit = 4;

// Two ranks with batches of 4 and 3 rows take the steps one session takes on all 7, with the
// buckets' all-reduces started during the backward pass or (`overlap` false) after it.
void expect_two_ranks_match_one(const Model& model, const OptimizerConfig& optimizer, bool overlap = true) {
  TrainingSession single(model, mse_options(optimizer));
  std::vector<double> single_losses;
  for (int64_t step = 0; step < kSteps; ++step) single_losses.push_back(single.train_step(rows(step, 0, kBatch)));

  ThreadGroup group(2);
  std::vector<std::map<std::string, Tensor>> results(2);
  std::vector<std::vector<double>> losses(2);
  auto run_rank = [&](int rank) {
    TrainingOptions options = mse_options(optimizer);
    options.communicator = std::make_shared<ThreadRank>(group, rank);
    options.gradient_bucket_bytes = 64;  // several buckets, so the packing is exercised
    options.overlap_gradient_all_reduce = overlap;
    TrainingSession session(model, options);
    for (int64_t step = 0; step < kSteps; ++step) {
      losses[rank].push_back(session.train_step(rank == 0 ? rows(step, 0, kSplit) : rows(step, kSplit, kBatch)));
      EXPECT_EQ(session.buckets_started_in_backward(), overlap ? session.gradient_buckets().size() : 0u);
    }
    results[rank] = session.parameters();
    results[rank].insert(session.buffers().begin(), session.buffers().end());
  };
  std::thread other(run_rank, 1);
  run_rank(0);
  other.join();

  std::map<std::string, Tensor> expected = single.parameters();
  expected.insert(single.buffers().begin(), single.buffers().end());
  for (int rank = 0; rank < 2; ++rank) {
    for (int64_t step = 0; step < kSteps; ++step) {
      EXPECT_NEAR(losses[rank][step], single_losses[step], 1e-5 * std::abs(single_losses[step])) << "step " << step;
    }
    ASSERT_EQ(results[rank].size(), expected.size());
    for (const auto& [name, value] : expected) {
      EXPECT_TRUE(tensors_close(results[rank].at(name), value, 1e-4, 1e-6)) << "rank " << rank << " " << name;
    }
  }
}

TEST(DataParallelTraining, MlpSgdMomentumMatchesOneProcess) { expect_two_ranks_match_one(mlp(), sgd(0.1, 0.9)); }
TEST(DataParallelTraining, MlpAdamMatchesOneProcess) { expect_two_ranks_match_one(mlp(), adam(0.01)); }
TEST(DataParallelTraining, CnnWithBatchNormSgdMatchesOneProcess) {
  expect_two_ranks_match_one(cnn_with_batch_norm(), sgd(0.1));
}
TEST(DataParallelTraining, CnnWithBatchNormAdamMatchesOneProcess) {
  expect_two_ranks_match_one(cnn_with_batch_norm(), adam(0.01));
}
TEST(DataParallelTraining, WithoutOverlapTheResultsAreTheSame) {
  expect_two_ranks_match_one(mlp(), adam(0.01), /*overlap=*/false);
  expect_two_ranks_match_one(cnn_with_batch_norm(), sgd(0.1), /*overlap=*/false);
}

// Two ranks of which this is rank 0, the other holding the same data: each all-reduce doubles
// its buffer. It records what the session asks, in order ("start float 21", "progress",
// "wait float 21", "mark ..."), so tests see when each bucket's all-reduce starts relative to
// the backward pass's nodes (the session calls progress() after each node while buckets are in
// flight).
class RecordingMirror final : public Communicator {
 public:
  std::vector<std::string> events;

  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string backend() const override { return "recording mirror"; }
  std::unique_ptr<PendingReduction> start_all_reduce_sum(void* data, size_t count, DataType type) override {
    count_all_reduce(count, type);
    const std::string what = std::string(type == DataType::kFloat ? "float " : "double ") + std::to_string(count);
    events.push_back("start " + what);
    // The sum is delivered at wait(), as a real backend may: a session reading the buffer
    // early would see it unreduced.
    struct Pending final : PendingReduction {
      Pending(RecordingMirror& owner, void* data, size_t count, DataType type, std::string what)
          : owner(owner), data(data), count(count), type(type), what(std::move(what)) {}
      void wait() override {
        if (done) return;
        done = true;
        owner.events.push_back("wait " + what);
        for (size_t i = 0; i < count; ++i) {
          if (type == DataType::kFloat) static_cast<float*>(data)[i] *= 2;
          else static_cast<double*>(data)[i] *= 2;
        }
      }
      ~Pending() override { wait(); }
      RecordingMirror& owner;
      void* data;
      size_t count;
      DataType type;
      std::string what;
      bool done = false;
    };
    return std::make_unique<Pending>(*this, data, count, type, what);
  }
  void progress() override { events.push_back("progress"); }
  void broadcast(void*, size_t, int) override {}
  [[noreturn]] void abort(const std::string& message) override {
    ADD_FAILURE() << message;
    std::abort();
  }
  void mark(const std::string& what) { events.push_back("mark " + what); }
  // Positions of the events after `from` that start with `prefix`.
  std::vector<size_t> find(const std::string& prefix, size_t from = 0) const {
    std::vector<size_t> found;
    for (size_t i = from; i < events.size(); ++i) {
      if (events[i].rfind(prefix, 0) == 0) found.push_back(i);
    }
    return found;
  }
};

TrainingOptions mirrored_options(std::shared_ptr<RecordingMirror> mirror, OptimizerConfig optimizer) {
  TrainingOptions options = mse_options(std::move(optimizer));
  options.communicator = std::move(mirror);
  options.gradient_bucket_bytes = 64;
  return options;
}

void expect_same_parameters(const TrainingSession& got, const TrainingSession& expected) {
  for (const auto& [name, value] : expected.parameters()) {
    EXPECT_TRUE(tensors_close(got.parameters().at(name), value, 1e-5, 1e-7)) << name;
  }
}

TEST(GradientOverlap, TheFirstBucketStartsWhileTheBackwardPassStillRuns) {
  auto mirror = std::make_shared<RecordingMirror>();
  TrainingSession session(mlp(), mirrored_options(mirror, sgd(0.1, 0.9)));
  const std::vector<GradientBucket>& buckets = session.gradient_buckets();
  ASSERT_GE(buckets.size(), 3u);
  // Planned in the order the backward pass makes the gradients: the last layer's first.
  const std::vector<std::string>& first = buckets.front().names;
  EXPECT_TRUE(std::find(first.begin(), first.end(), "b2") != first.end() ||
              std::find(first.begin(), first.end(), "w2") != first.end());
  const std::vector<std::string>& last = buckets.back().names;
  EXPECT_TRUE(std::find(last.begin(), last.end(), "w1") != last.end() ||
              std::find(last.begin(), last.end(), "b1") != last.end());

  mirror->mark("step");
  session.train_step(rows(0, 0, kBatch));
  EXPECT_EQ(session.buckets_started_in_backward(), buckets.size());
  const size_t step = mirror->find("mark step").at(0);
  const std::vector<size_t> starts = mirror->find("start float", step);
  const std::vector<size_t> waits = mirror->find("wait float", step);
  ASSERT_EQ(starts.size(), buckets.size());
  ASSERT_EQ(waits.size(), buckets.size());
  for (size_t b = 0; b < buckets.size(); ++b) {
    EXPECT_EQ(mirror->events[starts[b]], "start float " + std::to_string(buckets[b].elements)) << b;
  }
  // Backward nodes ran (progress after each) between the first bucket's start and the last's,
  // i.e. the first all-reduce was on its way before the node making the last gradient ran...
  size_t nodes_between = 0;
  for (size_t i = starts.front(); i < starts.back(); ++i) nodes_between += mirror->events[i] == "progress";
  EXPECT_GE(nodes_between, 1u);
  // ... and nothing waited for a bucket before every bucket had started (the optimizer step).
  EXPECT_GT(waits.front(), starts.back());

  // The update is the one a single process takes (the mirror's other rank has the same data).
  TrainingSession single(mlp(), mse_options(sgd(0.1, 0.9)));
  single.train_step(rows(0, 0, kBatch));
  expect_same_parameters(session, single);
}

TEST(GradientOverlap, AccumulationAllReducesTheSumOnceInTheStep) {
  auto mirror = std::make_shared<RecordingMirror>();
  TrainingSession session(mlp(), mirrored_options(mirror, adam(0.01)));
  TrainingSession single(mlp(), mse_options(adam(0.01)));
  const size_t bucket_count = session.gradient_buckets().size();
  auto accumulate = [&](int64_t step) {
    for (TrainingSession* each : {&session, &single}) {
      each->zero_grad();
      each->backward(rows(step, 0, 4));
      if (each == &session) mirror->mark("second backward");
      each->backward(rows(step, 4, kBatch));
      if (each == &session) mirror->mark("optimizer step");
      each->optimizer_step();
    }
  };
  // First cycle: the first backward() overlaps (the session cannot know a second follows), the
  // second waits for those reductions and drops them; the step all-reduces the sum.
  accumulate(0);
  size_t second = mirror->find("mark second backward").back(), step = mirror->find("mark optimizer step").back();
  EXPECT_EQ(mirror->find("start float").size(), 2 * bucket_count);
  EXPECT_EQ(mirror->find("start float", step).size(), bucket_count);
  EXPECT_EQ(mirror->find("start float", second).size(), bucket_count);  // none in the second backward
  // Next cycles: the last step accumulated, so backward() no longer starts reductions early.
  accumulate(1);
  second = mirror->find("mark second backward").back(), step = mirror->find("mark optimizer step").back();
  const size_t cycle = mirror->find("mark optimizer step").front();
  EXPECT_EQ(mirror->find("start float", cycle).size(), 2 * bucket_count);  // the two steps' only
  EXPECT_EQ(mirror->find("start float", step).size(), bucket_count);
  EXPECT_EQ(session.buckets_started_in_backward(), 0u);
  expect_same_parameters(session, single);
  // train_step, whose step follows its single backward at once, overlaps again.
  session.train_step(rows(2, 0, kBatch));
  single.train_step(rows(2, 0, kBatch));
  EXPECT_EQ(session.buckets_started_in_backward(), bucket_count);
  expect_same_parameters(session, single);
}

TEST(GradientOverlap, ABackwardThenAStepOverlapsLikeTrainStep) {
  auto mirror = std::make_shared<RecordingMirror>();
  TrainingSession session(cnn_with_batch_norm(), mirrored_options(mirror, sgd(0.1)));
  TrainingSession single(cnn_with_batch_norm(), mse_options(sgd(0.1)));
  for (int64_t step = 0; step < 2; ++step) {
    for (TrainingSession* each : {&single, &session}) {
      each->zero_grad();
      each->backward(rows(step, 0, kBatch));
      if (each == &session) {
        EXPECT_EQ(session.buckets_started_in_backward(), session.gradient_buckets().size());
        // gradients() stays this rank's own until the step averages them.
        EXPECT_TRUE(tensors_close(session.gradients().at("w"), single.gradients().at("w"), 1e-5, 1e-7));
      }
      each->optimizer_step();
    }
  }
  expect_same_parameters(session, single);
  // Gradients thrown away (zero_grad) after an overlapped backward: the next pass waits for the
  // reductions in flight and starts its own.
  session.backward(rows(3, 0, kBatch));
  session.zero_grad();
  session.backward(rows(4, 0, kBatch));
  EXPECT_EQ(session.buckets_started_in_backward(), session.gradient_buckets().size());
  session.optimizer_step();
  single.zero_grad();
  single.backward(rows(4, 0, kBatch));
  single.optimizer_step();
  expect_same_parameters(session, single);
}

TEST(GradientOverlap, TheReductionStartsBucketsInOrderAndChecksGradients) {
  const std::vector<GradientBucket> buckets =
      plan_gradient_buckets({{"a", DataType::kFloat, 2}, {"b", DataType::kFloat, 2}, {"c", DataType::kFloat, 4}}, 16);
  ASSERT_EQ(buckets.size(), 2u);  // {a, b}, {c}
  RecordingMirror mirror;
  OverlappedGradientReduction reduction(mirror, buckets);
  reduction.begin();
  // c's bucket is full first, but starts only after a and b's: every rank starts them in order.
  reduction.gradient_ready(*reduction.locate("c"), Tensor::from_vector<float>({4}, {1, 2, 3, 4}));
  EXPECT_EQ(reduction.started(), 0u);
  reduction.gradient_ready(*reduction.locate("b"), Tensor::from_vector<float>({2}, {5, 6}));
  EXPECT_EQ(reduction.started(), 0u);
  EXPECT_NE(error_message([&] {
              reduction.gradient_ready(*reduction.locate("a"), Tensor::from_vector<float>({3}, {1, 2, 3}));
            }).find("has 3 elements, 2 were planned"),
            std::string::npos);
  reduction.gradient_ready(*reduction.locate("a"), Tensor::from_vector<float>({2}, {7, 8}));
  EXPECT_TRUE(reduction.all_started());
  EXPECT_EQ(mirror.events, (std::vector<std::string>{"start float 4", "start float 4"}));
  std::map<std::string, Tensor> gradients = {{"a", Tensor::from_vector<float>({2}, {0, 0})},
                                             {"b", Tensor::from_vector<float>({2}, {0, 0})},
                                             {"c", Tensor::from_vector<float>({2, 2}, {0, 0, 0, 0})}};
  reduction.finish(gradients, 0.5);
  EXPECT_TRUE(tensors_close(gradients.at("a"), Tensor::from_vector<float>({2}, {7, 8}), 0, 0));
  EXPECT_TRUE(tensors_close(gradients.at("b"), Tensor::from_vector<float>({2}, {5, 6}), 0, 0));
  EXPECT_TRUE(tensors_close(gradients.at("c"), Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4}), 0, 0));
  EXPECT_FALSE(reduction.locate("d").has_value());
  // A pass that did not report every gradient cannot finish.
  reduction.begin();
  reduction.gradient_ready(*reduction.locate("c"), Tensor::from_vector<float>({4}, {1, 2, 3, 4}));
  EXPECT_NE(error_message([&] { reduction.finish(gradients, 1); }).find("did not report the gradient of 'a'"),
            std::string::npos);
}

// What the synchronization buys, i.e. why the checks above can fail: averaging gradients of
// separate parts (weighted by size) reproduces the whole batch's gradient for the MLP, but not
// with BatchNorm, whose statistics then are each part's.
double largest_gap_of_averaged_parts(const Model& model) {
  TrainingSession whole(model, mse_options(sgd(0.1))), first(model, mse_options(sgd(0.1))),
      second(model, mse_options(sgd(0.1)));
  whole.backward(rows(0, 0, kBatch));
  first.backward(rows(0, 0, kSplit));
  second.backward(rows(0, kSplit, kBatch));
  double gap = 0;
  for (const auto& [name, expected] : whole.gradients()) {
    for (int64_t i = 0; i < expected.element_count(); ++i) {
      const double averaged = (kSplit * first.gradients().at(name).element_as_double(i) +
                               (kBatch - kSplit) * second.gradients().at(name).element_as_double(i)) / kBatch;
      gap = std::max(gap, std::abs(averaged - expected.element_as_double(i)));
    }
  }
  return gap;
}

TEST(DataParallelTraining, PerPartBatchStatisticsWouldGiveOtherGradients) {
  EXPECT_LT(largest_gap_of_averaged_parts(mlp()), 1e-6);
  EXPECT_GT(largest_gap_of_averaged_parts(cnn_with_batch_norm()), 1e-3);
}

TEST(DataParallelTraining, CheckpointRecordsTheWorldSize) {
  ThreadGroup group(2);
  const auto path = onyx::testing::scratch_folder("onyx_data_parallel_test_") / "two_ranks.onnx";
  auto run_rank = [&](int rank) {
    TrainingOptions options = mse_options(sgd(0.1));
    options.communicator = std::make_shared<ThreadRank>(group, rank);
    TrainingSession session(mlp(), options);
    session.train_step(rows(0, rank * 2, rank * 2 + 2));
    if (rank == 0) session.save_checkpoint(path);
  };
  std::thread other(run_rank, 1);
  run_rank(0);
  other.join();
  TrainingSession single(mlp(), mse_options(sgd(0.1)));
  EXPECT_NE(error_message([&] { single.load_checkpoint(path); }).find("written by a run of 2 rank(s); this run has 1"),
            std::string::npos);
}

TEST(SingleProcessCommunicator, IsOneRankAndReducesToItself) {
  std::shared_ptr<Communicator> single = single_process_communicator();
  EXPECT_EQ(single->rank(), 0);
  EXPECT_EQ(single->size(), 1);
  EXPECT_TRUE(single->is_root());
  std::vector<double> values{1.5, -2};
  single->all_reduce_sum(values);
  EXPECT_EQ(values, (std::vector<double>{1.5, -2}));
  EXPECT_EQ(single->describe_rank(), "rank 0 of 1");
  // Without a launcher this process is its own world.
  if (launcher_world_size() == 1) EXPECT_EQ(world_communicator()->size(), 1);
}

TEST(SingleProcessCommunicator, TrainingSessionDefaultsToIt) {
  TrainingSession session(mlp(), mse_options(sgd(0.1)));
  EXPECT_EQ(session.communicator().size(), 1);
  EXPECT_TRUE(session.gradient_buckets().empty());  // nothing to average
}

TEST(GradientBuckets, SplitsByBytesAndTypeInOrder) {
  const std::vector<BucketedTensor> tensors = {{"c", DataType::kFloat, 10}, {"b", DataType::kFloat, 20},
                                               {"a", DataType::kFloat, 100}, {"d", DataType::kDouble, 3},
                                               {"e", DataType::kDouble, 2}, {"f", DataType::kFloat, 1}};
  const std::vector<GradientBucket> buckets = plan_gradient_buckets(tensors, 128);  // 32 floats
  ASSERT_EQ(buckets.size(), 4u);
  EXPECT_EQ(buckets[0].names, (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(buckets[0].elements, 30u);
  EXPECT_EQ(buckets[1].names, (std::vector<std::string>{"a"}));  // larger than a bucket: alone
  EXPECT_EQ(buckets[2].names, (std::vector<std::string>{"d", "e"}));
  EXPECT_EQ(buckets[2].type, DataType::kDouble);
  EXPECT_EQ(buckets[3].names, (std::vector<std::string>{"f"}));
  EXPECT_TRUE(plan_gradient_buckets({}, 128).empty());
}

TEST(GradientBuckets, AllReduceScalesAndKeepsShapes) {
  std::map<std::string, Tensor> gradients = {{"a", Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4})},
                                             {"b", Tensor::from_vector<double>({1}, {8})}};
  const Tensor original_a = gradients.at("a");
  const auto buckets = plan_gradient_buckets({{"a", DataType::kFloat, 4}, {"b", DataType::kDouble, 1}}, 1 << 20);
  all_reduce_gradients(*single_process_communicator(), buckets, gradients, 0.5);
  EXPECT_TRUE(tensors_close(gradients.at("a"), Tensor::from_vector<float>({2, 2}, {0.5f, 1, 1.5f, 2}), 0, 0));
  EXPECT_TRUE(tensors_close(gradients.at("b"), Tensor::from_vector<double>({1}, {4}), 0, 0));
  EXPECT_EQ(original_a.data<float>()[0], 1.0f);  // a new tensor: the old one may be shared
  gradients.erase("b");
  EXPECT_NE(error_message([&] { all_reduce_gradients(*single_process_communicator(), buckets, gradients, 1); })
                .find("no gradient of 'b'"),
            std::string::npos);
}

TEST(Communicators, UnknownBackendIsAClearError) {
  EXPECT_NE(error_message([] { make_communicator("gloo", single_process_communicator(), 0); })
                .find("unknown communicator backend 'gloo'"),
            std::string::npos);
}

}  // namespace
}  // namespace onyx::training::distributed
