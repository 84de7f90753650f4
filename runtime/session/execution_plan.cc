#include "runtime/session/execution_plan.h"

#include <omp.h>

#include <chrono>
#include <cstring>
#include <algorithm>
#include <set>

#include "runtime/session/node_call.h"
#include "runtime/session/subgraph_compiler.h"

namespace onyx {

namespace {

// The provider (index) whose device holds `device`.
int provider_index_of(const std::vector<ExecutionProvider*>& providers, Device device) {
  for (size_t i = 0; i < providers.size(); ++i) {
    if (providers[i]->device() == device) return static_cast<int>(i);
  }
  throw_error(ErrorCode::kInvalidArgument, "a tensor on ", device.to_string(),
              " was given, but the session has no provider for that device");
}

DeviceRunState* run_state_of(const DeviceRunStates* states, int provider) {
  return states ? (*states)[static_cast<size_t>(provider)].get() : nullptr;
}

// Moves a value to `to`'s device at a partition border. The source is the tensor's own
// device, so a value whose place is known only at run time (a feed the caller bound on a
// device) is copied only when it is elsewhere. Sequences and optionals stay where they are.
class DeviceTransferKernel final : public Kernel {
 public:
  DeviceTransferKernel(const std::vector<ExecutionProvider*>& providers, int to)
      : providers_(providers), to_(to) {}
  void compute(KernelContext& context) override {
    const Value& value = context.input_value(0);
    ExecutionProvider& to = *providers_[static_cast<size_t>(to_)];
    if (!value.is_tensor() || value.tensor().device() == to.device()) {
      context.set_output(0, value);
      return;
    }
    const Tensor& tensor = value.tensor();
    Tensor host = tensor;
    if (!tensor.device().is_cpu()) {
      int from = provider_index_of(providers_, tensor.device());
      host = providers_[static_cast<size_t>(from)]->to_host(tensor, run_state_of(context.run_states(), from));
    }
    context.set_output(0, to.device().is_cpu() ? host : to.from_host(host, run_state_of(context.run_states(), to_)));
  }

