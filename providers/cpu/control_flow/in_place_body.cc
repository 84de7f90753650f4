#include "providers/cpu/control_flow/in_place_body.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "onnx_ops/broadcast.h"
#include "providers/cpu/control_flow/subgraph_call.h"

namespace onyx {

namespace {

std::atomic<int64_t> in_place_loop_runs{0};

struct StaticTensorType {
  DataType dtype;
  Shape shape;
  size_t bytes;
};

// `type`'s element type and shape when both are known, for element types with a fixed size.
std::optional<StaticTensorType> static_tensor_type(const TypeInfo& type) {
  if (!type.is_tensor() || !type.has_static_shape()) return std::nullopt;
  if (type.elem_type == DataType::kUndefined || type.elem_type == DataType::kString) return std::nullopt;
  Shape shape = type.static_shape();
  return StaticTensorType{type.elem_type, shape, dtype_storage_bytes(type.elem_type, shape_element_count(shape))};
}

// The elementwise ops a body may hold, and the element type of their output; the shape is the
// broadcast of the inputs' (Clip's and CastLike's: the first input's). Output types follow from
// the input types by these rules, not from type inference, whose answer for other ops need not
// be what the kernel makes (a reduction's keepdims).
enum class ElementwiseResult { kFirstInput, kSecondInput, kBool, kCastTo };

std::optional<ElementwiseResult> elementwise_result(const Node& node, int64_t opset) {
  static const std::map<std::string, ElementwiseResult, std::less<>> ops = [] {
    std::map<std::string, ElementwiseResult, std::less<>> table;
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Mod", "Pow", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
                           "Max", "Min", "Sum", "Mean", "Identity", "Neg", "Abs", "Sign", "Floor", "Ceil", "Round",
                           "Reciprocal", "Sqrt", "Exp", "Log", "Relu", "Sigmoid", "Tanh", "Not", "BitwiseNot", "Sin",
                           "Cos", "Erf", "Clip"}) {
      table[op] = ElementwiseResult::kFirstInput;
    }
    for (const char* op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "IsNaN",
                           "IsInf"}) {
      table[op] = ElementwiseResult::kBool;
    }
    table["Where"] = ElementwiseResult::kSecondInput;
    table["CastLike"] = ElementwiseResult::kSecondInput;
    table["Cast"] = ElementwiseResult::kCastTo;
    return table;
  }();
  // Before opset 8 binary ops broadcast by attributes (or not at all) and Clip's bounds were
  // attributes: those forms are left to the general path.
  if (!node.domain.empty() || opset < 8 || node.outputs.size() != 1) return std::nullopt;
  auto it = ops.find(node.op_type);
  if (it == ops.end()) return std::nullopt;
  return it->second;
}

// Hands each kernel output its slot's own buffer, when the kernel asks for the element type
// and shape the body was compiled for (always, unless type inference was wrong); anything else
// (a scratch buffer, an unused output) gets plain memory.
class OwnBufferAllocator final : public OutputAllocator {
 public:
  explicit OwnBufferAllocator(const std::vector<Tensor>& own) : own_(own) {}
  Tensor allocate(int slot, DataType dtype, const Shape& shape) override {
    if (slot >= 0) {
      const Tensor& own = own_[static_cast<size_t>(slot)];
      if (own.defined() && own.dtype() == dtype && own.shape() == shape) return own;
    }
    return Tensor(dtype, shape);
  }

 private:
  const std::vector<Tensor>& own_;
};

}  // namespace

int64_t InPlaceLoopBody::runs() { return in_place_loop_runs.load(std::memory_order_relaxed); }

