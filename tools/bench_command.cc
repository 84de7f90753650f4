// `onyx bench MODEL`: times session creation and repeated runs on the same feeds; prints
// mean/median/p90 latency, or JSON for scripts (scripts/bench_vs_ort.py).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "runtime/session/inference_session.h"
#include "tools/commands.h"
#include "tools/feeds.h"

namespace onyx::cli {

namespace {
struct BenchOptions {
  std::string model;
  std::vector<std::string> inputs;
  int iterations = 100;
  int warmup = 5;
  int threads = 0;
  bool json = false;
};

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

int bench(const BenchOptions& options) {
  SessionOptions session_options;
  session_options.intra_op_threads = options.threads;
  auto created = std::chrono::steady_clock::now();
  InferenceSession session(std::filesystem::path(options.model), session_options);
  double create_ms = milliseconds_since(created);
  std::map<std::string, Value> feeds = build_feeds(session, options.inputs, true);

  for (int i = 0; i < options.warmup; ++i) session.run(feeds);
  std::vector<double> times;
  times.reserve(static_cast<size_t>(options.iterations));
  for (int i = 0; i < options.iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    session.run(feeds);
    times.push_back(milliseconds_since(start));
  }
  std::sort(times.begin(), times.end());
  double mean = std::accumulate(times.begin(), times.end(), 0.0) / static_cast<double>(times.size());
  double median = times[times.size() / 2];
  double p90 = times[std::min(times.size() - 1, times.size() * 9 / 10)];
  if (options.json) {
    nlohmann::json report = {{"model", options.model},      {"iterations", options.iterations},
                             {"threads", session.threads()}, {"session_create_ms", create_ms},
                             {"mean_ms", mean},             {"median_ms", median},
                             {"p90_ms", p90},               {"min_ms", times.front()}};
    std::cout << report.dump() << std::endl;
  } else {
    std::printf("model: %s\nthreads: %d\nsession creation: %.3f ms\n", options.model.c_str(), session.threads(), create_ms);
    std::printf("runs: %d  mean %.4f ms  median %.4f ms  p90 %.4f ms  min %.4f ms\n", options.iterations, mean,
                median, p90, times.front());
  }
  return 0;
}
}  // namespace

Command add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = app.add_subcommand("bench", "Time a model: session creation and repeated runs");
  command->add_option("model", options->model, "the .onnx model")->required();
  command->add_option("--input,-i", options->inputs, "NAME=FILE inputs (others get random data)");
  command->add_option("--iterations,-n", options->iterations, "timed runs")->check(CLI::PositiveNumber);
  command->add_option("--warmup", options->warmup, "untimed runs first")->check(CLI::NonNegativeNumber);
  command->add_option("--threads", options->threads, "intra-op threads (default: one per core)")->check(CLI::NonNegativeNumber);
  command->add_flag("--json", options->json, "print one JSON object");
  return [options] { return bench(*options); };
}

}  // namespace onyx::cli