 private:
  const std::vector<ExecutionProvider*>& providers_;
  int to_;
};

Tensor copy_out_of_arena(const Tensor& alias, int slot, OutputAllocator& allocator) {
  Tensor own = allocator.allocate(slot, alias.dtype(), alias.shape());
  if (alias.byte_size()) std::memcpy(own.mutable_raw_data(), alias.raw_data(), alias.byte_size());
  return own;
}

// Sequences are rare and short: checking their items costs little.
Value sequence_out_of_arena(const Value& sequence, const PlannedOutputAllocator& allocator) {
  bool in_arena = false;
  for (const Value& item : sequence.sequence_items()) in_arena = in_arena || (item.is_tensor() && allocator.in_arena(item.tensor()));
  if (!in_arena) return sequence;
  Sequence items;
  for (const Value& item : sequence.sequence_items()) {
    items.push_back(item.is_tensor() && allocator.in_arena(item.tensor()) ? Value(item.tensor().clone()) : item);
  }
  return Value::sequence(std::move(items), sequence.sequence_element_type());
}

// For ShapeSpecializedMemory: which of `step`'s outputs are views of one of its inputs.
void record_views(const PlanStep& step, const std::vector<Value>& values, std::vector<int>& views) {
  for (int output : step.outputs) {
    if (output < 0 || !values[static_cast<size_t>(output)].is_tensor()) continue;
    const Tensor& made = values[static_cast<size_t>(output)].tensor();
    const char* data = static_cast<const char*>(made.raw_data());
    if (data == nullptr || made.byte_size() == 0) continue;
    for (int input : step.inputs) {
      if (input < 0 || !values[static_cast<size_t>(input)].is_tensor()) continue;
      const Tensor& read = values[static_cast<size_t>(input)].tensor();
      const char* start = static_cast<const char*>(read.raw_data());
      if (start != nullptr && data >= start && data + made.byte_size() <= start + read.byte_size()) {
        views[static_cast<size_t>(output)] = input;
        break;
      }
    }
  }
}

// "[1,3,224,224]" for a tensor, "\"sequence\"" and so on for the other kinds, null when absent.
std::string trace_shape_of(const Value& value) {
  if (value.is_tensor()) {
    std::string out = "[";
    for (size_t i = 0; i < value.tensor().rank(); ++i) out += (i ? "," : "") + std::to_string(value.tensor().dim(i));
    return out + "]";
  }
  if (value.is_sequence()) return "\"sequence\"";
  return value.is_none() ? "null" : "\"other\"";
}

std::string trace_shapes_of(const std::vector<Value>& values, const std::vector<int>& slots) {
  std::string out = "[";
  for (size_t i = 0; i < slots.size(); ++i) {
    out += i ? "," : "";
    out += slots[i] < 0 ? "null" : trace_shape_of(values[static_cast<size_t>(slots[i])]);
  }
  return out + "]";
}

std::string trace_name_of(const PlanStep& step);

// Runs one step as a trace event; subgraph runs inside it find it as the running node.
void compute_step_with_trace(Profiler& profiler, const PlanStep& step, const std::vector<Value>& values,
                             KernelContext& context) {
  RunningNode* outer = running_node();
  RunningNode running;
  running.name = trace_name_of(step);
  running.op_type = step.node ? step.node->op_type : std::string();
  running.depth = outer ? outer->depth + 1 : 0;
  running.outer = outer;
  TraceEvent event;
  event.name = running.name;
  event.category = step.node ? "Node" : "Copy";
  event.depth = running.depth;
  event.args = {{"op_type", json_quote(step.node ? step.node->op_type : "MemcpyToDevice")},
                {"provider", json_quote(step.provider->name())},
                {"implementation", json_quote(step.kernel->implementation())},
                {"input_shapes", trace_shapes_of(values, step.inputs)}};
  if (outer) event.args.emplace_back("parent", json_quote(outer->name));
  set_running_node(&running);
  event.start_ns = profiler.now_ns();
  try {
    step.kernel->compute(context);
  } catch (...) {
    set_running_node(outer);
    throw;
  }
  event.duration_ns = profiler.now_ns() - event.start_ns;
  set_running_node(outer);
  event.args.emplace_back("output_shapes", trace_shapes_of(values, step.outputs));
  profiler.record(std::move(event));
}

}  // namespace

Tensor ExecutionPlan::to_host(const Tensor& tensor, const KernelContext& context) const {
  if (tensor.device().is_cpu()) return tensor;
  int from = provider_index_of(providers_, tensor.device());
  return providers_[static_cast<size_t>(from)]->to_host(tensor, run_state_of(context.run_states(), from));
}

std::string describe_step(const PlanStep& step) {
  if (step.node) return step.node->describe();
  return "copy of '" + step.copy->value + "' to " + step.copy->to->device().to_string();
}

int ExecutionPlan::slot_of(const std::string& name) {
  auto [it, inserted] = slots_.emplace(name, static_cast<int>(slot_names_.size()));
  if (inserted) slot_names_.push_back(name);
  return it->second;
}

namespace {

// Outputs whose size type inference already knows are checked before any kernel exists, so a
// model asking for too much fails at session creation, not after a long run.
void check_static_outputs_within_limit(const Node& node, const std::vector<const TypeInfo*>& output_types,
                                       size_t memory_limit) {
  for (size_t i = 0; i < output_types.size(); ++i) {
    const TypeInfo* type = output_types[i];
    if (type == nullptr || !type->has_static_shape() || type->elem_type == DataType::kUndefined) continue;
    try {
      check_output_within_limit(i, type->elem_type, type->static_shape(), memory_limit);
    } catch (const Error& error) {
      throw Error(error.code(), node.describe() + ": " + error.what());
    }
  }
}

// The name a step goes by in a trace: the node's name (its op type when it has none), or what
// a device copy moves.
std::string trace_name_of(const PlanStep& step) {
  if (step.node == nullptr) return describe_step(step);
  return step.node->name.empty() ? step.node->op_type : step.node->name;
}

void record_kernel_creation(Profiler& profiler, const PlanStep& step, int64_t start_ns) {
  TraceEvent event;
  event.name = "create kernel " + trace_name_of(step);
  event.category = "Session";
  event.start_ns = start_ns;
  event.duration_ns = profiler.now_ns() - start_ns;
  event.args = {{"op_type", json_quote(step.node->op_type)},
                {"provider", json_quote(step.provider->name())},
                {"implementation", json_quote(step.kernel->implementation())}};
  profiler.record(std::move(event));
}

class PlanSubgraphCompiler final : public SubgraphCompiler {
 public:
  PlanSubgraphCompiler(const Model& model, const InferredTypes& types,
                       const std::vector<ExecutionProvider*>& providers, int threads, const OpRegistry& ops,
                       size_t memory_limit, Precision precision)
      : model_(model), types_(types), providers_(providers), threads_(threads), ops_(ops),
        memory_limit_(memory_limit), precision_(precision) {}

