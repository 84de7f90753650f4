#include "runtime/eager/op_dispatch.h"

#include <omp.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>

#include "onnx_ops/op_schema.h"
#include "providers/cpu/cpu_provider.h"
#include "providers/kernel_registry.h"
#include "runtime/eager/attribute_hash.h"
#include "runtime/eager/gradient_tape.h"
#include "runtime/eager/trace.h"
#include "runtime/session/node_call.h"
#include "runtime/tensor/caching_allocator.h"

namespace onyx::eager {

// ---- op handles ---------------------------------------------------------------------------------

int64_t default_opset(const std::string& domain) {
  std::string canonical = canonical_domain(domain);
  if (canonical.empty()) return kLatestOnnxOpset;
  if (canonical == "ai.onnx.ml") return kLatestOnnxMlOpset;
  if (canonical == "ai.onnx.preview.training") return kLatestTrainingOpset;
  return 0;  // custom domains: decided per op
}

namespace {
// A custom op's newest registered version: its kernels say which versions exist.
int64_t newest_registered_version(const std::string& domain, const std::string& op_type) {
  int64_t newest = 1;
  for (const KernelDef* def : KernelRegistry::global().all()) {
    if (def->domain == domain && def->op_type == op_type) {
      newest = std::max(newest, def->until_version == kOpsetOpenEnded ? def->since_version : def->until_version);
    }
  }
  return newest;
}
}  // namespace

OpHandle::OpHandle(const std::string& domain, std::string op_type, int64_t opset)
    : domain_(canonical_domain(domain)), op_type_(std::move(op_type)), opset_(opset) {
  if (opset_ <= 0) opset_ = default_opset(domain_);
  if (opset_ <= 0) opset_ = newest_registered_version(domain_, op_type_);
  static std::mutex mutex;
  static std::set<std::tuple<std::string, std::string, int64_t>> identities;
  std::lock_guard lock(mutex);
  id_ = &*identities.insert({domain_, op_type_, opset_}).first;  // set nodes never move
}

const OpHandle& OpHandle::intern(const std::string& domain, const std::string& op_type, int64_t opset) {
  static std::mutex mutex;
  static std::map<std::tuple<std::string, std::string, int64_t>, std::unique_ptr<OpHandle>> handles;
  std::lock_guard lock(mutex);
  auto& slot = handles[{canonical_domain(domain), op_type, opset}];
  if (!slot) slot = std::make_unique<OpHandle>(domain, op_type, opset);
  return *slot;
}

std::string OpHandle::describe() const {
  return op_type_ + " (" + display_domain(domain_) + ", opset " + std::to_string(opset_) + ")";
}

namespace {
std::atomic<int>& thread_setting() {
  static std::atomic<int> threads{0};
  return threads;
}
}  // namespace

void set_intra_op_threads(int threads) {
  ONYX_CHECK(threads >= 1, ErrorCode::kInvalidArgument, "intra-op threads must be at least 1, got ", threads);
  thread_setting() = threads;
}

int intra_op_threads() {
  int threads = thread_setting();
  return threads > 0 ? threads : omp_get_max_threads();
}

// ---- the kernel cache ------------------------------------------------------------------------

namespace {

constexpr uint32_t kAbsentInput = 0xffffffffu;

uint32_t input_signature(const Value& value) {
  if (!value.is_tensor()) {
    return value.is_sequence() ? (0x80000000u | static_cast<uint32_t>(value.sequence_element_type()))
                               : kAbsentInput;
  }
  const Tensor& tensor = value.tensor();
  if (!tensor.defined()) return kAbsentInput;
  return (static_cast<uint32_t>(tensor.dtype()) << 8) | static_cast<uint32_t>(tensor.rank());
}

ExecutionProvider& cpu_provider() {
  static CpuExecutionProvider provider;
  return provider;
}

// The provider serving a call: that of its tensors' device. A CUDA provider slots in here.
ExecutionProvider& provider_for(const Value* inputs, size_t count, const OpHandle& op) {
  const Tensor* first = nullptr;
  for (size_t i = 0; i < count; ++i) {
    if (!inputs[i].is_tensor() || !inputs[i].tensor().defined()) continue;
    const Tensor& tensor = inputs[i].tensor();
    if (first == nullptr) {
      first = &tensor;
    } else if (!(tensor.device() == first->device())) {
      throw_error(ErrorCode::kInvalidArgument, "eager ", op.describe(), ": input ", i, " is on ",
                  tensor.device().to_string(), ", an earlier input on ", first->device().to_string(),
                  "; move tensors to one device first (onyx::to_device)");
    }
  }
  if (first == nullptr || first->device().is_cpu()) return cpu_provider();
  throw_error(ErrorCode::kNotImplemented, "eager ", op.describe(), ": no execution provider for ",
              first->device().to_string(), " in this build");
}

struct CachedKernel {
  const void* op_id = nullptr;
  const ExecutionProvider* provider = nullptr;
  size_t output_count = 0;
  int threads = 1;
  std::vector<uint32_t> signature;
  std::vector<Attribute> attributes;
  Node node;
  std::vector<TypeInfo> input_types;
  std::vector<int> input_slots;
  std::vector<int> output_slots;
  std::unique_ptr<Kernel> kernel;

