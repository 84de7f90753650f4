// A graph compiled for execution: values become numbered slots of a frame, nodes become a flat
// array of steps with their kernels created once, each step knows which slots to release after
// it, and static-shape values have arena offsets. Running only walks the steps.
//
// Subgraphs (If branches, Loop and Scan bodies) are compiled into plans of their own when their
// node's kernel is created. Their inputs are the subgraph's inputs followed by the outer-scope
// values they read, which the enclosing plan passes to the node as implicit inputs. A Frame
// holds one run's state and can be reused, so a Loop runs its body plan iteration after
// iteration without rebuilding anything.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "providers/execution_provider.h"
#include "providers/precision.h"
#include "runtime/ir/graph.h"
#include "runtime/session/memory_plan.h"
#include "runtime/session/placement.h"
#include "runtime/session/profiler.h"
#include "runtime/session/shape_specialized_memory.h"
#include "runtime/session/type_inference.h"
#include "runtime/tensor/caching_allocator.h"

namespace onyx {

struct PlanStep {
  const Node* node = nullptr;  // null for a device-transfer step
  ExecutionProvider* provider = nullptr;
  int provider_index = 0;       // in the plan's providers
  std::string host_reason;      // see NodePlacement::host_reason
  const PlannedCopy* copy = nullptr;  // for a device-transfer step: what it copies
  std::unique_ptr<Kernel> kernel;
  std::vector<int> inputs;   // slots; -1 for an omitted optional input; implicit inputs last
  std::vector<int> outputs;  // slots; -1 for an omitted optional output
  std::vector<int> release_after;
  int64_t opset = 0;
};

// Told during a run when each graph output becomes final, so a caller can use it before the run
// ends (TrainingSession starts all-reducing gradients while the backward pass goes on). Calls
// come on the running thread, between steps; an exception from one ends the run like a
// kernel's. Runs without an observer pay nothing for the hook (a separate instantiation of the
// step loop).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // Graph output `index` holds its final value: the step producing it has run and no later step
  // of this run writes it (`value` is what the run will return; copy the Tensor, which shares
  // the buffer, to keep it). Once per output per run, in step order; outputs no step produces
  // (feeds and constants passed through) after the last step.
  virtual void output_ready(size_t index, const Value& value) = 0;
  // After every step: a moment to let asynchronous work move on (MPI progress). Keep it short.
  virtual void after_step() {}
};

// "node 'n' (Op)", or "copy of 'v' to cuda:0" for a device-transfer step.
std::string describe_step(const PlanStep& step);

class ExecutionPlan {
 public:
  // `providers` in priority order; each node goes to the first that has a kernel for it.
  // `outer_inputs` are values read from an enclosing graph; they follow graph.inputs. Kernels
  // (and subgraphs' shape rules) come from `ops`, which must outlive the plan. No output may
  // take more than `memory_limit` bytes: statically shaped ones are checked here, the rest when
  // their kernel allocates them. Outputs come back to the host unless `outputs_to_host` marks
  // them false (SubgraphCompiler::compile). Kernels (subgraphs' too) are created for `precision`.
  ExecutionPlan(const Graph& graph, const Model& model, const InferredTypes& types,
                const std::vector<ExecutionProvider*>& providers, int threads,
                const std::vector<std::string>& outer_inputs = {},
                const OpRegistry& ops = OpRegistry::global(),
                size_t memory_limit = default_memory_limit(), std::vector<bool> outputs_to_host = {},
                Precision precision = Precision::kFp32);
  ~ExecutionPlan();
  ExecutionPlan(const ExecutionPlan&) = delete;
  ExecutionPlan& operator=(const ExecutionPlan&) = delete;

  // One run's state: the value slots (constants filled once), an arena, the allocators and
  // the device run states. A subgraph's frame made inside a kernel passes that kernel's
  // context, so the subgraph's device work shares the run's streams.
  class Frame;
  std::unique_ptr<Frame> make_frame(const KernelContext* parent = nullptr) const;

  // Runs with `inputs` in input_names() order (moved from), writing the graph outputs to
  // `outputs`. A frame serves one run at a time; different frames may run concurrently.
  // With `outputs_on_device`, outputs stay where their producers made them (the trailing copies
  // to the host are skipped), so a caller chaining device work pays no copy. With a profiler
  // active on the thread (runtime/session/profiler.h), every step is recorded as a trace
  // event, and a subgraph's run as one span inside its node's.
  // With an `observer`, it hears of each output as soon as it is final (RunObserver).
  void run(Frame& frame, std::span<Value> inputs, std::vector<Value>& outputs, bool outputs_on_device = false,
           RunObserver* observer = nullptr) const;
  // Convenience: runs in a frame of its own, taken from the frames earlier calls finished with
  // (a new one when every frame is busy), so a session run again and again builds no frame
  // and keeps the recycled output buffers of its previous runs.
  std::vector<Value> run(std::vector<Value> inputs, bool outputs_on_device = false,
                         RunObserver* observer = nullptr) const;
  // The step after which graph output i is final (its producer; steps().size() for an output no
  // step produces, which a RunObserver hears of after the last step). Outputs that return to
  // the host are final after their copy, the plan's last steps.
  size_t output_ready_step(size_t i, bool outputs_on_device = false) const;