  std::unique_ptr<ExecutionPlan> compile(const Graph& graph, std::vector<bool> outputs_to_host) const override {
    InferredTypes inner = infer_types(graph, model_, &types_, ops_);
    return std::make_unique<ExecutionPlan>(graph, model_, inner, providers_, threads_, outer_scope_reads(graph), ops_,
                                           memory_limit_, std::move(outputs_to_host), precision_);
  }

 private:
  const Model& model_;
  const InferredTypes& types_;
  const std::vector<ExecutionProvider*>& providers_;
  int threads_;
  const OpRegistry& ops_;
  size_t memory_limit_;
  Precision precision_;
};

}  // namespace

ExecutionPlan::~ExecutionPlan() = default;

ExecutionPlan::ExecutionPlan(const Graph& graph, const Model& model, const InferredTypes& types,
                             const std::vector<ExecutionProvider*>& providers, int threads,
                             const std::vector<std::string>& outer_inputs, const OpRegistry& ops,
                             size_t memory_limit, std::vector<bool> outputs_to_host, Precision precision)
    : threads_(threads), memory_limit_(memory_limit), precision_(precision) {
  Profiler* profiler = active_profiler();
  {
    ProfiledSpan span("placement", "Session");
    placement_ = place_graph(graph, model, types, providers, outer_inputs, ops, outputs_to_host);
  }
  providers_ = providers;
  host_provider_ = placement_.host;
  // oneDNN fixes a primitive's thread count when the kernel creates it, here for static shapes:
  // created under the default (one per core) a session of fewer threads would run its
  // convolutions with extra OpenMP threads that then spin between them.
  omp_set_num_threads(threads_);

  for (const auto& input : graph.inputs) {
    input_names_.push_back(input.name);
    input_slots_.push_back(slot_of(input.name));
  }
  for (const auto& name : outer_inputs) {
    input_names_.push_back(name);
    input_slots_.push_back(slot_of(name));
  }
  for (const auto& name : input_names_) {
    const TypeInfo* type = types.find(name);
    input_types_.push_back(type ? *type : TypeInfo());
  }
  PlanSubgraphCompiler subgraphs(model, types, providers, threads, ops, memory_limit, precision);
  for (const auto& name : graph.initializer_order) {
    int slot = slot_of(name);
    if (graph.find_input(name) == nullptr) constants_.emplace_back(slot, graph.initializers.at(name));
  }

  auto index_of = [&](ExecutionProvider* provider) {
    return static_cast<int>(std::find(providers_.begin(), providers_.end(), provider) - providers_.begin());
  };
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    const NodePlacement& placed = placement_.nodes[n];
    for (const PlannedCopy& copy : placed.copies_before) add_step_for_copy(copy);
    PlanStep step;
    step.node = &node;
    step.opset = placed.opset;
    step.provider = placed.provider;
    step.provider_index = index_of(placed.provider);
    step.host_reason = placed.host_reason;
    has_device_steps_ = has_device_steps_ || !placed.provider->device().is_cpu();
    std::vector<std::string> implicit = implicit_inputs(node);
    for (const auto& input : placed.inputs) step.inputs.push_back(input.empty() ? -1 : slot_of(input));
    for (const auto& output : node.outputs) step.outputs.push_back(output.empty() ? -1 : slot_of(output));
    const KernelDef* def = placed.kernel;

    std::vector<const TypeInfo*> input_types;
    std::vector<const Tensor*> constants;
    for (const auto& input : node.inputs) {
      input_types.push_back(input.empty() ? nullptr : types.find(input));
      auto it = graph.initializers.find(input);
      bool constant = !input.empty() && it != graph.initializers.end() && graph.find_input(input) == nullptr;
      constants.push_back(constant ? &it->second : nullptr);
    }
    for (const auto& input : implicit) input_types.push_back(types.find(input));
    std::vector<const TypeInfo*> output_types;
    for (const auto& output : node.outputs) output_types.push_back(output.empty() ? nullptr : types.find(output));
    check_static_outputs_within_limit(node, output_types, memory_limit_);
    KernelInfo info(node, step.opset, input_types, output_types, constants, *step.provider, threads);
    info.set_precision(precision_);
    bool has_subgraphs = false;
    for (const Attribute& attribute : node.attributes) has_subgraphs = has_subgraphs || attribute.g || !attribute.graphs.empty();
    if (has_subgraphs) info.set_subgraph_context(&subgraphs, implicit);
    try {
      const int64_t start = profiler ? profiler->now_ns() : 0;
      step.kernel = create_checked_kernel(*def, info);
      if (profiler) record_kernel_creation(*profiler, step, start);
    } catch (const Error& error) {
      throw Error(error.code(), node.describe() + ": " + error.what());
    } catch (const std::exception& error) {
      throw Error(ErrorCode::kRuntimeFailure, node.describe() + ": " + user_message(error));
    }
    steps_.push_back(std::move(step));
  }
  for (const PlannedCopy& copy : placement_.output_copies) add_step_for_copy(copy);
  output_copy_steps_ = placement_.output_copies.size();
  std::set<int> constant_slots;
  for (const auto& [slot, value] : constants_) constant_slots.insert(slot);
  for (size_t i = 0; i < placement_.outputs.size(); ++i) {
    output_slots_.push_back(slot_of(placement_.outputs[i]));
    device_output_slots_.push_back(slot_of(graph.outputs[i].name));
  }
  // A constant stays in the frame for the next run, and a value listed as two outputs (a body
  // returning one value twice) must reach both: such outputs are copied out, the last use of a
  // repeated one moved.
  for (size_t i = 0; i < output_slots_.size(); ++i) {
    auto repeated_later = [&](const std::vector<int>& slots) {
      return std::find(slots.begin() + static_cast<std::ptrdiff_t>(i) + 1, slots.end(), slots[i]) != slots.end();
    };
    output_is_copied_.push_back(constant_slots.count(output_slots_[i]) > 0 || repeated_later(output_slots_) ||
                                repeated_later(device_output_slots_));
  }
  // When each output is final, for RunObserver: after the last step that writes its slot.
  auto ready_steps = [&](const std::vector<int>& slots, std::vector<std::pair<size_t, size_t>>& order) {
    std::vector<size_t> producer(slot_names_.size(), steps_.size());
    for (size_t i = 0; i < steps_.size(); ++i) {
      for (int slot : steps_[i].outputs) {
        if (slot >= 0) producer[static_cast<size_t>(slot)] = i;
      }
    }
    for (size_t i = 0; i < slots.size(); ++i) {
      const bool constant = constant_slots.count(slots[i]) > 0;
      order.emplace_back(constant ? steps_.size() : producer[static_cast<size_t>(slots[i])], i);
    }
    std::stable_sort(order.begin(), order.end());
  };
  ready_steps(output_slots_, ready_order_);
  ready_steps(device_output_slots_, device_ready_order_);
  {
    ProfiledSpan span("memory plan", "Session");
    compute_lifetimes(types);
  }
  arenas_ = std::make_unique<ArenaPool>(host_provider_->allocator(), memory_.arena_bytes());
  dynamic_memory_ = std::make_unique<CachingAllocator>(host_provider_->allocator());
}

