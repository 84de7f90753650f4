// `onyx run MODEL`: feeds inputs from .pb/.npy files (or random data), runs the model once,
// prints every output (or, with --top-k, a classifier's best classes per batch row) and
// optionally writes them as TensorProto files and a Chrome trace of the run.
#include <filesystem>
#include <iostream>
#include <optional>

#include "runtime/ir/value_files.h"
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
#include "tools/top_k.h"
#include "tools/value_printing.h"

namespace onyx::cli {

namespace {
struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string output_dir;
  int threads = 0;
  size_t memory_limit = 0;
  int optimization_level = SessionOptions{}.optimization_level;
  bool random = false;
  bool verbose = false;
  std::vector<std::string> custom_ops;
  std::string device;
  Precision precision = Precision::kFp32;
  int top_k = 0;
  std::string profile_json;
};

int run(const RunOptions& options) {
  load_custom_op_libraries(options.custom_ops);
  SessionOptions session_options;
  session_options.intra_op_threads = options.threads;
  session_options.memory_limit = options.memory_limit;
  session_options.optimization_level = options.optimization_level;
  session_options.precision = options.precision;
  session_options.providers = providers_for_device(options.device);
  session_options.enable_profiling = !options.profile_json.empty();
  session_options.profile_file = options.profile_json;
  InferenceSession session(std::filesystem::path(options.model), session_options);

  if (options.verbose) print_placement(std::cout, session.model().graph, session.plan().placement());
  std::map<std::string, Value> feeds = build_feeds(session, options.inputs, options.random);
  std::vector<NamedValue> outputs = session.run(feeds);
  if (!options.output_dir.empty()) std::filesystem::create_directories(options.output_dir);
  for (size_t k = 0; k < outputs.size(); ++k) {
    const std::optional<std::string> classes =
        options.top_k > 0 ? describe_top_k(outputs[k].value, options.top_k) : std::nullopt;
    std::cout << outputs[k].name << ": " << (classes ? *classes : describe_value(outputs[k].value)) << "\n";
    if (!options.output_dir.empty()) {
      auto path = std::filesystem::path(options.output_dir) / ("output_" + std::to_string(k) + ".pb");
      write_value_pb(path, outputs[k].value, outputs[k].name, session.outputs()[k].type);
    }
  }
  if (!options.profile_json.empty()) std::cout << "wrote the profile " << session.end_profiling().string() << "\n";
  return 0;
}
}  // namespace

Command add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand("run", "Run a model once and print its outputs");
  command->add_option("model", options->model, "the .onnx model")->required();
  command->add_option("--input,-i", options->inputs, "NAME=FILE: an input as .pb (TensorProto) or .npy; repeatable");
  command->add_option("--output-dir,-o", options->output_dir, "write each output as output_<k>.pb here");
  command->add_option("--threads", options->threads, "intra-op threads (default: one per core)")->check(non_negative());
  command->add_option("--optimization-level", options->optimization_level,
                      "0: none, 1: constant and Conv+BatchNormalization folding, 2: also channels-last convolutions and fused bias/activation layers (default)")
      ->check(CLI::Range(0, 2));
  command->add_flag("--random", options->random, "fill inputs not given with random data of their declared shape");
  add_memory_limit_option(*command, options->memory_limit);
  add_precision_option(*command, options->precision, "bf16 runs convolutions and matrix products on bf16 inputs and weights");
  add_custom_ops_option(*command, options->custom_ops);
  add_device_option(*command, options->device);
  command->add_option("--top-k", options->top_k,
                      "K: print a classifier's K best classes per batch row (index and probability, or logit and "
                      "its softmax probability) instead of the raw values of float [batch, classes] outputs")
      ->check(positive());
  add_profile_json_option(*command, options->profile_json);
  command->add_flag("--verbose,-v", options->verbose, "also print where nodes run and the copies between devices");
  return [options] { return run(*options); };
}

}  // namespace onyx::cli
