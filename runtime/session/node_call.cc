#include "runtime/session/node_call.h"

#include "providers/cpu/cpu_provider.h"

namespace onyx {

namespace {
TypeInfo type_of_value(const Value& value) {
  if (value.is_tensor()) {
    return TypeInfo::tensor_of_shape(value.tensor().dtype(), value.tensor().shape());
  }
  if (value.is_sequence()) {
    return TypeInfo::wrapping(TypeInfo::Kind::kSequence,
                              TypeInfo::tensor(value.sequence_element_type()));
  }
  if (value.is_map()) return TypeInfo::map_of(value.map_entries().keys.dtype(), value.map_entries().values.dtype());
  return {};
}
}  // namespace

void throw_missing_kernel(const Node& node, int64_t opset, const std::string& provider, const OpRegistry& ops) {
  std::string known = ops.kernels().describe_ranges(node.domain, node.op_type);
  std::string detail = known.empty() ? " (onyx does not implement this op)" : " (kernels exist for " + known + ")";
  if (!is_reserved_domain(node.domain) && known.empty()) {
    detail = ": no custom op of that name and version is registered (registered custom ops: " +
             ops.describe_custom_ops() + "); load the library that defines it (--custom-ops LIB.so) or register it";
  }
  throw_error(ErrorCode::kNotImplemented, node.describe(), ": no ", provider,
              " kernel for op '", node.op_type, "' in domain '", display_domain(node.domain),
              "' at opset ", opset, detail);
}

std::vector<Value> call_node(const Node& node, int64_t opset, const std::vector<Value>& inputs,
                             ExecutionProvider& provider, int threads, const OpRegistry& ops) {
  const KernelDef* def = provider.find_kernel(node, opset, ops.kernels());
  if (def == nullptr) throw_missing_kernel(node, opset, provider.name(), ops);

  // Frame layout: inputs first, then outputs.
  std::vector<Value> frame;
  frame.reserve(inputs.size() + node.outputs.size());  // constants below point into it
  frame.assign(inputs.begin(), inputs.end());
  std::vector<TypeInfo> input_types;
  std::vector<const Tensor*> constants;
  std::vector<int> input_slots;
  for (size_t i = 0; i < inputs.size(); ++i) {
    input_types.push_back(type_of_value(inputs[i]));
    bool present = node.has_input(i) && !inputs[i].is_none();
    input_slots.push_back(present ? static_cast<int>(i) : -1);
    constants.push_back(present && inputs[i].is_tensor() ? &frame[i].tensor() : nullptr);
  }
  std::vector<const TypeInfo*> input_type_pointers;
  for (const TypeInfo& type : input_types) input_type_pointers.push_back(&type);

  std::vector<int> output_slots;
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    output_slots.push_back(node.outputs[i].empty() ? -1 : static_cast<int>(frame.size()));
    frame.emplace_back();
  }
  KernelInfo info(node, opset, input_type_pointers, {}, constants, provider, threads);
  DeviceRunStates run_states{provider.acquire_run_state()};
  std::unique_ptr<OutputAllocator> allocator = provider.make_output_allocator(run_states[0].get());
  KernelContext context(frame.data(), input_slots, output_slots, *allocator, threads);
  context.set_device_state(run_states[0].get(), &run_states);
  try {  // errors name the node, as the session's do
    std::unique_ptr<Kernel> kernel = create_checked_kernel(*def, info);
    kernel->compute(context);
    provider.synchronize(run_states[0].get());
  } catch (const Error& error) {
    throw Error(error.code(), node.describe() + ": " + error.what());
  } catch (const std::exception& error) {
    throw Error(ErrorCode::kRuntimeFailure, node.describe() + ": " + user_message(error));
  }

  return std::vector<Value>(frame.begin() + static_cast<std::ptrdiff_t>(inputs.size()), frame.end());
}

std::vector<Value> call_node_on_cpu(const Node& node, int64_t opset,
                                    const std::vector<Value>& inputs, int threads, const OpRegistry& ops) {
  static CpuExecutionProvider cpu;
  return call_node(node, opset, inputs, cpu, threads, ops);
}

}  // namespace onyx