void ExecutionPlan::add_step_for_copy(const PlannedCopy& copy) {
  if (copy.of_constant) {
    // An initializer a device kernel reads: uploaded once, here, and handed to every run's
    // frame like the other constants.
    auto host_constant = std::find_if(constants_.begin(), constants_.end(),
                                      [&](const auto& entry) { return entry.first == slot_of(copy.value); });
    if (host_constant != constants_.end() && host_constant->second.is_tensor()) {
      Tensor uploaded = copy.to->from_host(host_constant->second.tensor(), nullptr);
      copy.to->synchronize(nullptr);
      constants_.emplace_back(slot_of(copy.copy_name), Value(std::move(uploaded)));
      return;
    }
  }
  PlanStep transfer;
  transfer.provider = copy.to;
  transfer.provider_index =
      static_cast<int>(std::find(providers_.begin(), providers_.end(), copy.to) - providers_.begin());
  transfer.copy = &copy;
  transfer.kernel = std::make_unique<DeviceTransferKernel>(providers_, transfer.provider_index);
  transfer.inputs = {slot_of(copy.value)};
  transfer.outputs = {slot_of(copy.copy_name)};
  steps_.push_back(std::move(transfer));
}

void ExecutionPlan::compute_lifetimes(const InferredTypes& types) {
  const int step_count = static_cast<int>(steps_.size());
  std::vector<int> first(slot_names_.size(), -1);
  std::vector<int> last(slot_names_.size(), -1);
  for (int i = 0; i < step_count; ++i) {
    for (int slot : steps_[static_cast<size_t>(i)].inputs) {
      if (slot >= 0) last[static_cast<size_t>(slot)] = i;
    }
    for (int slot : steps_[static_cast<size_t>(i)].outputs) {
      if (slot < 0) continue;
      if (first[static_cast<size_t>(slot)] < 0) first[static_cast<size_t>(slot)] = i;
      last[static_cast<size_t>(slot)] = std::max(last[static_cast<size_t>(slot)], i);
    }
  }
  std::set<int> constant_slots;
  for (const auto& [slot, value] : constants_) constant_slots.insert(slot);
  std::set<int> keep(output_slots_.begin(), output_slots_.end());
  keep.insert(constant_slots.begin(), constant_slots.end());

  std::vector<ValueLifetime> lifetimes;
  std::vector<ValueLifetime> sized_at_run_time;  // for ShapeSpecializedMemory
  for (size_t slot = 0; slot < slot_names_.size(); ++slot) {
    if (keep.count(static_cast<int>(slot)) || last[slot] < 0) continue;
    steps_[static_cast<size_t>(last[slot])].release_after.push_back(static_cast<int>(slot));
    if (first[slot] < 0) continue;  // a feed: not in the arena
    const PlanStep& producer = steps_[static_cast<size_t>(first[slot])];
    if (!producer.provider->device().is_cpu()) continue;  // device arenas come with the CUDA provider
    const TypeInfo* type = types.find(slot_names_[slot]);
    if (type != nullptr && type->elem_type == DataType::kString) continue;
    if (type == nullptr || !type->has_static_shape() || type->elem_type == DataType::kUndefined) {
      sized_at_run_time.push_back({static_cast<int>(slot), first[slot], last[slot], 0});
      continue;
    }
    size_t bytes = dtype_storage_bytes(type->elem_type, shape_element_count(type->static_shape()));
    lifetimes.push_back({static_cast<int>(slot), first[slot], last[slot], bytes});
  }
  std::vector<int> recycled;  // outputs a kernel makes (not feeds or constants passed through)
  for (int slot : output_slots_) {
    if (first[static_cast<size_t>(slot)] >= 0 && !constant_slots.count(slot)) recycled.push_back(slot);
  }
  memory_ = MemoryPlan(static_cast<int>(slot_names_.size()), lifetimes, recycled);
  memory_layouts_ = std::make_unique<ShapeSpecializedMemory>(static_cast<int>(slot_names_.size()), std::move(lifetimes),
                                                             std::move(sized_at_run_time), std::move(recycled),
                                                             host_provider_->allocator());
}