std::unique_ptr<InPlaceLoopBody> InPlaceLoopBody::compile(const ExecutionPlan& plan, size_t carried) {
  const std::vector<int>& inputs = plan.input_slots();
  const std::vector<int>& outputs = plan.output_slots();
  if (plan.has_device_steps() || inputs.size() < 2 + carried || outputs.size() < 1 + carried) return nullptr;
  std::unique_ptr<InPlaceLoopBody> body(new InPlaceLoopBody(plan));

  // Static types of the slots: the inputs' as declared (checked against each run's values by
  // accepts), the constants' own, and each step output's from its op's rule.
  std::vector<std::optional<StaticTensorType>> types(plan.slot_count());
  std::vector<const Value*> constants(plan.slot_count(), nullptr);
  for (const auto& [slot, value] : plan.constants()) {
    constants[static_cast<size_t>(slot)] = &value;
    if (!value.is_tensor() || value.tensor().dtype() == DataType::kString) continue;
    const Tensor& tensor = value.tensor();
    types[static_cast<size_t>(slot)] = StaticTensorType{tensor.dtype(), tensor.shape(), tensor.byte_size()};
  }
  for (size_t i = 0; i < inputs.size(); ++i) types[static_cast<size_t>(inputs[i])] = static_tensor_type(plan.input_type(i));
  auto known_type = [&](int slot) -> const std::optional<StaticTensorType>& { return types[static_cast<size_t>(slot)]; };
  std::vector<bool> owned(plan.slot_count(), false);
  auto own = [&](int slot) {
    const StaticTensorType& type = *known_type(slot);
    owned[static_cast<size_t>(slot)] = true;
    // At least one byte each, so no two buffers share an address (the check after each step
    // tells a value in its own buffer from an alias by address).
    body->buffers_.push_back({slot, type.dtype, type.shape, body->memory_bytes_, type.bytes});
    body->memory_bytes_ += (std::max<size_t>(type.bytes, 1) + 63) / 64 * 64;
  };
  auto is_small = [&](int slot) { return known_type(slot) && known_type(slot)->bytes <= kMaxValueBytes; };
  auto is_scalar_of = [&](int slot, DataType dtype) {
    return known_type(slot) && known_type(slot)->dtype == dtype && known_type(slot)->shape.empty();
  };

  // The iteration number and condition the general path passes are int64 and bool scalars.
  body->iteration_slot_ = inputs[0];
  body->condition_in_slot_ = inputs[1];
  if (!is_scalar_of(inputs[0], DataType::kInt64) || !is_scalar_of(inputs[1], DataType::kBool)) return nullptr;
  own(inputs[0]);
  own(inputs[1]);
  for (size_t i = 2; i < inputs.size(); ++i) {
    const bool is_carried = i < 2 + carried;
    if (!known_type(inputs[i]) || (is_carried && !is_small(inputs[i]))) return nullptr;
    body->expected_.push_back({i, known_type(inputs[i])->dtype, known_type(inputs[i])->shape});
    if (is_carried) {
      own(inputs[i]);
      body->carried_in_slots_.push_back(inputs[i]);
    }
  }

  for (const PlanStep& step : plan.steps()) {
    if (step.node == nullptr || !step.provider->device().is_cpu()) return nullptr;
    for (int slot : step.inputs) {
      if (slot >= 0 && !owned[static_cast<size_t>(slot)] && !known_type(slot)) return nullptr;
    }
    std::optional<ElementwiseResult> result = elementwise_result(*step.node, step.opset);
    if (!result || step.outputs.size() != 1 || step.inputs.empty() || step.inputs[0] < 0) return nullptr;
    std::vector<Shape> input_shapes;
    std::vector<DataType> input_dtypes;
    for (int slot : step.inputs) {
      if (slot < 0) continue;  // an omitted optional input (Clip's bounds)
      input_shapes.push_back(known_type(slot)->shape);
      input_dtypes.push_back(known_type(slot)->dtype);
    }
    DataType dtype = input_dtypes[0];
    if (*result == ElementwiseResult::kBool) dtype = DataType::kBool;
    if (*result == ElementwiseResult::kSecondInput) {
      if (step.inputs.size() < 2 || step.inputs[1] < 0) return nullptr;
      dtype = known_type(step.inputs[1])->dtype;
    }
    if (*result == ElementwiseResult::kCastTo) {
      const Attribute* to = nullptr;
      for (const Attribute& attribute : step.node->attributes) to = attribute.name == "to" ? &attribute : to;
      if (to == nullptr) return nullptr;
      dtype = static_cast<DataType>(to->i);
    }
    // Clip's bounds and CastLike's second input shape nothing; the others broadcast.
    const bool shaped_by_first = step.node->op_type == "Clip" || step.node->op_type == "CastLike";
    Shape shape = input_shapes[0];
    try {
      if (!shaped_by_first) shape = broadcast_shapes(input_shapes);
    } catch (const Error&) {
      return nullptr;  // the kernel will say so, on the general path
    }
    const int out = step.outputs[0];
    if (out < 0) return nullptr;
    if (owned[static_cast<size_t>(out)] || constants[static_cast<size_t>(out)]) return nullptr;
    if (dtype == DataType::kUndefined || dtype == DataType::kString) return nullptr;
    types[static_cast<size_t>(out)] = StaticTensorType{dtype, shape, dtype_storage_bytes(dtype, shape_element_count(shape))};
    if (!is_small(out)) return nullptr;
    own(out);
    body->steps_.push_back(&step);
  }

  const int condition_out = outputs[0];
  if (!known_type(condition_out) || shape_element_count(known_type(condition_out)->shape) != 1) return nullptr;
  body->condition_out_slot_ = condition_out;
  body->condition_is_bool_ = known_type(condition_out)->dtype == DataType::kBool;
  std::vector<bool> is_body_input(plan.slot_count(), false);
  for (size_t i = 0; i < 2 + carried; ++i) is_body_input[static_cast<size_t>(inputs[i])] = true;
  size_t staging_bytes = 0;
  for (size_t k = 0; k < carried; ++k) {
    const int from = outputs[1 + k], to = inputs[2 + k];
    const auto& from_type = known_type(from);
    const StaticTensorType& to_type = *known_type(to);
    if (!from_type || from_type->dtype != to_type.dtype || from_type->shape != to_type.shape) return nullptr;
    if (from == to) continue;  // passed through unchanged: already in place
    const bool staged = is_body_input[static_cast<size_t>(from)];
    body->transfers_.push_back({from, to, to_type.bytes, staged, body->memory_bytes_ + staging_bytes});
    if (staged) staging_bytes += (to_type.bytes + 63) / 64 * 64;
  }
  body->memory_bytes_ += staging_bytes;
  for (size_t i = 1 + carried; i < outputs.size(); ++i) {
    const auto& type = known_type(outputs[i]);
    if (!type) return nullptr;
    body->scans_.push_back({outputs[i], type->dtype, type->shape, type->bytes});
  }
  return body;
}

