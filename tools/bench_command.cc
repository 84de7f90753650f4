// `onyx bench MODEL`: times session creation and repeated runs on the same feeds; prints
// mean/median/p90 latency and the process CPU time per run, or JSON for scripts
// (scripts/bench_vs_ort.py).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "runtime/session/inference_session.h"
#include "tools/cli_checks.h"
#include "tools/commands.h"
#include "tools/custom_ops_option.h"
#include "tools/device_option.h"
#include "tools/feeds.h"
#include "tools/memory_limit_option.h"
#include "tools/placement_report.h"
#include "tools/precision_option.h"
#include "tools/profile_json_option.h"

namespace onyx::cli {

namespace {
struct BenchOptions {
  std::string model;
  std::vector<std::string> inputs;
  int iterations = 100;
  int warmup = 5;
  int threads = 0;
  size_t memory_limit = 0;
  int optimization_level = SessionOptions{}.optimization_level;
  bool json = false;
  bool profile = false;
  std::string profile_json;
  std::vector<std::string> custom_ops;
  std::string device;
  bool device_io = false;
  Precision precision = Precision::kFp32;
};

// Time per op type over the timed runs (the profiler's node events from `first_event` on, of the
// session's own graph: a Loop's time already holds its body's), largest first.
void print_profile(const Profiler& profiler, size_t first_event, int iterations) {
  std::map<std::string, std::pair<double, int>> by_op;
  const std::vector<TraceEvent> events = profiler.events();
  for (size_t i = first_event; i < events.size(); ++i) {
    const TraceEvent& event = events[i];
    if ((event.category != "Node" && event.category != "Copy") || event.depth != 0) continue;
    std::string op = event.category == "Copy" ? "(device copy)" : trace_arg_text(event, "op_type");
    const std::string implementation = trace_arg_text(event, "implementation");
    if (!implementation.empty()) op += " [" + implementation + "]";
    by_op[op].first += static_cast<double>(event.duration_ns) * 1e-9;
    by_op[op].second += 1;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> rows(by_op.begin(), by_op.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  double total = 0;
  for (const auto& row : rows) total += row.second.first;
  std::printf("%-36s %6s %12s %7s\n", "op", "nodes", "ms/run", "share");
  for (const auto& [op, entry] : rows) {
    std::printf("%-36s %6d %12.4f %6.1f%%\n", op.c_str(), entry.second / iterations, 1e3 * entry.first / iterations,
                total > 0 ? 100.0 * entry.first / total : 0.0);
  }
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// CPU time of the whole process (all threads) in milliseconds. On a machine shared with other
// work it measures the model's cost where wall time also counts the waits for a core.
double process_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) * 1e-6;
}

// The process's peak resident memory so far (the model, its session and every run), in MiB:
// VmHWM, the high-water mark of this program's own memory. getrusage's ru_maxrss keeps the
// peak of the process image it replaced at exec, so a bench started from a large parent (a
// Python test with onnxruntime loaded) reported the parent's size.
double peak_resident_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;  // kB
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

int bench(const BenchOptions& options) {
  load_custom_op_libraries(options.custom_ops);
  SessionOptions session_options;
  session_options.intra_op_threads = options.threads;
  session_options.memory_limit = options.memory_limit;
  session_options.optimization_level = options.optimization_level;
  session_options.precision = options.precision;
  session_options.providers = providers_for_device(options.device);
  session_options.enable_profiling = options.profile || !options.profile_json.empty();
  session_options.profile_file = options.profile_json;
  auto created = std::chrono::steady_clock::now();
  InferenceSession session(std::filesystem::path(options.model), session_options);
  double create_ms = milliseconds_since(created);
  std::map<std::string, Value> feeds = build_feeds(session, options.inputs, true);
  RunOptions run_options;
  if (options.device_io) {
    // Inputs are copied to the device once and outputs stay there, so the timings are the
    // model's, not the bus's (as onnxruntime's IOBinding is used for benchmarks).
    ExecutionProvider& device = *session_options.providers.front();
    for (auto& [name, value] : feeds) {
      if (value.is_tensor()) value = Value(device.from_host(value.tensor(), nullptr));
    }
    device.synchronize(nullptr);
    run_options.outputs_on_device = true;
  }

  // The first run is timed apart (it is also the first warm-up run): whatever a kernel leaves
  // for it (primitives of shapes known only now) shows there, not in the steady-state figures.
  auto first_start = std::chrono::steady_clock::now();
  session.run(feeds, run_options);
  const double first_run_ms = milliseconds_since(first_start);
  for (int i = 1; i < options.warmup; ++i) session.run(feeds, run_options);
  std::vector<double> times;
  times.reserve(static_cast<size_t>(options.iterations));
  const size_t first_timed_event = session.profiler() ? session.profiler()->event_count() : 0;
  const double cpu_start = process_cpu_ms();
  for (int i = 0; i < options.iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    session.run(feeds, run_options);
    times.push_back(milliseconds_since(start));
  }
  const double cpu_ms = (process_cpu_ms() - cpu_start) / options.iterations;
  std::sort(times.begin(), times.end());
  double mean = std::accumulate(times.begin(), times.end(), 0.0) / static_cast<double>(times.size());
  double median = times[times.size() / 2];
  double p90 = times[std::min(times.size() - 1, times.size() * 9 / 10)];
  if (options.json) {
    nlohmann::json report = {{"model", options.model},      {"iterations", options.iterations},
                             {"threads", session.threads()}, {"session_create_ms", create_ms},
                             {"first_run_ms", first_run_ms},
                             {"peak_rss_mb", peak_resident_mb()},
                             {"mean_ms", mean},             {"median_ms", median},
                             {"p90_ms", p90},               {"min_ms", times.front()},
                             {"cpu_ms", cpu_ms},
                             {"precision", precision_name(session.precision())}};
    const GraphPlacement& placement = session.plan().placement();
    size_t host_nodes = 0;
    for (const NodePlacement& node : placement.nodes) host_nodes += node.provider == placement.host;
    report["device"] = options.device.empty() ? "cpu" : options.device;
    report["nodes"] = placement.nodes.size();
    report["nodes_on_cpu"] = host_nodes;
    report["copies_inside_graph"] = placement.inner_copy_count();
    report["device_io"] = options.device_io;
    std::cout << report.dump() << std::endl;
  } else {
    std::printf("model: %s\nthreads: %d\nprecision: %s\nsession creation: %.3f ms\nfirst run: %.3f ms\n", options.model.c_str(),
                session.threads(), precision_name(session.precision()), create_ms, first_run_ms);
    const MemoryPlan& memory = session.plan().memory_plan();
    std::printf("plan: %zu steps, %zu values in a %.1f KiB arena\n", session.plan().steps().size(),
                memory.planned_value_count(), static_cast<double>(memory.arena_bytes()) / 1024);
    if (auto layout = session.plan().memory_layouts().latest()) {
      std::printf("arena for the run-time shapes: %zu values in %.1f KiB\n", layout->plan.planned_value_count(),
                  static_cast<double>(layout->plan.arena_bytes()) / 1024);
    }
    if (!options.device.empty() && options.device != "cpu") {
      std::fflush(stdout);
      print_placement(std::cout, session.model().graph, session.plan().placement());
      std::cout.flush();
    }
    std::printf("runs: %d  mean %.4f ms  median %.4f ms  p90 %.4f ms  min %.4f ms  cpu %.4f ms\n",
                options.iterations, mean, median, p90, times.front(), cpu_ms);
    std::printf("peak resident memory: %.1f MiB\n", peak_resident_mb());
    if (options.profile) print_profile(*session.profiler(), first_timed_event, options.iterations);
  }
  if (!options.profile_json.empty()) {
    const std::filesystem::path written = session.end_profiling();
    (options.json ? std::cerr : std::cout) << "wrote the profile " << written.string() << std::endl;
  }
  return 0;
}
}  // namespace

Command add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = app.add_subcommand("bench", "Time a model: session creation and repeated runs");
  command->add_option("model", options->model, "the .onnx model")->required();
  command->add_option("--input,-i", options->inputs, "NAME=FILE inputs (others get random data)");
  command->add_option("--iterations,-n", options->iterations, "timed runs")->check(positive());
  command->add_option("--warmup", options->warmup, "untimed runs first (the first of them, or one extra when 0, is reported as the first run)")->check(non_negative());
  command->add_option("--threads", options->threads, "intra-op threads (default: one per core)")->check(non_negative());
  command->add_option("--optimization-level", options->optimization_level,
                      "0: none, 1: constant and Conv+BatchNormalization folding, 2: also channels-last convolutions and fused bias/activation layers (default)")
      ->check(CLI::Range(0, 2));
  command->add_flag("--json", options->json, "print one JSON object");
  command->add_flag("--profile", options->profile, "also print the time spent per op type");
  add_profile_json_option(*command, options->profile_json);
  add_memory_limit_option(*command, options->memory_limit);
  add_precision_option(*command, options->precision, "bf16 times convolutions and matrix products on bf16 inputs and weights");
  add_custom_ops_option(*command, options->custom_ops);
  add_device_option(*command, options->device);
  command->add_flag("--device-io", options->device_io,
                    "bind inputs on the device once and keep outputs there, so runs time the model without copies");
  return [options] { return bench(*options); };
}

}  // namespace onyx::cli
