#include "runtime/session/inference_session.h"

#include <ctime>
#include <thread>

#include "providers/cpu/cpu_precision.h"
#include "providers/cpu/cpu_provider.h"
#include "runtime/extensions/custom_op_library.h"
#include "runtime/ir/model_loader.h"
#include "runtime/optimizer/channels_last.h"
#include "runtime/optimizer/gelu_fusion.h"
#include "runtime/optimizer/matmul_fusion.h"
#include "runtime/optimizer/qdq_fusion.h"
#include "runtime/optimizer/constant_folding.h"
#include "runtime/optimizer/conv_batch_norm.h"
#include "runtime/session/graph_checks.h"
#include "runtime/session/model_expansions.h"

namespace onyx {

InferenceSession::InferenceSession(const std::filesystem::path& model_path, SessionOptions options)
    : options_(std::move(options)) {
  start_profiling_if_enabled();
  {
    ProfilingScope profiling(profiler_.get());
    ProfiledSpan span("load", "Session");
    span.add_arg("path", json_quote(model_path.string()));
    model_ = load_model(model_path);
  }
  initialize();
}

namespace {

void add_cpu_provider_if_missing(SessionOptions& options) {
  bool has_cpu = false;
  for (const auto& provider : options.providers) has_cpu = has_cpu || provider->device().is_cpu();
  if (!has_cpu) options.providers.push_back(std::make_shared<CpuExecutionProvider>());
}

// Steps 1-3 of a session (validate, infer types, optimize), shared with preview().
InferredTypes prepare_graph(Model& model, const SessionOptions& options, const OpRegistry& ops) {
  Graph& graph = model.graph;
  apply_model_expansions(model);  // e.g. the Gradient op -> backward nodes
  validate_and_sort_graph(graph);
  InferredTypes types = infer_types(graph, model, nullptr, ops);
  bool cpu_only = true;
  for (const auto& provider : options.providers) cpu_only = cpu_only && provider->device().is_cpu();
  // Before constant folding, which would dequantize the weights of the patterns it fuses.
  if (options.optimization_level >= 2 && cpu_only && fuse_qdq_products(graph, types) > 0) {
    remove_dead_nodes(graph);
    types = infer_types(graph, model, nullptr, ops);
  }
  if (options.optimization_level >= 1) {
    int folded = fold_constants(graph, model, types);
    folded += fold_conv_batch_norm(graph);
    remove_dead_nodes(graph);
    if (folded > 0) types = infer_types(graph, model, nullptr, ops);  // folded values now feed shape rules
  }
  if (options.optimization_level >= 2 && cpu_only && convert_to_channels_last(graph, model, types) > 0) {
    remove_dead_nodes(graph);
    types = infer_types(graph, model);
  }
  if (options.optimization_level >= 2 && cpu_only) {
    // The Gelu nodes keep the names of the values they replace, so `types` still describes
    // every value the matmul fusion reads; one inference afterwards covers both.
    int fused = fuse_gelu(graph, model);
    fused += fuse_matmul_bias_activation(graph, model, types);
    if (fused > 0) types = infer_types(graph, model);
  }
  return types;
}

std::vector<ExecutionProvider*> raw_providers(const SessionOptions& options) {
  std::vector<ExecutionProvider*> providers;
  for (const auto& provider : options.providers) providers.push_back(provider.get());
  return providers;
}

}  // namespace

InferenceSession::InferenceSession(Model model, SessionOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
  start_profiling_if_enabled();
  initialize();
}

void InferenceSession::start_profiling_if_enabled() {
  if (!options_.enable_profiling) return;
  profiler_ = std::make_unique<Profiler>();
  profiling_ = true;
  if (!options_.profile_file.empty()) {
    profile_path_ = options_.profile_file;
    return;
  }
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d_%H-%M-%S", &local);
  profile_path_ = options_.profile_file_prefix + "_" + stamp + ".json";
}

void InferenceSession::initialize() {
  ProfilingScope profiling(profiler_.get());
  ProfiledSpan creation("session creation", "Session");
  threads_ = options_.intra_op_threads > 0 ? options_.intra_op_threads
                                           : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  add_cpu_provider_if_missing(options_);
  // A device that cannot be used fails here, before any work, with the provider's message.
  for (const auto& provider : options_.providers) provider->open();

  ops_ = make_op_registry(std::move(options_.custom_ops), options_.custom_op_libraries);
  options_.custom_ops.clear();
  {
    ProfiledSpan span("optimize", "Session");
    types_ = prepare_graph(model_, options_, *ops_);
  }
  memory_limit_ = options_.memory_limit > 0 ? options_.memory_limit : default_memory_limit();
  precision_ = resolve_precision(options_.precision);
  ProfiledSpan span("plan", "Session");  // placement, kernel creation and the memory plan
  plan_ = std::make_unique<ExecutionPlan>(model_.graph, model_, types_, raw_providers(options_), threads_,
                                          std::vector<std::string>{}, *ops_, memory_limit_, std::vector<bool>{},
                                          precision_);
}

SessionPreview InferenceSession::preview(Model model, SessionOptions options) {
  add_cpu_provider_if_missing(options);
  std::shared_ptr<OpRegistry> ops = make_op_registry(std::move(options.custom_ops), options.custom_op_libraries);
  SessionPreview preview;
  preview.types = prepare_graph(model, options, *ops);
  preview.placement = place_graph(model.graph, model, preview.types, raw_providers(options), {}, *ops);
  preview.model = std::move(model);
  preview.providers = options.providers;
  return preview;
}

bool InferenceSession::input_is_optional(const std::string& name) const {
  return model_.graph.initializers.count(name) > 0;
}

void InferenceSession::check_feed(const ValueInfo& input, const Value& value) const {
  const TypeInfo& declared = input.type;
  if (declared.kind == TypeInfo::Kind::kTensor) {
    if (!value.is_tensor()) {
      throw_error(ErrorCode::kInvalidArgument, "input '", input.name, "' expects a tensor ",
                  declared.to_string());
    }
    const Tensor& tensor = value.tensor();
    if (declared.elem_type != DataType::kUndefined && tensor.dtype() != declared.elem_type) {
      throw_error(ErrorCode::kInvalidArgument, "input '", input.name, "' expects element type ",
                  dtype_name(declared.elem_type), ", got ", dtype_name(tensor.dtype()));
    }
    if (declared.shape) {
      const auto& dims = *declared.shape;
      bool matches = dims.size() == tensor.rank();
      for (size_t i = 0; matches && i < dims.size(); ++i) {
        matches = !dims[i].is_known() || dims[i].value == tensor.dim(i);
      }
      if (!matches) {
        throw_error(ErrorCode::kInvalidArgument, "input '", input.name, "' expects shape ",
                    declared.to_string(), ", got ", shape_to_string(tensor.shape()));
      }
    }
  } else if (declared.kind == TypeInfo::Kind::kSequence) {
    if (!value.is_sequence()) {
      throw_error(ErrorCode::kInvalidArgument, "input '", input.name, "' expects a sequence ",
                  declared.to_string());
    }
    if (declared.element && declared.element->kind == TypeInfo::Kind::kMap) {
      const Sequence& items = value.sequence_items();
      for (size_t i = 0; i < items.size(); ++i) {
        check_map_feed(input.name + "[" + std::to_string(i) + "]", *declared.element, items[i]);
      }
    }
  } else if (declared.kind == TypeInfo::Kind::kMap) {
    check_map_feed(input.name, declared, value);
  }
}

void InferenceSession::check_map_feed(const std::string& name, const TypeInfo& declared, const Value& value) {
  if (!value.is_map()) {
    throw_error(ErrorCode::kInvalidArgument, "input '", name, "' expects a map ", declared.to_string());
  }
  const Map& map = value.map_entries();
  const DataType value_type = declared.element ? declared.element->elem_type : DataType::kUndefined;
  if (map.keys.dtype() != declared.elem_type ||
      (value_type != DataType::kUndefined && map.values.dtype() != value_type)) {
    throw_error(ErrorCode::kInvalidArgument, "input '", name, "' expects a ", declared.to_string(), ", got a ",
                TypeInfo::map_of(map.keys.dtype(), map.values.dtype()).to_string());
  }
}

const ValueInfo& InferenceSession::input_named(const std::string& name) const {
  if (const ValueInfo* input = model_.graph.find_input(name)) return *input;
  std::string expected;
  for (const ValueInfo& input : model_.graph.inputs) expected += (expected.empty() ? "" : ", ") + input.name;
  throw_error(ErrorCode::kInvalidArgument, "unknown input '", name, "'; the model's inputs are: ", expected);
}

std::vector<Value> InferenceSession::ordered_inputs(const std::map<std::string, Value>& feeds) const {
  const auto& names = plan_->input_names();
  for (const auto& [name, value] : feeds) input_named(name);
  std::vector<Value> inputs;
  inputs.reserve(names.size());
  for (const ValueInfo& input : model_.graph.inputs) {
    auto it = feeds.find(input.name);
    if (it == feeds.end()) {
      if (!input_is_optional(input.name) && input.type.kind != TypeInfo::Kind::kOptional) {
        throw_error(ErrorCode::kInvalidArgument, "missing input '", input.name, "' (",
                    input.type.to_string(), ")");
      }
      auto init = model_.graph.initializers.find(input.name);
      inputs.push_back(init == model_.graph.initializers.end() ? Value() : Value(init->second));
      continue;
    }
    check_feed(input, it->second);
    inputs.push_back(it->second);
  }
  return inputs;
}

std::vector<NamedValue> InferenceSession::run(const std::map<std::string, Value>& feeds) const {
  return run(feeds, RunOptions{});
}

std::vector<NamedValue> InferenceSession::run(const std::map<std::string, Value>& feeds,
                                              const RunOptions& options) const {
  if (profiling_.load(std::memory_order_relaxed)) return run_with_profiler(feeds, options);
  return name_outputs(plan_->run(ordered_inputs(feeds), options.outputs_on_device, options.observer));
}

std::vector<NamedValue> InferenceSession::run_with_profiler(const std::map<std::string, Value>& feeds,
                                                            const RunOptions& options) const {
  ProfilingScope profiling(profiler_.get());
  ProfiledSpan span("run", "Run");
  span.add_arg("run", std::to_string(profiled_runs_++));
  return name_outputs(plan_->run(ordered_inputs(feeds), options.outputs_on_device, options.observer));
}

std::filesystem::path InferenceSession::end_profiling() {
  if (!profiling_.exchange(false)) return {};
  try {
    profiler_->write(profile_path_);
  } catch (...) {
    profiling_ = true;  // nothing was written: the trace stays for another try
    throw;
  }
  return profile_path_;
}

std::vector<NamedValue> InferenceSession::name_outputs(std::vector<Value> values) const {
  std::vector<NamedValue> outputs;
  for (size_t i = 0; i < values.size(); ++i) {
    outputs.push_back({model_.graph.outputs[i].name, std::move(values[i])});
  }
  return outputs;
}

}  // namespace onyx