ExecutionPlan::Frame::Frame(const ExecutionPlan& plan, const KernelContext* parent)
    : arena_pool_(plan.arenas_.get()), arena_(arena_pool_->acquire()),
      allocator_(plan.memory_, arena_.get(), *plan.dynamic_memory_), values_(plan.slot_names_.size()) {
  allocator_.set_memory_limit(plan.memory_limit_);
  fill_constants(plan);
  const size_t provider_count = plan.providers_.size();
  if (parent != nullptr && parent->run_states() != nullptr && parent->run_states()->size() == provider_count) {
    run_states_ = *parent->run_states();
    owns_run_states_ = false;
  } else {
    run_states_.resize(provider_count);
    if (plan.has_device_steps_) {
      for (size_t i = 0; i < provider_count; ++i) run_states_[i] = plan.providers_[i]->acquire_run_state();
    }
  }
  device_allocators_.resize(provider_count);
  for (size_t i = 0; i < provider_count; ++i) {
    ExecutionProvider* provider = plan.providers_[i];
    if (provider == plan.host_provider_ || !plan.has_device_steps_) continue;
    device_allocators_[i] = provider->make_output_allocator(run_states_[i].get());
    device_allocators_[i]->set_memory_limit(plan.memory_limit_);
  }
}

void ExecutionPlan::Frame::fill_constants(const ExecutionPlan& plan) {
  for (const auto& [slot, value] : plan.constants_) values_[static_cast<size_t>(slot)] = value;
}

