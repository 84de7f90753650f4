#include "runtime/session/placement.h"

#include <map>
#include <set>

#include "onnx_ops/host_inputs.h"
#include "runtime/session/node_call.h"
#include "runtime/session/subgraph_compiler.h"

namespace onyx {

namespace {

bool is_integer_or_bool(DataType type) {
  switch (type) {
    case DataType::kInt64: case DataType::kInt32: case DataType::kInt16: case DataType::kInt8:
    case DataType::kUInt64: case DataType::kUInt32: case DataType::kUInt16: case DataType::kUInt8:
    case DataType::kBool:
      return true;
    default:
      return false;
  }
}

// A node of a shape chain: it reads a graph value's shape (Shape, Size) or computes integers
// from shape values and integer constants only.
bool is_shape_computation(const Node& node, const Graph& graph, const InferredTypes& types,
                          const std::set<std::string>& shape_values) {
  if (node.domain.empty() && (node.op_type == "Shape" || node.op_type == "Size")) return true;
  for (const Attribute& attribute : node.attributes) {
    if (attribute.g || !attribute.graphs.empty()) return false;
  }
  bool reads_shape_value = false;
  for (const std::string& input : node.inputs) {
    if (input.empty()) continue;
    if (shape_values.count(input)) {
      reads_shape_value = true;
      continue;
    }
    auto constant = graph.initializers.find(input);
    bool integer_constant = constant != graph.initializers.end() && graph.find_input(input) == nullptr &&
                            is_integer_or_bool(constant->second.dtype());
    if (!integer_constant) return false;
  }
  if (!reads_shape_value) return false;
  for (const std::string& output : node.outputs) {
    if (output.empty()) continue;
    const TypeInfo* type = types.find(output);
    if (type == nullptr || type->kind != TypeInfo::Kind::kTensor || !is_integer_or_bool(type->elem_type)) return false;
  }
  return true;
}

// Asks a kernel's `supports` with what its factory would see (types, attributes, constants).
bool supported_by(const KernelDef& kernel, ExecutionProvider& provider, const Node& node, int64_t opset,
                  const Graph& graph, const InferredTypes& types) {
  std::vector<const TypeInfo*> input_types;
  std::vector<const Tensor*> constants;
  for (const std::string& input : node.inputs) {
    input_types.push_back(input.empty() ? nullptr : types.find(input));
    auto it = graph.initializers.find(input);
    bool constant = !input.empty() && it != graph.initializers.end() && graph.find_input(input) == nullptr;
    constants.push_back(constant ? &it->second : nullptr);
  }
  std::vector<const TypeInfo*> output_types;
  for (const std::string& output : node.outputs) output_types.push_back(output.empty() ? nullptr : types.find(output));
  KernelInfo info(node, opset, input_types, output_types, constants, provider, 1);
  try {
    return kernel.supports(info);
  } catch (const Error&) {
    return false;  // e.g. a missing attribute: the CPU kernel's factory will name it
  }
}

// The shape computations that stay on the host: candidates (above) whose results are only read
// as shapes — by other such nodes, by host inputs of device kernels (onnx_ops/host_inputs.h),
// by Shape/Size, or as graph outputs. A candidate whose result is data for a device kernel
// (a Range of positions gathered from an embedding table) is better computed on the device
// itself: its own inputs are host inputs there, so neither way costs a copy of its inputs.
std::vector<bool> host_shape_computations(const Graph& graph, const InferredTypes& types) {
  const size_t count = graph.nodes.size();
  std::vector<bool> candidate(count, false);
  std::set<std::string> shape_values;
  for (size_t n = 0; n < count; ++n) {
    const Node& node = graph.nodes[n];
    if (!is_shape_computation(node, graph, types, shape_values)) continue;
    candidate[n] = true;
    for (const std::string& output : node.outputs) {
      if (!output.empty()) shape_values.insert(output);
    }
  }
  std::map<std::string, size_t> producer;
  for (size_t n = 0; n < count; ++n) {
    for (const std::string& output : graph.nodes[n].outputs) producer[output] = n;
  }
  // Readers come after producers: walking backwards settles every reader first.
  std::vector<bool> keep = candidate;
  for (size_t n = count; n-- > 0;) {
    const Node& reader = graph.nodes[n];
    bool metadata_reader = reader.domain.empty() && (reader.op_type == "Shape" || reader.op_type == "Size");
    for (size_t i = 0; i < reader.inputs.size(); ++i) {
      auto from = producer.find(reader.inputs[i]);
      if (from == producer.end() || !candidate[from->second]) continue;
      bool read_as_shape = keep[n] || metadata_reader || is_host_input(reader.domain, reader.op_type, i);
      if (!read_as_shape) keep[from->second] = false;
    }
  }
  return keep;
}

}  // namespace

size_t GraphPlacement::inner_copy_count() const {
  size_t count = 0;
  for (const NodePlacement& node : nodes) {
    for (const PlannedCopy& copy : node.copies_before) count += copy.from != nullptr && !copy.of_constant;
  }
  return count;
}

size_t GraphPlacement::constant_upload_count() const {
  size_t count = 0;
  for (const NodePlacement& node : nodes) {
    for (const PlannedCopy& copy : node.copies_before) count += copy.of_constant;
  }
  return count;
}

GraphPlacement place_graph(const Graph& graph, const Model& model, const InferredTypes& types,
                           const std::vector<ExecutionProvider*>& providers,
                           const std::vector<std::string>& outer_inputs, const OpRegistry& ops,
                           const std::vector<bool>& outputs_to_host) {
  if (providers.empty()) throw_error(ErrorCode::kInvalidArgument, "no execution provider given");
  GraphPlacement placement;
  ExecutionProvider* first_device = nullptr;
  for (ExecutionProvider* provider : providers) {
    if (provider->device().is_cpu()) {
      if (placement.host == nullptr) placement.host = provider;
    } else if (first_device == nullptr) {
      first_device = provider;
    }
  }
  if (placement.host == nullptr) throw_error(ErrorCode::kInvalidArgument, "the CPU provider is required");
  ExecutionProvider* host = placement.host;

  // Where each value is: with a device provider, graph and outer-scope inputs are known only at
  // run time (null: a caller may bind them on the device); initializers are on the host, node
  // outputs where their node ran.
  std::map<std::string, ExecutionProvider*> location;
  ExecutionProvider* input_location = first_device != nullptr ? nullptr : host;
  for (const auto& input : graph.inputs) location[input.name] = input_location;
  for (const auto& name : outer_inputs) location[name] = input_location;
  for (const auto& [name, value] : graph.initializers) {
    if (graph.find_input(name) == nullptr) location[name] = host;
  }
  std::map<std::pair<std::string, ExecutionProvider*>, std::string> copies;  // (value, to) -> copy
  std::vector<bool> shape_computations;
  if (first_device != nullptr) shape_computations = host_shape_computations(graph, types);

  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    NodePlacement& placed = placement.nodes.emplace_back();
    placed.opset = model.opset_for(node.domain).value_or(0);
    if (placed.opset == 0) {
      throw_error(ErrorCode::kInvalidModel, node.describe(), ": the model does not import domain '",
                  display_domain(node.domain), "'");
    }
    bool shape_chain = first_device != nullptr && shape_computations[n];
    bool refused = false;  // a device kernel exists but does not take these inputs
    for (ExecutionProvider* provider : providers) {
      if (shape_chain && provider != host) continue;
      const KernelDef* kernel = provider->find_kernel(node, placed.opset, ops.kernels());
      if (kernel == nullptr) continue;
      if (kernel->supports && !supported_by(*kernel, *provider, node, placed.opset, graph, types)) {
        refused = refused || provider != host;
        continue;
      }
      placed.kernel = kernel;
      placed.provider = provider;
      break;
    }
    if (placed.kernel == nullptr) throw_missing_kernel(node, placed.opset, host->name(), ops);
    if (placed.provider == host && first_device != nullptr) {
      std::string where = node.op_type + " at opset " + std::to_string(placed.opset);
      placed.host_reason = shape_chain ? "shape computation"
                           : refused  ? "the " + first_device->name() + " kernel for " + where +
                                          " does not take these inputs or attributes"
                                      : "no " + first_device->name() + " kernel for " + where;
    }

    std::vector<std::string> inputs = node.inputs;
    for (const std::string& implicit : implicit_inputs(node)) inputs.push_back(implicit);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string& name = inputs[i];
      if (name.empty()) continue;
      bool explicit_input = i < node.inputs.size();
      const InputMemory& memory = placed.kernel->input_memory;
      if (explicit_input && memory.on_any_device(i)) continue;
      bool declared_host = explicit_input && (memory.on_host(i) || is_host_input(node.domain, node.op_type, i));
      // Control flow hands its values to its subgraphs as they are: they may stay on a device.
      if (memory.passes_values_through && !declared_host && first_device != nullptr) continue;
      bool host_input = placed.provider == host || declared_host;
      ExecutionProvider* wanted = host_input ? host : placed.provider;
      auto where = location.find(name);
      ExecutionProvider* from = where == location.end() ? host : where->second;
      if (from == wanted) continue;
      auto key = std::make_pair(name, wanted);
      auto made = copies.find(key);
      if (made == copies.end()) {
        std::string copy_name = name + "@" + wanted->name();
        auto initializer = graph.initializers.find(name);
        bool constant = initializer != graph.initializers.end() && graph.find_input(name) == nullptr &&
                        initializer->second.dtype() != DataType::kString;
        placed.copies_before.push_back({name, copy_name, from, wanted, constant});
        location[copy_name] = wanted;
        made = copies.emplace(key, copy_name).first;
      }
      inputs[i] = made->second;
    }
    placed.inputs = std::move(inputs);
    // A control-flow node's outputs are where its subgraphs made them: known only at run time.
    bool anywhere = placed.kernel->input_memory.passes_values_through && first_device != nullptr;
    for (const std::string& output : node.outputs) {
      if (!output.empty()) location[output] = anywhere ? nullptr : placed.provider;
    }
  }

  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    const ValueInfo& output = graph.outputs[i];
    auto where = location.find(output.name);
    ExecutionProvider* from = where == location.end() ? host : where->second;
    bool to_host = outputs_to_host.empty() || (i < outputs_to_host.size() && outputs_to_host[i]);
    if (from == host || !to_host) {
      placement.outputs.push_back(output.name);
      continue;
    }
    std::string copy_name = output.name + "@host";
    placement.output_copies.push_back({output.name, copy_name, from, host});
    placement.outputs.push_back(copy_name);
  }
  return placement;
}

}  // namespace onyx
