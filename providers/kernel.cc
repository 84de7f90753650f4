#include "providers/kernel.h"

namespace onyx {

namespace {
const TypeInfo& type_or_unknown(const std::vector<const TypeInfo*>& types, size_t i) {
  static const TypeInfo unknown;
  return i < types.size() && types[i] != nullptr ? *types[i] : unknown;
}
}  // namespace

const TypeInfo& KernelInfo::input_type(size_t i) const { return type_or_unknown(input_types_, i); }

const SubgraphCompiler& KernelInfo::subgraph_compiler() const {
  if (subgraph_compiler_ == nullptr) {
    throw_error(ErrorCode::kNotImplemented, node_.describe(),
                ": subgraphs can only run inside a session plan");
  }
  return *subgraph_compiler_;
}

const TypeInfo& KernelInfo::output_type(size_t i) const {
  return type_or_unknown(output_types_, i);
}

bool KernelContext::has_input(size_t i) const {
  return i < input_slots_.size() && input_slots_[i] >= 0 && !frame_[input_slots_[i]].is_none();
}

const Value& KernelContext::input_value(size_t i) const {
  static const Value none;
  if (i >= input_slots_.size() || input_slots_[i] < 0) return none;
  return frame_[input_slots_[i]];
}

const Tensor& KernelContext::input(size_t i) const {
  if (!has_input(i)) {
    throw_error(ErrorCode::kInvalidModel, "required input ", i, " is missing");
  }
  return frame_[input_slots_[i]].tensor();
}

Tensor& KernelContext::output(size_t i, DataType dtype, const Shape& shape) {
  if (i >= output_slots_.size()) {
    throw_error(ErrorCode::kRuntimeFailure, "kernel wrote output ", i, " but the node has ",
                output_slots_.size(), " outputs");
  }
  check_output_within_limit(i, dtype, shape, allocator_.memory_limit());
  int slot = output_slots_[i];
  Value& target = slot >= 0 ? frame_[slot] : unused_outputs_.emplace_front();
  target = allocator_.allocate(slot, dtype, shape);
  return target.mutable_tensor();
}

Tensor KernelContext::scratch(size_t bytes) {
  return allocator_.allocate(-1, DataType::kUInt8, {static_cast<int64_t>(bytes)});
}

const Value& KernelContext::output_value(size_t i) const {
  static const Value none;
  if (i >= output_slots_.size() || output_slots_[i] < 0) return none;
  return frame_[output_slots_[i]];
}

void KernelContext::set_output(size_t i, Value value) {
  if (i >= output_slots_.size()) {
    throw_error(ErrorCode::kRuntimeFailure, "kernel set output ", i, " but the node has ",
                output_slots_.size(), " outputs");
  }
  if (output_slots_[i] >= 0) frame_[output_slots_[i]] = std::move(value);
}

}  // namespace onyx