bool InPlaceLoopBody::accepts(std::span<const Value> inputs) const {
  for (const Expected& expected : expected_) {
    const Value& value = inputs[expected.input];
    if (!value.is_tensor()) return false;
    const Tensor& tensor = value.tensor();
    if (!tensor.device().is_cpu() || tensor.is_symbolic() || tensor.dtype() != expected.dtype ||
        tensor.shape() != expected.shape) {
      return false;
    }
  }
  return true;
}

// One Loop run's memory: every owned value's buffer (and the staging of transfers) in one
// block, and the slots the kernels read and write.
class InPlaceLoopBody::Run {
 public:
  Run(const InPlaceLoopBody& body, std::span<const Value> inputs)
      : memory_(DataType::kUInt8, {static_cast<int64_t>(std::max<size_t>(body.memory_bytes_, 1))}),
        own_(body.plan_.slot_count()), values_(body.plan_.slot_count()) {
    for (const auto& [slot, value] : body.plan_.constants()) values_[static_cast<size_t>(slot)] = value;
    const std::vector<int>& input_slots = body.plan_.input_slots();
    for (const Expected& expected : body.expected_) {
      values_[static_cast<size_t>(input_slots[expected.input])] = inputs[expected.input];
    }
    // Views without an owner: the run's block outlives every use, and copying them (each
    // kernel output) touches no reference count.
    for (const Buffer& buffer : body.buffers_) {
      Tensor view = Tensor::view(buffer.dtype, buffer.shape, base() + buffer.offset, nullptr);
      const size_t slot = static_cast<size_t>(buffer.slot);
      if (values_[slot].is_tensor()) {  // an initial loop-carried value: copied in
        const Tensor& initial = values_[slot].tensor();
        if (buffer.bytes) std::memcpy(view.mutable_raw_data(), initial.raw_data(), buffer.bytes);
      }
      own_[slot] = view;
      values_[slot] = view;
    }
  }

  std::byte* base() { return static_cast<std::byte*>(memory_.mutable_raw_data()); }
  Value* values() { return values_.data(); }
  std::vector<Tensor>& own() { return own_; }
  const Value& value(int slot) const { return values_[static_cast<size_t>(slot)]; }
  void* own_data(int slot) { return own_[static_cast<size_t>(slot)].mutable_raw_data(); }

  // A kernel may set an output to another value (Identity: its input) or, were type inference
  // wrong, to one of another shape: the first is copied into the slot's buffer, the second is
  // an error (the fixed buffers were sized by type inference).
  void settle(int slot) {
    Value& value = values_[static_cast<size_t>(slot)];
    Tensor& own = own_[static_cast<size_t>(slot)];
    if (value.is_tensor() && value.tensor().raw_data() == own.raw_data()) return;
    if (!value.is_tensor() || value.tensor().dtype() != own.dtype() || value.tensor().shape() != own.shape()) {
      std::string made = value.is_tensor() ? std::string(dtype_name(value.tensor().dtype())) + shape_to_string(value.tensor().shape())
                                           : std::string("a value that is not a tensor");
      throw_error(ErrorCode::kRuntimeFailure, "made ", made, " where type inference said ",
                  dtype_name(own.dtype()), shape_to_string(own.shape()));
    }
    if (own.byte_size()) std::memmove(own.mutable_raw_data(), value.tensor().raw_data(), own.byte_size());
    value = own;
  }