  const std::vector<std::string>& input_names() const { return input_names_; }
  size_t output_count() const { return output_slots_.size(); }
  const std::vector<PlanStep>& steps() const { return steps_; }
  const MemoryPlan& memory_plan() const { return memory_; }
  // The arena layouts recorded for the input shapes runs have met (values sized only at run
  // time); see ShapeSpecializedMemory.
  const ShapeSpecializedMemory& memory_layouts() const { return *memory_layouts_; }
  const GraphPlacement& placement() const { return placement_; }
  // `tensor` on the host: copied there, on `context`'s run, when a provider's device holds it
  // (a control-flow kernel reading values it passed through, such as Scan's scan inputs).
  Tensor to_host(const Tensor& tensor, const KernelContext& context) const;
  const std::vector<ExecutionProvider*>& providers() const { return providers_; }

  // The plan's layout, for a Loop's in-place body (providers/cpu/control_flow/in_place_body.h),
  // which runs these steps' kernels on slots of its own.
  size_t slot_count() const { return slot_names_.size(); }
  const std::vector<int>& input_slots() const { return input_slots_; }    // in input_names() order
  const std::vector<int>& output_slots() const { return output_slots_; }  // in graph output order
  const std::vector<std::pair<int, Value>>& constants() const { return constants_; }
  // What type inference said of input i (an unknown TypeInfo when it could not tell).
  const TypeInfo& input_type(size_t i) const { return input_types_[i]; }
  bool has_device_steps() const { return has_device_steps_; }
  int threads() const { return threads_; }
  size_t memory_limit() const { return memory_limit_; }

 private:
  int slot_of(const std::string& name);
  void add_step_for_copy(const PlannedCopy& copy);
  void compute_lifetimes(const InferredTypes& types);
  template <bool kObserved>
  void run_steps(Frame& frame, size_t step_count, Profiler* profiler, RunObserver* observer,
                 const std::vector<int>& output_slots, const std::vector<std::pair<size_t, size_t>>& ready) const;
  void run_steps(Frame& frame, size_t step_count, Profiler* profiler, RunObserver* observer, bool outputs_on_device) const;

  int threads_;
  size_t memory_limit_;
  Precision precision_;
  std::vector<std::string> slot_names_;
  std::map<std::string, int> slots_;
  std::vector<std::pair<int, Value>> constants_;  // initializer slots, filled once per frame
  std::vector<std::string> input_names_;
  std::vector<int> input_slots_;
  std::vector<TypeInfo> input_types_;
  std::vector<int> output_slots_;
  std::vector<int> device_output_slots_;  // the outputs before their copies to the host
  size_t output_copy_steps_ = 0;          // the last steps of steps_
  std::vector<bool> output_is_copied_;    // constants and repeated outputs: copied out, not moved
  // For RunObserver: (step after which it is final, output index) pairs in step order (outputs
  // no step makes last, at steps_.size()). device_*: the outputs before their copies to the
  // host (outputs_on_device runs).
  std::vector<std::pair<size_t, size_t>> ready_order_, device_ready_order_;
  std::vector<PlanStep> steps_;
  MemoryPlan memory_;
  GraphPlacement placement_;
  std::vector<ExecutionProvider*> providers_;
  bool has_device_steps_ = false;
  std::unique_ptr<ArenaPool> arenas_;
  std::unique_ptr<CachingAllocator> dynamic_memory_;  // values sized only at run time
  std::unique_ptr<ShapeSpecializedMemory> memory_layouts_;
  ExecutionProvider* host_provider_ = nullptr;
  // Last, so that idle frames go before the arena pool they return their arenas to.
  mutable std::mutex idle_frames_mutex_;
  mutable std::vector<std::unique_ptr<Frame>> idle_frames_;
};

class ExecutionPlan::Frame {
 public:
  Frame(const ExecutionPlan& plan, const KernelContext* parent);
  ~Frame();
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

 private:
  friend class ExecutionPlan;
  void fill_constants(const ExecutionPlan& plan);  // the initializer slots, as every run starts
  // Before a run: serves it from the layout recorded for its input shapes, or, when there is
  // none yet, from the session-time plan while recording the sizes for one.
  void choose_memory_layout(const ExecutionPlan& plan, std::span<const Value> inputs);
  void use_memory_layout(const ExecutionPlan& plan, std::shared_ptr<const ShapeSpecializedMemory::Layout> layout);
  // After a run that recorded: its sizes become the layout for its input shapes.
  void finish_recording(const ExecutionPlan& plan);

  ArenaPool* arena_pool_;  // where arena_ came from: the plan's, or layout_'s
  std::shared_ptr<const ShapeSpecializedMemory::Layout> layout_;  // null: the session-time plan
  std::shared_ptr<void> arena_;
  std::vector<int64_t> signature_;      // this run's input shapes
  std::vector<size_t> recorded_sizes_;  // by slot, while recording
  std::vector<int> recorded_views_;     // by slot, while recording: the input slot a value viewed
  bool recording_ = false;
  PlannedOutputAllocator allocator_;
  DeviceRunStates run_states_;  // per provider of the plan; null for the CPU
  bool owns_run_states_ = true;  // false when inherited from the enclosing run
  std::vector<std::unique_ptr<OutputAllocator>> device_allocators_;  // per provider; null for the host
  std::vector<Value> values_;
  int64_t runs_ = 0;
  // A subgraph's frame, run again and again inside one run, recycles its output buffers; an
  // idle frame of the convenience run() does not: its outputs leave with the caller, and the
  // run's allocator (which caches freed blocks) already serves the next run's.
  bool recycles_outputs_ = true;
};

}  // namespace onyx
