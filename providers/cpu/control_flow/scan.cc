// Scan: the body plan is compiled once and run per step on one slice of each scan input;
// states carry over, scan outputs are stacked along their axes. Opset 8's form (a leading
// batch axis and optional per-batch sequence lengths) runs the opset-9 loop per batch entry.
#include <algorithm>

#include "providers/cpu/control_flow/subgraph_call.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

int64_t normalized(int64_t axis, size_t rank, const char* what) {
  auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) {
    throw_error(ErrorCode::kInvalidArgument, "Scan: ", what, " axis ", axis, " is out of range for rank ", rank);
  }
  return axis < 0 ? axis + r : axis;
}

// From opset 9, the states stay where the body made them (on a device, if it ran there) from
// one step to the next; the scan outputs come to the host, where they are stacked. Opset 8's
// batched form slices and stacks its states here, so all of its body's outputs come back.
std::vector<bool> scan_body_outputs_to_host(const KernelInfo& info) {
  if (info.opset() < 9) return {};
  const Graph& body = info.attributes().require_graph("body");
  const size_t scan_inputs = static_cast<size_t>(std::max<int64_t>(0, info.attributes().get_int("num_scan_inputs", 0)));
  const size_t states = info.input_count() >= scan_inputs ? info.input_count() - scan_inputs : 0;
  std::vector<bool> to_host(body.outputs.size(), true);
  for (size_t i = 0; i < states && i < to_host.size(); ++i) to_host[i] = false;
  return to_host;
}

class ScanKernel final : public Kernel {
 public:
  explicit ScanKernel(const KernelInfo& info)
      : body_(info, "body", scan_body_outputs_to_host(info)), batched_(info.opset() < 9) {
    const NodeAttributes& a = info.attributes();
    // Counts, axes and directions as check_scan (onnx_ops/control_flow.cc) allowed them.
    scan_input_count_ = static_cast<size_t>(a.require_int("num_scan_inputs"));
    size_t node_inputs = info.input_count() - (batched_ ? 1 : 0);
    state_count_ = node_inputs - scan_input_count_;
    scan_output_count_ = info.output_count() - state_count_;
    input_axes_ = a.get_ints("scan_input_axes", std::vector<int64_t>(scan_input_count_, 0));
    input_directions_ = a.get_ints(batched_ ? "directions" : "scan_input_directions",
                                   std::vector<int64_t>(scan_input_count_, 0));
    output_axes_ = a.get_ints("scan_output_axes", std::vector<int64_t>(scan_output_count_, 0));
    output_directions_ = a.get_ints("scan_output_directions", std::vector<int64_t>(scan_output_count_, 0));
    if (body_.formal_input_count() != state_count_ + scan_input_count_ ||
        body_.graph().outputs.size() != state_count_ + scan_output_count_) {
      throw_error(ErrorCode::kInvalidModel, "Scan: the body's inputs/outputs do not match ", state_count_, " states, ",
                  scan_input_count_, " scan inputs and ", scan_output_count_, " scan outputs");
    }
  }