ExecutionPlan::Frame::~Frame() {
  values_.clear();
  arena_pool_->release(std::move(arena_));
}

void ExecutionPlan::Frame::choose_memory_layout(const ExecutionPlan& plan, std::span<const Value> inputs) {
  recording_ = false;
  allocator_.record_sizes(nullptr);
  if (!ShapeSpecializedMemory::signature_of(inputs, signature_)) {
    use_memory_layout(plan, nullptr);
    return;
  }
  if (layout_ && layout_->signature == signature_) return;  // the common case: shapes as last run
  std::shared_ptr<const ShapeSpecializedMemory::Layout> layout = plan.memory_layouts_->find(signature_);
  const bool record = !layout && plan.memory_layouts_->layout_count() < ShapeSpecializedMemory::kMaxLayouts;
  use_memory_layout(plan, std::move(layout));
  if (record) {
    recorded_sizes_.assign(values_.size(), 0);
    recorded_views_.assign(values_.size(), -1);
    allocator_.record_sizes(&recorded_sizes_);
    recording_ = true;
  }
}

void ExecutionPlan::Frame::use_memory_layout(const ExecutionPlan& plan,
                                             std::shared_ptr<const ShapeSpecializedMemory::Layout> layout) {
  if (layout == layout_) return;
  // Values left from the last run (feeds of a subgraph's frame, copied outputs) may lie in the
  // arena that goes back: drop them all, then restore the constants.
  for (Value& value : values_) value = Value();
  fill_constants(plan);
  arena_pool_->release(std::move(arena_));
  arena_pool_ = layout ? &layout->arenas : plan.arenas_.get();
  arena_ = arena_pool_->acquire();
  allocator_.use(layout ? layout->plan : plan.memory_, arena_.get());
  layout_ = std::move(layout);
}

