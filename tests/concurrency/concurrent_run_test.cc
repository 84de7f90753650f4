// InferenceSession::run from several threads at once must give exactly what the same input
// gives run alone: each of 4 threads feeds one session its own input, 25 times, and every
// output must be bit-identical to a serial run of that input. A kernel or plan that shares a
// work buffer, a oneDNN scratchpad or a cache between runs fails this (it did: MLPs, RNNs and
// MobileNet gave wrong values). Eager calls from several threads are held to the same rule.
//
// ONYX_STRESS_RUNS (runs per thread, default 25) and ONYX_STRESS_INTRA_OP_THREADS (default 2)
// let scripts/tsan.sh run fewer, single-threaded-kernel runs under ThreadSanitizer.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <thread>

#include "providers/provider_factory.h"
#include "runtime/eager/eager.h"
#include "runtime/session/inference_session.h"
#include "tests/concurrency/stress_models.h"

namespace onyx {
namespace {

using stress::Feeds;
using stress::StressModel;

constexpr int kThreads = 4;

int env_int(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::atoi(text) : fallback;
}
int runs_per_thread() { return env_int("ONYX_STRESS_RUNS", 25); }
int kernel_threads() { return env_int("ONYX_STRESS_INTRA_OP_THREADS", 2); }

std::filesystem::path example_library() { return std::filesystem::path(ONYX_BINARY_DIR) / "libonyx_example_ops.so"; }

// Deep copies, so a later run writing into memory an output still points to cannot hide.
std::vector<Tensor> copies_of(const std::vector<NamedValue>& outputs) {
  std::vector<Tensor> tensors;
  for (const NamedValue& output : outputs) tensors.push_back(output.value.tensor().clone());
  return tensors;
}

// Counts runs whose outputs are not bit-identical to the expected ones.
struct Tally {
  int runs = 0;
  int wrong = 0;
  double max_abs_error = 0;
  std::string first_error;

  void check(const std::vector<Tensor>& actual, const std::vector<Tensor>& expected) {
    ++runs;
    bool same = actual.size() == expected.size();
    for (size_t i = 0; same && i < actual.size(); ++i) {
      const Tensor& a = actual[i];
      const Tensor& e = expected[i];
      if (a.dtype() != e.dtype() || a.shape() != e.shape()) {
        same = false;
      } else if (std::memcmp(a.raw_data(), e.raw_data(), a.byte_size()) != 0) {
        same = false;
        if (a.dtype() == DataType::kFloat) {
          for (int64_t k = 0; k < a.element_count(); ++k) {
            double error = std::fabs(double(a.data<float>()[k]) - double(e.data<float>()[k]));
            max_abs_error = std::max(max_abs_error, std::isnan(error) ? INFINITY : error);
          }
        }
      }
    }
    if (!same) ++wrong;
  }
  void merge(const Tally& other) {
    runs += other.runs;
    wrong += other.wrong;
    max_abs_error = std::max(max_abs_error, other.max_abs_error);
    if (first_error.empty()) first_error = other.first_error;
  }
};

// Runs job(t, tally) on kThreads threads released at the same moment, and sums their tallies.
Tally on_threads_at_once(const std::function<void(int, Tally&)>& job) {
  std::vector<Tally> tallies(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      try {
        job(t, tallies[static_cast<size_t>(t)]);
      } catch (const std::exception& error) {
        tallies[static_cast<size_t>(t)].first_error = error.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  Tally total;
  for (const Tally& tally : tallies) total.merge(tally);
  return total;
}

void expect_all_match(const Tally& tally, const std::string& what) {
  EXPECT_EQ(tally.first_error, "") << what;
  EXPECT_EQ(tally.runs, kThreads * runs_per_thread()) << what;
  EXPECT_EQ(tally.wrong, 0) << what << ": " << tally.wrong << " of " << tally.runs
                            << " concurrent runs differ from serial runs of the same input (max abs error "
                            << tally.max_abs_error << ")";
}

SessionOptions options_for(const StressModel& model, int optimization_level = 2, const std::string& device = "") {
  SessionOptions options;
  if (!device.empty()) options.providers = make_providers({device});
  options.intra_op_threads = kernel_threads();
  options.optimization_level = optimization_level;
  options.custom_op_libraries = model.custom_op_libraries;
  return options;
}

// One session, kThreads threads, each with its own input, against serial runs of those inputs.
void expect_concurrent_runs_match_serial(const StressModel& model, int optimization_level = 2,
                                         const std::string& device = "") {
  InferenceSession session(model.model, options_for(model, optimization_level, device));
  std::vector<Feeds> feeds;
  std::vector<std::vector<Tensor>> expected;
  for (int t = 0; t < kThreads; ++t) {
    feeds.push_back(model.feeds(static_cast<unsigned>(t + 1)));
    expected.push_back(copies_of(session.run(feeds.back())));
  }
  Tally inputs_differ;
  for (int t = 1; t < kThreads; ++t) inputs_differ.check(expected[static_cast<size_t>(t)], expected[0]);
  ASSERT_EQ(inputs_differ.wrong, kThreads - 1) << model.name << ": each thread's input must give its own outputs";
  Tally tally = on_threads_at_once([&](int t, Tally& mine) {
    for (int run = 0; run < runs_per_thread(); ++run) {
      mine.check(copies_of(session.run(feeds[static_cast<size_t>(t)])), expected[static_cast<size_t>(t)]);
    }
  });
  expect_all_match(tally, model.name);
}

TEST(ConcurrentRuns, MlpGemmMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::mlp_model()); }
TEST(ConcurrentRuns, MatMulMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::matmul_model()); }
TEST(ConcurrentRuns, CnnChannelsFirstMatchesSerialRuns) {
  // As written: Conv on NCHW (oneDNN reorders at its border), BatchNormalization, both pools.
  expect_concurrent_runs_match_serial(stress::cnn_model(), 0);
}
TEST(ConcurrentRuns, CnnChannelsLastMatchesSerialRuns) {
  // The default level: BatchNormalization folded, NhwcConv with fused Relu, Nhwc pools.
  expect_concurrent_runs_match_serial(stress::cnn_model(), 2);
}
TEST(ConcurrentRuns, RnnMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::recurrent_model("RNN")); }
TEST(ConcurrentRuns, GruMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::recurrent_model("GRU")); }
TEST(ConcurrentRuns, LstmMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::recurrent_model("LSTM")); }
TEST(ConcurrentRuns, LoopMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::loop_model()); }
TEST(ConcurrentRuns, IfMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::if_model()); }
TEST(ConcurrentRuns, PluginCustomOpMatchesSerialRuns) {
  expect_concurrent_runs_match_serial(stress::custom_op_model(example_library()));
}