  bool matches(const OpHandle& other_op, const ExecutionProvider& other_provider, const Value* inputs,
               size_t input_count, std::span<const Attribute> other_attributes, size_t outputs,
               int other_threads) const {
    if (op_id != other_op.id() || provider != &other_provider || output_count != outputs ||
        threads != other_threads || signature.size() != input_count ||
        attributes.size() != other_attributes.size()) {
      return false;
    }
    for (size_t i = 0; i < input_count; ++i) {
      if (signature[i] != input_signature(inputs[i])) return false;
    }
    for (size_t i = 0; i < attributes.size(); ++i) {
      if (!attributes_equal(attributes[i], other_attributes[i])) return false;
    }
    return true;
  }
};

// A kernel is created for dtypes and ranks with unknown dims, as a session with dynamic shapes
// creates it, so one kernel serves every shape.
std::unique_ptr<CachedKernel> create_kernel(const OpHandle& op, ExecutionProvider& provider,
                                            const Value* inputs, size_t input_count,
                                            std::span<const Attribute> attributes,
                                            size_t output_count, int threads) {
  auto entry = std::make_unique<CachedKernel>();
  entry->op_id = op.id();
  entry->provider = &provider;
  entry->output_count = output_count;
  entry->threads = threads;
  entry->attributes.assign(attributes.begin(), attributes.end());
  Node& node = entry->node;
  node.name = "eager";
  node.op_type = op.op_type();
  node.domain = op.domain();
  node.attributes = entry->attributes;
  entry->input_types.resize(input_count);
  for (size_t i = 0; i < input_count; ++i) {
    uint32_t signature = input_signature(inputs[i]);
    entry->signature.push_back(signature);
    bool present = signature != kAbsentInput;
    node.inputs.push_back(present ? "input_" + std::to_string(i) : "");
    entry->input_slots.push_back(present ? static_cast<int>(i) : -1);
    if (!present) continue;
    if (inputs[i].is_sequence()) {
      entry->input_types[i] = TypeInfo::wrapping(TypeInfo::Kind::kSequence,
                                                 TypeInfo::tensor(inputs[i].sequence_element_type()));
    } else {
      const Tensor& tensor = inputs[i].tensor();
      entry->input_types[i] = TypeInfo::tensor(tensor.dtype(), std::vector<Dim>(tensor.rank()));
    }
  }
  for (size_t i = 0; i < output_count; ++i) {
    node.outputs.push_back("output_" + std::to_string(i));
    entry->output_slots.push_back(static_cast<int>(input_count + i));
  }
  const KernelDef* def = provider.find_kernel(node, op.opset());
  if (def == nullptr) throw_missing_kernel(node, op.opset(), provider.name());
  std::vector<const TypeInfo*> type_pointers;
  for (const TypeInfo& type : entry->input_types) type_pointers.push_back(&type);
  std::vector<const Tensor*> no_constants(input_count, nullptr);
  KernelInfo info(node, op.opset(), type_pointers, {}, no_constants, provider, threads);
  try {
    entry->kernel = create_checked_kernel(*def, info);
  } catch (const Error& error) {
    throw Error(error.code(), "eager " + op.describe() + ": " + error.what());
  }
  return entry;
}

uint64_t mix(uint64_t seed, uint64_t value) {
  return seed ^ (value + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2));
}

class KernelCache {
 public:
  CachedKernel& find_or_create(const OpHandle& op, ExecutionProvider& provider, const Value* inputs,
                               size_t input_count, std::span<const Attribute> attributes,
                               size_t output_count, int threads) {
    uint64_t key = mix(reinterpret_cast<uintptr_t>(op.id()), reinterpret_cast<uintptr_t>(&provider));
    key = mix(key, output_count * 131 + static_cast<uint64_t>(threads));
    for (size_t i = 0; i < input_count; ++i) key = mix(key, input_signature(inputs[i]));
    if (!attributes.empty()) key = mix(key, hash_attributes(attributes));
    auto& bucket = entries_[key];
    for (auto& entry : bucket) {
      if (entry->matches(op, provider, inputs, input_count, attributes, output_count, threads)) {
        ++stats_.hits;
        return *entry;
      }
    }
    ++stats_.misses;
    bucket.push_back(create_kernel(op, provider, inputs, input_count, attributes, output_count, threads));
    ++stats_.cached_kernels;
    return *bucket.back();
  }