void ExecutionPlan::Frame::finish_recording(const ExecutionPlan& plan) {
  recording_ = false;
  allocator_.record_sizes(nullptr);
  plan.memory_layouts_->record(signature_, recorded_sizes_, recorded_views_);  // the next run with these shapes uses it
}

std::unique_ptr<ExecutionPlan::Frame> ExecutionPlan::make_frame(const KernelContext* parent) const {
  return std::make_unique<Frame>(*this, parent);
}

void ExecutionPlan::run(Frame& frame, std::span<Value> inputs, std::vector<Value>& outputs,
                        bool outputs_on_device, RunObserver* observer) const {
  if (inputs.size() != input_slots_.size()) {
    throw_error(ErrorCode::kInvalidArgument, "expected ", input_slots_.size(), " inputs, got ", inputs.size());
  }
  if (memory_layouts_->enabled()) frame.choose_memory_layout(*this, inputs);
  std::vector<Value>& values = frame.values_;
  for (size_t i = 0; i < inputs.size(); ++i) values[static_cast<size_t>(input_slots_[i])] = std::move(inputs[i]);
  PlannedOutputAllocator& allocator = frame.allocator_;
  if (++frame.runs_ == 2 && frame.recycles_outputs_) allocator.start_recycling();  // likely run many times
  omp_set_num_threads(threads_);
  const size_t step_count = outputs_on_device ? steps_.size() - output_copy_steps_ : steps_.size();
  Profiler* profiler = active_profiler();
  RunningNode* enclosing = profiler ? running_node() : nullptr;
  if (enclosing == nullptr) {
    run_steps(frame, step_count, profiler, observer, outputs_on_device);
  } else {
    // A subgraph's run (a Loop iteration, an If branch): one span inside its node's.
    const int64_t iteration = enclosing->subgraph_runs++;
    ProfiledSpan span(enclosing->op_type == "If" ? enclosing->name + " branch"
                                                 : enclosing->name + " iteration " + std::to_string(iteration),
                      "Subgraph");
    span.add_arg("parent", json_quote(enclosing->name));
    span.add_arg("iteration", std::to_string(iteration));
    run_steps(frame, step_count, profiler, observer, outputs_on_device);
  }
  if (frame.recording_) frame.finish_recording(*this);
  // Device work is queued: wait for it, so errors surface here and outputs bound on a device
  // are complete when run returns.
  if (has_device_steps_ && frame.owns_run_states_) {
    for (size_t i = 0; i < providers_.size(); ++i) {
      if (frame.run_states_[i]) providers_[i]->synchronize(frame.run_states_[i].get());
    }
  }
  outputs.resize(output_slots_.size());
  const std::vector<int>& output_slots = outputs_on_device ? device_output_slots_ : output_slots_;
  for (size_t i = 0; i < output_slots.size(); ++i) {
    Value& value = frame.values_[static_cast<size_t>(output_slots[i])];
    outputs[i] = output_is_copied_[i] ? value : std::move(value);
  }
}

void ExecutionPlan::run_steps(Frame& frame, size_t step_count, Profiler* profiler, RunObserver* observer,
                              bool outputs_on_device) const {
  const std::vector<int>& slots = outputs_on_device ? device_output_slots_ : output_slots_;
  const auto& ready = outputs_on_device ? device_ready_order_ : ready_order_;
  if (observer == nullptr) {
    run_steps<false>(frame, step_count, profiler, nullptr, slots, ready);
  } else {
    run_steps<true>(frame, step_count, profiler, observer, slots, ready);
  }
}