  void compute(KernelContext& context) override {
    size_t first = batched_ ? 1 : 0;
    std::vector<Value> states(state_count_);
    std::vector<Tensor> scan_inputs(scan_input_count_);
    for (size_t i = 0; i < state_count_; ++i) states[i] = context.input_value(first + i);
    // Scan inputs are sliced here, on the host: one copy per Scan call when they come from a device.
    for (size_t j = 0; j < scan_input_count_; ++j) {
      scan_inputs[j] = body_.plan().to_host(context.input(first + state_count_ + j), context);
    }
    auto frame = body_.plan().make_frame(&context);
    if (!batched_) {
      std::vector<Tensor> scan_outputs = run_sequence(context, *frame, states, scan_inputs, input_axes_, -1);
      for (size_t i = 0; i < state_count_; ++i) context.set_output(i, std::move(states[i]));
      for (size_t k = 0; k < scan_output_count_; ++k) context.set_output(state_count_ + k, std::move(scan_outputs[k]));
      return;
    }
    // Opset 8: axis 0 is the batch; the sequence axis is 1 in every scan input.
    int64_t batch = scan_inputs.empty() ? states[0].tensor().dim(0) : scan_inputs[0].dim(0);
    std::vector<int64_t> lengths;
    if (context.has_input(0)) lengths = context.input(0).to_int64_vector();
    std::vector<std::vector<Tensor>> state_items(state_count_), output_items(scan_output_count_);
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<Value> batch_states(state_count_);
      for (size_t i = 0; i < state_count_; ++i) batch_states[i] = slice_along_axis(states[i].tensor(), 0, b, 1);
      std::vector<Tensor> batch_inputs(scan_input_count_);
      for (size_t j = 0; j < scan_input_count_; ++j) batch_inputs[j] = slice_along_axis(scan_inputs[j], 0, b, 1);
      int64_t length = lengths.empty() ? -1 : lengths.at(static_cast<size_t>(b));
      std::vector<Tensor> outputs = run_sequence(context, *frame, batch_states, batch_inputs,
                                                 std::vector<int64_t>(scan_input_count_, 0), length);
      for (size_t i = 0; i < state_count_; ++i) state_items[i].push_back(batch_states[i].tensor());
      for (size_t k = 0; k < scan_output_count_; ++k) output_items[k].push_back(outputs[k]);
    }
    for (size_t i = 0; i < state_count_; ++i) context.set_output(i, stack_along_axis(state_items[i], 0, *cpu_allocator(), context.threads()));
    for (size_t k = 0; k < scan_output_count_; ++k) {
      context.set_output(state_count_ + k, stack_along_axis(output_items[k], 0, *cpu_allocator(), context.threads()));
    }
  }

 private:
  // Runs the body over the sequence; `states` are updated in place; returns the scan outputs.
  std::vector<Tensor> run_sequence(KernelContext& context, ExecutionPlan::Frame& frame, std::vector<Value>& states,
                                   const std::vector<Tensor>& scan_inputs, const std::vector<int64_t>& axes,
                                   int64_t length_limit) const {
    int64_t length = -1;
    std::vector<int64_t> input_axes(scan_input_count_);
    for (size_t j = 0; j < scan_input_count_; ++j) {
      input_axes[j] = normalized(axes[j], scan_inputs[j].rank(), "scan input");
      int64_t this_length = scan_inputs[j].dim(static_cast<size_t>(input_axes[j]));
      if (length >= 0 && this_length != length) {
        throw_error(ErrorCode::kInvalidArgument, "Scan: scan inputs have different sequence lengths ", length, " and ", this_length);
      }
      length = this_length;
    }
    if (length < 0) length = 0;
    if (length_limit >= 0) length = std::min(length, length_limit);

    std::vector<Value> inputs(body_.input_count());
    std::vector<Value> outputs;
    std::vector<std::vector<Tensor>> items(scan_output_count_);
    for (int64_t t = 0; t < length; ++t) {
      for (size_t i = 0; i < state_count_; ++i) inputs[i] = std::move(states[i]);
      for (size_t j = 0; j < scan_input_count_; ++j) {
        int64_t index = input_directions_[j] ? length - 1 - t : t;
        inputs[state_count_ + j] = slice_along_axis(scan_inputs[j], input_axes[j], index, context.threads());
      }
      body_.bind_outer_values(context, inputs);
      body_.plan().run(frame, inputs, outputs);
      for (size_t i = 0; i < state_count_; ++i) states[i] = std::move(outputs[i]);
      for (size_t k = 0; k < scan_output_count_; ++k) items[k].push_back(outputs[state_count_ + k].tensor());
    }
    std::vector<Tensor> stacked(scan_output_count_);
    for (size_t k = 0; k < scan_output_count_; ++k) {
      if (items[k].empty()) {
        const TypeInfo& type = body_.graph().outputs[state_count_ + k].type;
        stacked[k] = Tensor(type.elem_type == DataType::kUndefined ? DataType::kFloat : type.elem_type, {0});
        continue;
      }
      if (output_directions_[k]) std::reverse(items[k].begin(), items[k].end());
      int64_t axis = normalized(output_axes_[k], items[k][0].rank() + 1, "scan output");
      stacked[k] = stack_along_axis(items[k], axis, *cpu_allocator(), context.threads());
    }
    return stacked;
  }

  SubgraphCall body_;
  bool batched_;
  size_t scan_input_count_ = 0;
  size_t state_count_ = 0;
  size_t scan_output_count_ = 0;
  std::vector<int64_t> input_axes_, input_directions_, output_axes_, output_directions_;
};

}  // namespace

// Opset 8 reads everything on the host; from 9 the states pass through to the body as they are.
ONYX_REGISTER_KERNEL("CPU", "", "Scan", 8, 8, ScanKernel);
ONYX_REGISTER_KERNEL_WITH_MEMORY("CPU", "", "Scan", 9, kOpsetOpenEnded, ScanKernel, {.passes_values_through = true});

}  // namespace onyx
