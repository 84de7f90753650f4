// The seed experiment of eager mode: the same C++ code run op by op (eager) and traced into a
// graph with a Loop node (onyx::function), timed side by side.
//
//   1. sum of 0..N-1 in a for_range loop, N = 10^4, 10^5, 10^6;
//   2. a loop whose body updates a small tensor;
//   3. linear regression trained with a GradientTape, eagerly and traced;
//   4. the Loop's per-iteration cost, and the same Loop model in onnxruntime in this run (through
//      scripts/bench_vs_ort.py, which times `onyx bench` and onnxruntime on one model).
//
// build/onyx_eager_seed [--save-dir DIR] [--quick]: DIR receives the traced models (default: a
// temp dir); --quick runs small sizes and skips onnxruntime (for tests).
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/common/portable_random.h"
#include "runtime/eager/eager.h"
#include "runtime/ir/value_files.h"

namespace {

using onyx::Tensor;
namespace ops = onyx::ops;

// CPU time of this thread: everything here runs on it (one intra-op thread), and unlike wall
// time it does not grow when other processes share the cores.
double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

template <typename Fn>
double seconds(Fn&& fn) {
  double start = thread_cpu_seconds();
  fn();
  return thread_cpu_seconds() - start;
}

// Best of `repeats` timings: the machine is shared, the minimum is the least disturbed.
template <typename Fn>
double best_seconds(int repeats, Fn&& fn) {
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) best = std::min(best, seconds(fn));
  return best;
}

Tensor sum_below(const Tensor& n) {
  return onyx::for_range(n, [](const Tensor& i, const std::vector<Tensor>& v) {
    return std::vector<Tensor>{v[0] + i};
  }, {Tensor::scalar<int64_t>(0)})[0];
}

// x <- 0.999 x + 1e-4 i on 16 floats: a small tensor update per iteration.
Tensor decay_loop(const Tensor& n, const Tensor& x0) {
  return onyx::for_range(n, [](const Tensor& i, const std::vector<Tensor>& v) {
    Tensor step = ops::cast(i, {.to = onyx::DataType::kFloat});
    return std::vector<Tensor>{v[0] * 0.999 + step * 1e-4};
  }, {x0})[0];
}

// Eager cost of one op: `count` int64 scalar Adds, the op the sum's body runs (best of 3).
double eager_ns_per_op(int count) {
  Tensor a = Tensor::scalar<int64_t>(1), b = Tensor::scalar<int64_t>(2), c;
  double best = best_seconds(3, [&] {
    for (int i = 0; i < count; ++i) c = a + b;
  });
  if (c.values<int64_t>()[0] != 3) throw std::runtime_error("eager 1 + 2 gave a wrong sum");
  return best / count * 1e9;
}

void print_row(const char* what, double eager_s, double graph_s) {
  std::printf("%-34s eager %9.3f ms   graph %9.3f ms\n", what, eager_s * 1e3, graph_s * 1e3);
  std::printf("speedup: %.1f\n", eager_s / graph_s);
}

// --- linear regression with a tape ------------------------------------------------------------
struct Regression {
  Tensor x, y;
  int steps = 200;
  double learning_rate = 0.1;

  Regression() {
    onyx::portable_random::Engine rng(7);
    const int n = 256, d = 4;
    std::vector<float> xs(n * d), ys(n);
    const float w_true[d] = {1.5f, -2.0f, 0.5f, 3.0f};
    for (int i = 0; i < n; ++i) {
      float target = 0.25f;
      for (int j = 0; j < d; ++j) {
        xs[i * d + j] = static_cast<float>(onyx::portable_random::normal(rng, 0.0, 1.0));
        target += w_true[j] * xs[i * d + j];
      }
      ys[i] = target + 0.01f * static_cast<float>(onyx::portable_random::normal(rng, 0.0, 1.0));
    }
    x = Tensor::from_vector<float>({n, d}, xs);
    y = Tensor::from_vector<float>({n, 1}, ys);
  }

  Tensor loss(const Tensor& w, const Tensor& b) const {
    Tensor diff = ops::matmul(x, w) + b - y;
    return ops::reduce_mean(diff * diff);
  }

  // `steps` steps of gradient descent, each with its own tape.
  std::vector<Tensor> train(const Tensor& w0, const Tensor& b0) const {
    return onyx::for_range(steps, [this](const Tensor&, const std::vector<Tensor>& v) {
      onyx::GradientTape tape;
      tape.watch(v[0]);
      tape.watch(v[1]);
      std::vector<Tensor> grads = tape.gradient(loss(v[0], v[1]), {v[0], v[1]});
      return std::vector<Tensor>{v[0] - grads[0] * learning_rate, v[1] - grads[1] * learning_rate};
    }, {w0, b0});
  }
};