template <bool kObserved>
void ExecutionPlan::run_steps(Frame& frame, size_t step_count, Profiler* profiler, RunObserver* observer,
                              const std::vector<int>& output_slots,
                              const std::vector<std::pair<size_t, size_t>>& ready) const {
  std::vector<Value>& values = frame.values_;
  PlannedOutputAllocator& allocator = frame.allocator_;
  [[maybe_unused]] size_t next_ready = 0;  // in `ready`, the next output to report
  for (size_t index = 0; index < step_count; ++index) {
    const PlanStep& step = steps_[index];
    const size_t provider = static_cast<size_t>(step.provider_index);
    OutputAllocator* device_allocator = frame.device_allocators_[provider].get();
    KernelContext context(values.data(), step.inputs, step.outputs,
                          device_allocator ? *device_allocator : static_cast<OutputAllocator&>(allocator), threads_);
    context.set_device_state(frame.run_states_[provider].get(), &frame.run_states_);
    try {
      if (profiler == nullptr) {
        step.kernel->compute(context);
      } else {
        compute_step_with_trace(*profiler, step, values, context);
      }
    } catch (const Error& error) {
      throw Error(error.code(), describe_step(step) + ": " + error.what());
    } catch (const std::exception& error) {
      throw Error(ErrorCode::kRuntimeFailure, describe_step(step) + ": " + user_message(error));
    }
    if (frame.recording_) record_views(step, values, frame.recorded_views_);
    // A kernel may hand back a view of another value (Identity, Reshape), or a sequence holding
    // one. If that memory is in the arena, it can be reused once its owner dies, so such a
    // value gets its own copy, unless the plan keeps its source's bytes for it.
    for (int slot : step.outputs) {
      if (slot < 0) continue;
      Value& value = values[static_cast<size_t>(slot)];
      if (value.is_tensor()) {
        if (allocator.in_arena(value.tensor()) && !allocator.in_own_buffer(slot, value.tensor()) &&
            !allocator.in_planned_view(slot, value.tensor())) {
          value = copy_out_of_arena(value.tensor(), slot, allocator);
        }
      } else if (value.is_sequence()) {
        value = sequence_out_of_arena(value, allocator);
      }
    }
    for (int slot : step.release_after) values[static_cast<size_t>(slot)] = Value();
    if constexpr (kObserved) {
      for (; next_ready < ready.size() && ready[next_ready].first == index; ++next_ready) {
        const size_t output = ready[next_ready].second;
        observer->output_ready(output, values[static_cast<size_t>(output_slots[output])]);
      }
      observer->after_step();
    }
  }
  if constexpr (kObserved) {
    // Outputs no step made (feeds, constants), or made by the skipped copies to the host.
    for (; next_ready < ready.size(); ++next_ready) {
      const size_t output = ready[next_ready].second;
      observer->output_ready(output, values[static_cast<size_t>(output_slots[output])]);
    }
  }
}

size_t ExecutionPlan::output_ready_step(size_t i, bool outputs_on_device) const {
  for (const auto& [step, output] : outputs_on_device ? device_ready_order_ : ready_order_) {
    if (output == i) return step;
  }
  throw_error(ErrorCode::kInvalidArgument, "output ", i, " of a plan with ", output_slots_.size(), " outputs");
}

std::vector<Value> ExecutionPlan::run(std::vector<Value> inputs, bool outputs_on_device, RunObserver* observer) const {
  std::unique_ptr<Frame> frame;
  {
    std::lock_guard<std::mutex> lock(idle_frames_mutex_);
    if (!idle_frames_.empty()) {
      frame = std::move(idle_frames_.back());
      idle_frames_.pop_back();
    }
  }
  if (!frame) {
    frame = make_frame();
    frame->recycles_outputs_ = false;
  }
  std::vector<Value> outputs;
  run(*frame, inputs, outputs, outputs_on_device, observer);  // a frame a run threw in is dropped
  // Feeds no node read are still in their slots: an idle frame holds none of the caller's data.
  for (int slot : input_slots_) frame->values_[static_cast<size_t>(slot)] = Value();
  std::lock_guard<std::mutex> lock(idle_frames_mutex_);
  idle_frames_.push_back(std::move(frame));
  return outputs;
}

}  // namespace onyx