 private:
  Tensor memory_;
  std::vector<Tensor> own_;  // by slot: the view of the slot's buffer (undefined: not owned)
  std::vector<Value> values_;
};

int64_t InPlaceLoopBody::run(KernelContext& context, std::span<const Value> inputs, int64_t max_trips,
                             bool condition) const {
  in_place_loop_runs.fetch_add(1, std::memory_order_relaxed);
  Run state(*this, inputs);
  OwnBufferAllocator allocator(state.own());
  allocator.set_memory_limit(plan_.memory_limit());
  const int threads = plan_.threads();
  omp_set_num_threads(threads);
  auto* iteration = static_cast<int64_t*>(state.own_data(iteration_slot_));
  auto* condition_in = static_cast<bool*>(state.own_data(condition_in_slot_));
  // What the iteration reads after its steps sits at one address for the whole run: an owned
  // value in its buffer (settle keeps it there), an outer value or a constant where it is.
  auto data_of = [&](int slot) { return static_cast<const std::byte*>(state.value(slot).tensor().raw_data()); };
  const bool* condition_out = condition_is_bool_ ? reinterpret_cast<const bool*>(data_of(condition_out_slot_)) : nullptr;
  struct Copy {
    std::byte* to;
    const std::byte* from;
    size_t bytes;
  };
  // Outputs that are body inputs go through staging first: another transfer may write the
  // input they are (a body swapping two values).
  std::vector<Copy> stagings, transfers;
  for (const Transfer& transfer : transfers_) {
    if (transfer.bytes == 0) continue;
    const std::byte* from = data_of(transfer.from);
    if (transfer.staged) {
      stagings.push_back({state.base() + transfer.staging_offset, from, transfer.bytes});
      from = state.base() + transfer.staging_offset;
    }
    transfers.push_back({static_cast<std::byte*>(state.own_data(transfer.to)), from, transfer.bytes});
  }
  std::vector<const std::byte*> scan_items;
  for (const Scan& scan : scans_) scan_items.push_back(data_of(scan.slot));
  std::vector<std::vector<std::byte>> scan_bytes(scans_.size());

  int64_t trip = 0;
  const PlanStep* current = nullptr;
  try {
    for (; trip < max_trips && condition; ++trip) {
      *iteration = trip;
      *condition_in = condition;
      for (const PlanStep* step : steps_) {
        current = step;
        KernelContext step_context(state.values(), step->inputs, step->outputs, allocator, threads);
        step_context.set_device_state(nullptr, context.run_states());
        step->kernel->compute(step_context);
        for (int slot : step->outputs) {
          if (slot >= 0) state.settle(slot);
        }
      }
      current = nullptr;
      condition = condition_out ? *condition_out
                                : scalar_truth(state.value(condition_out_slot_).tensor(), "the Loop body's condition output");
      for (size_t k = 0; k < scans_.size(); ++k) {
        scan_bytes[k].insert(scan_bytes[k].end(), scan_items[k], scan_items[k] + scans_[k].bytes);
      }
      for (const Copy& copy : stagings) std::memcpy(copy.to, copy.from, copy.bytes);
      for (const Copy& copy : transfers) std::memcpy(copy.to, copy.from, copy.bytes);
    }
  } catch (const Error& error) {
    if (current == nullptr) throw;
    throw Error(error.code(), describe_step(*current) + ": " + error.what());
  } catch (const std::exception& error) {
    if (current == nullptr) throw;
    throw Error(ErrorCode::kRuntimeFailure, describe_step(*current) + ": " + user_message(error));
  }

  for (size_t k = 0; k < carried_in_slots_.size(); ++k) {
    const Tensor& final_value = state.value(carried_in_slots_[k]).tensor();
    Tensor& out = context.output(k, final_value.dtype(), final_value.shape());
    if (final_value.byte_size()) std::memcpy(out.mutable_raw_data(), final_value.raw_data(), final_value.byte_size());
  }
  if (trip == 0) return 0;
  for (size_t k = 0; k < scans_.size(); ++k) {
    Shape shape{trip};
    shape.insert(shape.end(), scans_[k].item_shape.begin(), scans_[k].item_shape.end());
    Tensor& out = context.output(carried_in_slots_.size() + k, scans_[k].dtype, shape);
    if (!scan_bytes[k].empty()) std::memcpy(out.mutable_raw_data(), scan_bytes[k].data(), scan_bytes[k].size());
  }
  return trip;
}

}  // namespace onyx