// --- onnxruntime, through the shared harness --------------------------------------------------
std::filesystem::path source_dir() {
  if (const char* dir = std::getenv("ONYX_SOURCE_DIR")) return dir;
  return ONYX_SOURCE_DIR;
}

std::filesystem::path python() {
  if (const char* path = std::getenv("ONYX_PYTHON")) return path;
  return source_dir() / ".venv" / "bin" / "python";
}

// {onyx median ms, ort median ms} for the model, or {-1, -1} with the reason printed.
std::pair<double, double> time_with_bench_vs_ort(const std::filesystem::path& model, const std::filesystem::path& dir) {
  std::filesystem::path script = source_dir() / "scripts" / "bench_vs_ort.py";
  std::filesystem::path onyx_cli = std::filesystem::canonical("/proc/self/exe").parent_path() / "onyx";
  std::filesystem::path json = dir / "bench_vs_ort.json";
  if (!std::filesystem::exists(python()) || !std::filesystem::exists(script)) {
    std::printf("onnxruntime: not measured (no %s or %s)\n", python().c_str(), script.c_str());
    return {-1, -1};
  }
  std::string command = "\"" + python().string() + "\" \"" + script.string() + "\" \"" + model.string() +
                        "\" -n 10 --warmup 2 --threads 1 --onyx \"" + onyx_cli.string() + "\" --json \"" +
                        json.string() + "\" > \"" + (dir / "bench_vs_ort.log").string() + "\" 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::printf("onnxruntime: not measured (bench_vs_ort.py failed; see %s)\n", (dir / "bench_vs_ort.log").c_str());
    return {-1, -1};
  }
  try {
    std::ifstream in(json);
    const nlohmann::json row = nlohmann::json::parse(in).at("results").at(0);
    return {row.at("onyx").at("median_ms").get<double>(), row.at("ort").at("median_ms").get<double>()};
  } catch (const nlohmann::json::exception& e) {
    std::printf("onnxruntime: not measured (%s is not bench_vs_ort.py's report: %s)\n", json.c_str(), e.what());
    return {-1, -1};
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::filesystem::path save_dir = std::filesystem::temp_directory_path() / "onyx_eager_seed";
    bool quick = false;
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--save-dir" && i + 1 < argc) {
        save_dir = argv[++i];
      } else if (arg == "--quick") {
        quick = true;
      } else {
        std::fprintf(stderr, "usage: %s [--save-dir DIR] [--quick]\n", argv[0]);
        return 2;
      }
    }
    std::filesystem::create_directories(save_dir);
    onyx::eager::set_intra_op_threads(1);
    onyx::FunctionOptions options;
    options.session.intra_op_threads = 1;  // single-threaded on both sides, as onnxruntime below

    // 1. sum of 0..N-1
    std::printf("(times: CPU time of the calling thread, one intra-op thread)\n\n");
    std::printf("== sum of 0..N-1: eager for_range vs traced Loop ==\n");
    auto traced_sum = onyx::function(sum_below, options);
    double trace_s = seconds([&] { (void)traced_sum(Tensor::scalar<int64_t>(1)); });
    std::printf("trace + compile: %.3f ms (once per signature)\n", trace_s * 1e3);
    double loop_ns_per_iteration = 0;
    double lowest_speedup = 1e30;
    std::vector<int64_t> sizes = quick ? std::vector<int64_t>{100, 1000} : std::vector<int64_t>{10000, 100000, 1000000};
    for (int64_t n : sizes) {
      Tensor count = Tensor::scalar<int64_t>(n);
      Tensor eager_result, graph_result;
      int repeats = n >= 1000000 ? 1 : 3;
      double eager_s = best_seconds(repeats, [&] { eager_result = sum_below(count); });
      double graph_s = best_seconds(repeats + 2, [&] { graph_result = traced_sum(count); });
      int64_t expected = n * (n - 1) / 2;
      if (eager_result.values<int64_t>()[0] != expected || graph_result.values<int64_t>()[0] != expected) {
        std::fprintf(stderr, "wrong sum for N=%lld\n", static_cast<long long>(n));
        return 1;
      }
      std::string label = "N=" + std::to_string(n) + " (sum " + std::to_string(expected) + ")";
      print_row(label.c_str(), eager_s, graph_s);
      lowest_speedup = std::min(lowest_speedup, eager_s / graph_s);
      loop_ns_per_iteration = graph_s / static_cast<double>(n) * 1e9;
    }
    std::printf("lowest speedup over N: %.1f\n", lowest_speedup);
    std::printf("traced functions run: %zu trace(s)\n", traced_sum.trace_count());

    // 2. a small tensor update per iteration
    std::printf("\n== loop with a tensor update (16 floats: x = 0.999 x + 1e-4 i) ==\n");
    auto traced_decay = onyx::function(decay_loop, options);
    Tensor x0 = onyx::ones(onyx::DataType::kFloat, {16});
    Tensor trips = Tensor::scalar<int64_t>(quick ? 1000 : 100000);
    (void)traced_decay(Tensor::scalar<int64_t>(1), x0);
    Tensor eager_x, graph_x;
    double eager_s = best_seconds(2, [&] { eager_x = decay_loop(trips, x0); });
    double graph_s = best_seconds(3, [&] { graph_x = traced_decay(trips, x0); });
    print_row(("N=" + std::to_string(trips.values<int64_t>()[0])).c_str(), eager_s, graph_s);
    std::printf("x[0] eager %.6f, graph %.6f\n", eager_x.values<float>()[0], graph_x.values<float>()[0]);

    // 3. linear regression with a gradient tape
    Regression regression;
    if (quick) regression.steps = 20;
    std::printf("\n== linear regression, GradientTape, %d steps of gradient descent ==\n", regression.steps);
    Tensor w0 = onyx::zeros(onyx::DataType::kFloat, {4, 1});
    Tensor b0 = onyx::zeros(onyx::DataType::kFloat, {1});
    auto traced_train = onyx::function([&](const Tensor& w, const Tensor& b) { return regression.train(w, b); }, options);
    (void)traced_train(w0, b0);  // trace + compile
    std::vector<Tensor> eager_wb, graph_wb;
    eager_s = best_seconds(2, [&] { eager_wb = regression.train(w0, b0); });
    graph_s = best_seconds(3, [&] { graph_wb = traced_train(w0, b0); });
    print_row("train", eager_s, graph_s);
    auto print_weights = [](const char* what, const std::vector<Tensor>& wb, const Tensor& loss) {
      auto w = wb[0].values<float>();
      std::printf("%s: w = [%.3f %.3f %.3f %.3f], b = %.3f, loss %.6f\n", what, w[0], w[1], w[2], w[3],
                  wb[1].values<float>()[0], loss.values<float>()[0]);
    };
    print_weights("eager", eager_wb, regression.loss(eager_wb[0], eager_wb[1]));
    print_weights("graph", graph_wb, regression.loss(graph_wb[0], graph_wb[1]));
    std::printf("(data made with w = [1.5 -2 0.5 3], b = 0.25)\n");

    // 4. per-iteration cost of the Loop, and onnxruntime on the same model
    std::printf("\n== Loop per iteration (the traced sum model, N = 10^6) ==\n");
    Tensor million = Tensor::scalar<int64_t>(1000000);
    std::filesystem::path model = save_dir / "sum_loop.onnx";
    traced_sum.concrete(million).save(model);
    onyx::write_npy(save_dir / "sum_loop_input.npy", million);
    traced_decay.concrete(trips, x0).save(save_dir / "decay_loop.onnx");
    traced_train.concrete(w0, b0).save(save_dir / "linear_regression_train.onnx");
    std::printf("onyx (in process, CPU time): %.1f ns per iteration (Loop overhead plus one int64 Add)\n",
                loop_ns_per_iteration);
    const int eager_ops = quick ? 10000 : 100000;
    std::printf("eager per-op cost: %.1f ns (one int64 scalar Add, best of 3 x %d calls)\n", eager_ns_per_op(eager_ops),
                eager_ops);
    if (!quick) std::printf("scripts/bench_vs_ort.py, wall time, median of 10 runs each:\n");
    auto [onyx_ms, ort_ms] = quick ? std::pair<double, double>{-1, -1} : time_with_bench_vs_ort(model, save_dir);
    if (ort_ms > 0) {
      const double iterations = 1e6, ns_per_ms = 1e6;
      std::printf("onyx bench:        %.1f ns per iteration\n", onyx_ms * ns_per_ms / iterations);
      std::printf("onnxruntime:       %.1f ns per iteration (same model, this run)\n", ort_ms * ns_per_ms / iterations);
      std::printf("onnxruntime / onyx: %.2f\n", ort_ms / onyx_ms);
    }
    std::printf("traced models saved in %s\n", save_dir.c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "onyx_eager_seed: error: %s\n", error.what());
    return 1;
  }
}
