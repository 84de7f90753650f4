// The inference API: InferenceSession(model) does all the work up front (validate, infer
// types, optimize, partition, create kernels, plan memory); run(feeds) walks the plan.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "providers/execution_provider.h"
#include "providers/precision.h"
#include "runtime/extensions/op_registry.h"
#include "runtime/ir/graph.h"
#include "runtime/session/execution_plan.h"
#include "runtime/session/placement.h"
#include "runtime/session/profiler.h"
#include "runtime/session/type_inference.h"

namespace onyx {

struct SessionOptions {
  int intra_op_threads = 0;     // 0: one per core
  // 0: none; 1: constant folding, Conv+BatchNormalization folding and dead-node removal;
  // 2: also channels-last convolutions with fused residuals/activations, GELU's Erf form as one
  // node, and fully connected layers fused with their bias and activation
  // (runtime/optimizer/channels_last.h, gelu_fusion.h and matmul_fusion.h; only when every
  // provider is a CPU one).
  int optimization_level = 2;
  // Providers in priority order; the CPU provider is appended when missing. By name, with a
  // device id and options: `providers = make_providers({"cuda:0", "cpu"})`
  // (providers/provider_factory.h). Each node runs on the first provider with a kernel for it.
  std::vector<std::shared_ptr<ExecutionProvider>> providers;
  // Custom ops for this session only, looked up before the global registry (OpRegistry::global,
  // which holds the built-in ops and globally registered custom ops). Libraries are loaded by
  // path and stay loaded as long as the session.
  std::vector<CustomOpDefinition> custom_ops;
  std::vector<std::filesystem::path> custom_op_libraries;
  // The most bytes one tensor may take (runtime/tensor/memory_limit.h); 0: the machine's
  // physical memory. A node whose output would need more fails naming the node and both sizes.
  size_t memory_limit = 0;
  // Opt-in reduced precision (providers/precision.h): bf16 runs convolutions and matrix
  // products on bf16 inputs and weights with float accumulation and outputs, where the CPU has
  // avx512_bf16; elsewhere the session runs fp32 after a one-line notice on stderr.
  Precision precision = Precision::kFp32;
  // A Chrome trace (runtime/session/profiler.h) of the session's creation and of every run
  // until end_profiling(), which writes it: to `profile_file` when set, else to
  // "<profile_file_prefix>_<date>_<time>.json" in the working folder (as onnxruntime names it).
  // Off, a run takes no time stamps.
  bool enable_profiling = false;
  std::filesystem::path profile_file;
  std::string profile_file_prefix = "onyx_profile";
};

// What a session would run, made without creating kernels or touching a device: the
// optimized model, its types and the placement of its nodes over the providers.
struct SessionPreview {
  Model model;
  InferredTypes types;
  std::vector<std::shared_ptr<ExecutionProvider>> providers;  // GraphPlacement points into these
  GraphPlacement placement;
};

// Device binding, as onnxruntime's IOBinding offers: feeds may be tensors already on a
// provider's device (copied only to where a node reads them, so a CUDA tensor fed to a CUDA
// node is not copied at all), and with `outputs_on_device` the outputs stay where they were
// made, so benchmarks time the model rather than the copies.
struct RunOptions {
  bool outputs_on_device = false;
  // Hears of each output as soon as the plan has made it, before the run returns, and gets a
  // call between steps (runtime/session/execution_plan.h). Null: none, and no cost.
  RunObserver* observer = nullptr;
};

struct NamedValue {
  std::string name;
  Value value;
};

class InferenceSession {
 public:
  explicit InferenceSession(Model model, SessionOptions options = {});
  explicit InferenceSession(const std::filesystem::path& model_path, SessionOptions options = {});

  // Placement without a device (`onyx inspect --device cuda` on a machine without a GPU).
  static SessionPreview preview(Model model, SessionOptions options = {});

  // Feeds by input name. Every graph input without an initializer must be fed; types and
  // shapes are checked against the declarations. Returns the graph outputs in order.
  std::vector<NamedValue> run(const std::map<std::string, Value>& feeds) const;
  std::vector<NamedValue> run(const std::map<std::string, Value>& feeds, const RunOptions& options) const;

  // With SessionOptions::enable_profiling: writes the trace gathered so far (atomically), stops
  // profiling and returns the file's path; an empty path when profiling is off or already
  // ended. Throws an onyx::Error naming the path when it cannot be written.
  std::filesystem::path end_profiling();
  // The session's profiler while profiling is on (null otherwise): `onyx bench --profile`
  // sums its node events per op type.
  const Profiler* profiler() const { return profiling_ ? profiler_.get() : nullptr; }

  // Graph inputs the caller must (or may, for initializer-backed ones) feed.
  const std::vector<ValueInfo>& inputs() const { return model_.graph.inputs; }
  const std::vector<ValueInfo>& outputs() const { return model_.graph.outputs; }
  bool input_is_optional(const std::string& name) const;
  // The declaration of graph input `name`; throws kInvalidArgument naming the model's inputs
  // when it has none of that name (the one message for a wrong feed name: run(), the CLI's
  // --input, the Python bindings).
  const ValueInfo& input_named(const std::string& name) const;
  // The optimized model the session runs, with inferred types.
  const Model& model() const { return model_; }
  const InferredTypes& types() const { return types_; }
  const ExecutionPlan& plan() const { return *plan_; }
  // The ops this session sees: its own custom ops over the global registry.
  const OpRegistry& ops() const { return *ops_; }
  int threads() const { return threads_; }
  // The most bytes one tensor may take (SessionOptions::memory_limit, resolved).
  size_t memory_limit() const { return memory_limit_; }
  // The precision kernels run at: SessionOptions::precision resolved against the CPU.
  Precision precision() const { return precision_; }

 private:
  void start_profiling_if_enabled();
  void initialize();  // everything the constructors share, after the model is loaded
  std::vector<NamedValue> run_with_profiler(const std::map<std::string, Value>& feeds, const RunOptions& options) const;
  void check_feed(const ValueInfo& input, const Value& value) const;
  // A map feed (alone or as a seq(map) item, `name` says which) against its declared key and value types.
  static void check_map_feed(const std::string& name, const TypeInfo& declared, const Value& value);
  std::vector<Value> ordered_inputs(const std::map<std::string, Value>& feeds) const;
  std::vector<NamedValue> name_outputs(std::vector<Value> values) const;

  Model model_;
  SessionOptions options_;
  std::shared_ptr<OpRegistry> ops_;  // before plan_: kernels it made die first
  InferredTypes types_;
  int threads_ = 1;
  size_t memory_limit_ = 0;
  Precision precision_ = Precision::kFp32;
  std::unique_ptr<ExecutionPlan> plan_;
  // Kept after end_profiling() (runs still in flight may record into it); profiling_ says
  // whether runs report to it.
  std::unique_ptr<Profiler> profiler_;
  std::atomic<bool> profiling_{false};
  mutable std::atomic<int64_t> profiled_runs_{0};
  std::filesystem::path profile_path_;
};

}  // namespace onyx