  DispatchStats stats() const { return stats_; }
  void clear() {
    entries_.clear();
    stats_ = {};
  }

 private:
  std::unordered_map<uint64_t, std::vector<std::unique_ptr<CachedKernel>>> entries_;
  DispatchStats stats_;
};

KernelCache& thread_cache() {
  thread_local KernelCache cache;
  return cache;
}

// Outputs come from a per-thread caching pool: a steady eager loop allocates nothing from the
// system (blocks keep the pool alive, so tensors outlive the thread safely).
class PooledOutputAllocator final : public OutputAllocator {
 public:
  explicit PooledOutputAllocator(ExecutionProvider& provider) : provider_(provider) {}
  Tensor allocate(int, DataType dtype, const Shape& shape) override {
    if (&provider_ == &cpu_provider()) return Tensor(dtype, shape, pool());
    return Tensor(dtype, shape, *provider_.allocator());
  }

 private:
  static CachingAllocator& pool() {
    thread_local CachingAllocator allocator(cpu_allocator());
    return allocator;
  }
  ExecutionProvider& provider_;
};

void check_concrete(const OpHandle& op, const Value* inputs, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (inputs[i].is_tensor() && inputs[i].tensor().is_symbolic()) {
      throw_error(ErrorCode::kInvalidArgument, "eager ", op.describe(), ": input ", i,
                  " is a symbolic tensor of a trace that has ended; symbolic tensors exist only "
                  "while their onyx::function is being traced");
    }
  }
}

// Runs the cached kernel on frame[0, input_count) into frame[input_count, +output_count).
void run_kernel(const OpHandle& op, Value* frame, size_t input_count, size_t output_count,
                std::span<const Attribute> attributes) {
  check_concrete(op, frame, input_count);
  ExecutionProvider& provider = provider_for(frame, input_count, op);
  int threads = intra_op_threads();
  CachedKernel& entry =
      thread_cache().find_or_create(op, provider, frame, input_count, attributes, output_count, threads);
  PooledOutputAllocator allocator(provider);
  KernelContext context(frame, entry.input_slots, entry.output_slots, allocator, threads);
  try {
    entry.kernel->compute(context);
  } catch (const Error& error) {
    throw Error(error.code(), "eager " + op.describe() + ": " + error.what());
  } catch (const std::exception& error) {
    throw Error(ErrorCode::kRuntimeFailure, "eager " + op.describe() + ": " + user_message(error));
  }
  provider.synchronize(nullptr);
}