// On a device provider each run has its own run state (a stream on CUDA), output allocator and
// copies; the emulated device checks here that concurrent runs keep them apart.
TEST(ConcurrentRuns, OnADeviceMlpMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::mlp_model(), 2, "emulated"); }
TEST(ConcurrentRuns, OnADeviceCnnMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::cnn_model(), 2, "emulated"); }
TEST(ConcurrentRuns, OnADeviceLoopMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::loop_model(), 2, "emulated"); }
TEST(ConcurrentRuns, OnADeviceIfMatchesSerialRuns) { expect_concurrent_runs_match_serial(stress::if_model(), 2, "emulated"); }

// Different sessions at once: state shared between sessions (a process-wide scratchpad) breaks
// this even when each session's own state is per run.
TEST(ConcurrentRuns, DifferentSessionsAtOnceMatchSerialRuns) {
  std::vector<StressModel> models{stress::mlp_model(), stress::cnn_model(), stress::recurrent_model("LSTM"),
                                  stress::loop_model()};
  ASSERT_EQ(models.size(), static_cast<size_t>(kThreads));
  std::vector<std::unique_ptr<InferenceSession>> sessions;
  std::vector<Feeds> feeds;
  std::vector<std::vector<Tensor>> expected;
  for (const StressModel& model : models) {
    sessions.push_back(std::make_unique<InferenceSession>(model.model, options_for(model)));
    feeds.push_back(model.feeds(7));
    expected.push_back(copies_of(sessions.back()->run(feeds.back())));
  }
  Tally tally = on_threads_at_once([&](int t, Tally& mine) {
    const auto i = static_cast<size_t>(t);
    for (int run = 0; run < runs_per_thread(); ++run) mine.check(copies_of(sessions[i]->run(feeds[i])), expected[i]);
  });
  expect_all_match(tally, "MLP, CNN, LSTM and Loop sessions side by side");
}

// Eager calls: each thread has its own kernel cache, but kernels share the process's oneDNN.
std::vector<Tensor> eager_block(unsigned seed) {
  namespace ops = onyx::ops;
  ops::GemmAttributes transposed_b;
  transposed_b.transB = 1;
  ops::ConvAttributes same_size;
  same_size.pads = {1, 1, 1, 1};
  ops::MaxPoolAttributes halving;
  halving.kernel_shape = {2, 2};
  halving.strides = {2, 2};
  ops::LSTMAttributes lstm_attributes;
  lstm_attributes.hidden_size = 24;

  Tensor x = stress::random_tensor({64, 128}, seed);
  Tensor image = stress::random_tensor({2, 3, 24, 24}, seed + 50);
  Tensor sequence = stress::random_tensor({6, 4, 16}, seed + 60);
  Tensor hidden = ops::relu(ops::matmul(x, stress::random_tensor({128, 96}, 2000, 0.1f)) +
                            stress::random_tensor({96}, 2001, 0.1f));
  Tensor probabilities = ops::softmax(ops::gemm(hidden, stress::random_tensor({10, 96}, 2002, 0.1f), transposed_b));
  Tensor features = ops::max_pool(ops::relu(ops::conv(image, stress::random_tensor({8, 3, 3, 3}, 2003, 0.3f), same_size)),
                                  halving);
  std::vector<Tensor> lstm = ops::lstm(sequence, stress::random_tensor({1, 4 * 24, 16}, 2004, 0.2f),
                                       stress::random_tensor({1, 4 * 24, 24}, 2005, 0.2f), lstm_attributes);
  return {hidden, probabilities, features, lstm[0]};
}

std::vector<Tensor> deep_copies(const std::vector<Tensor>& tensors) {
  std::vector<Tensor> copies;
  for (const Tensor& tensor : tensors) copies.push_back(tensor.clone());
  return copies;
}

TEST(ConcurrentEagerCalls, MatchSerialCalls) {
  eager::set_intra_op_threads(kernel_threads());
  // References each on a fresh thread of its own, one after another: a new thread starts from
  // the same OpenMP settings (which oneDNN's primitives depend on) as the concurrent ones.
  std::vector<std::vector<Tensor>> expected(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    std::thread([&, t] { expected[static_cast<size_t>(t)] = deep_copies(eager_block(static_cast<unsigned>(t + 1))); }).join();
  }
  Tally tally = on_threads_at_once([&](int t, Tally& mine) {
    for (int run = 0; run < runs_per_thread(); ++run) {
      mine.check(deep_copies(eager_block(static_cast<unsigned>(t + 1))), expected[static_cast<size_t>(t)]);
    }
  });
  expect_all_match(tally, "eager calls");
}

}  // namespace
}  // namespace onyx