bool is_plain_eager() { return current_trace() == nullptr && !tapes_recording(); }

// Inputs and outputs of one call; small calls stay on the stack.
class CallFrame {
 public:
  explicit CallFrame(size_t size) {
    if (size > kInline) {
      heap_.resize(size);
      values_ = heap_.data();
    }
  }
  Value* data() { return values_; }

 private:
  static constexpr size_t kInline = 8;
  Value inline_[kInline];
  std::vector<Value> heap_;
  Value* values_ = inline_;
};

}  // namespace

// ---- entry points ----------------------------------------------------------------------------

std::vector<Value> call_values(const OpHandle& op, std::vector<Value> inputs,
                               std::span<const Attribute> attributes, size_t output_count) {
  for (Value& input : inputs) {
    if (input.is_tensor() && !input.tensor().defined()) input = Value();
  }
  std::vector<Value> outputs;
  if (TraceContext* trace = current_trace()) {
    outputs = trace->record(op, inputs, attributes, output_count);
  } else {
    std::vector<Value> frame = inputs;
    frame.resize(inputs.size() + output_count);
    run_kernel(op, frame.data(), inputs.size(), output_count, attributes);
    outputs.assign(std::make_move_iterator(frame.begin() + static_cast<std::ptrdiff_t>(inputs.size())),
                   std::make_move_iterator(frame.end()));
  }
  if (tapes_recording()) record_on_tapes(op, attributes, inputs, outputs);
  return outputs;
}

std::vector<Tensor> call(const OpHandle& op, std::span<const Tensor* const> inputs,
                         std::span<const Attribute> attributes, size_t output_count) {
  std::vector<Value> values;
  values.reserve(inputs.size());
  for (const Tensor* input : inputs) values.push_back(input && input->defined() ? Value(*input) : Value());
  std::vector<Value> outputs = call_values(op, std::move(values), attributes, output_count);
  std::vector<Tensor> tensors;
  tensors.reserve(outputs.size());
  for (Value& output : outputs) {
    if (output.is_sequence()) {
      throw_error(ErrorCode::kInvalidArgument, "eager ", op.describe(),
                  " returns a sequence: call it through eager::call_values");
    }
    tensors.push_back(output.is_tensor() ? std::move(output.mutable_tensor()) : Tensor());
  }
  return tensors;
}

Tensor call_one(const OpHandle& op, std::initializer_list<const Tensor*> inputs,
                std::span<const Attribute> attributes) {
  if (!is_plain_eager()) {
    std::vector<Tensor> outputs = call(op, std::span<const Tensor* const>(inputs.begin(), inputs.size()), attributes, 1);
    return std::move(outputs.front());
  }
  // The hot path: no trace, no tape, inputs copied once into a stack frame.
  size_t input_count = inputs.size();
  CallFrame frame(input_count + 1);
  Value* values = frame.data();
  size_t i = 0;
  for (const Tensor* input : inputs) {
    if (input && input->defined()) values[i] = *input;
    ++i;
  }
  run_kernel(op, values, input_count, 1, attributes);
  Value& output = values[input_count];
  if (output.is_sequence()) {
    throw_error(ErrorCode::kInvalidArgument, "eager ", op.describe(),
                " returns a sequence: call it through eager::call_values");
  }
  return output.is_tensor() ? std::move(output.mutable_tensor()) : Tensor();
}

DispatchStats dispatch_stats() { return thread_cache().stats(); }
void clear_kernel_cache() { thread_cache().clear(); }

const Kernel* cached_kernel_for(const OpHandle& op, std::span<const Tensor* const> inputs,
                                std::span<const Attribute> attributes, size_t output_count) {
  std::vector<Value> values;
  for (const Tensor* input : inputs) values.push_back(input && input->defined() ? Value(*input) : Value());
  ExecutionProvider& provider = provider_for(values.data(), values.size(), op);
  return thread_cache()
      .find_or_create(op, provider, values.data(), values.size(), attributes, output_count, intra_op_threads())
      .kernel.get();
}

}  // namespace onyx::eager
