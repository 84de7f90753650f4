// Loop: the body plan is compiled once; one frame is reused across iterations, loop-carried
// values move from one iteration's outputs to the next one's inputs without copies, and scan
// outputs are stacked once at the end. A body of small static-shape values on the CPU runs
// in place instead (in_place_body.h), without the frame's per-iteration bookkeeping.
#include <limits>

#include "providers/cpu/control_flow/in_place_body.h"
#include "providers/cpu/control_flow/subgraph_call.h"
#include "providers/kernel_registry.h"
#include "runtime/session/profiler.h"

namespace onyx {

namespace {

// The iteration number handed to the body. Its one-element buffer is reused when the previous
// iteration let go of it (the common case: the body reads it and the plan releases it), so a
// steady loop allocates nothing for it.
class IterationNumber {
 public:
  Tensor next(int64_t trip) {
    if (!cell_ || cell_.use_count() > 1) cell_ = std::make_shared<int64_t>();
    *cell_ = trip;
    return Tensor::view(DataType::kInt64, {}, cell_.get(), cell_);
  }

 private:
  std::shared_ptr<int64_t> cell_;
};

// Tensors are never written after they are made, so one true and one false serve every Loop.
const Tensor& bool_scalar(bool value) {
  static const Tensor true_scalar = Tensor::scalar<bool>(true);
  static const Tensor false_scalar = Tensor::scalar<bool>(false);
  return value ? true_scalar : false_scalar;
}

// The body's condition comes to the host (the loop reads it), and so do its scan outputs (they
// are stacked here); loop-carried values stay where the body made them, so a body running on a
// device keeps its state there from one iteration to the next.
std::vector<bool> body_outputs_to_host(const KernelInfo& info) {
  const Graph& body = info.attributes().require_graph("body");
  const size_t carried = info.input_count() >= 2 ? info.input_count() - 2 : 0;
  std::vector<bool> to_host(body.outputs.size(), true);
  for (size_t i = 1; i <= carried && i < to_host.size(); ++i) to_host[i] = false;
  return to_host;
}

class LoopKernel final : public Kernel {
 public:
  explicit LoopKernel(const KernelInfo& info) : body_(info, "body", body_outputs_to_host(info)) {
    carried_count_ = info.input_count() - 2;
    size_t body_outputs = body_.graph().outputs.size();
    if (body_.formal_input_count() != carried_count_ + 2 || body_outputs < carried_count_ + 1) {
      throw_error(ErrorCode::kInvalidModel, "Loop with ", carried_count_, " loop-carried values has a body with ",
                  body_.formal_input_count(), " inputs and ", body_outputs, " outputs");
    }
    scan_count_ = body_outputs - 1 - carried_count_;
    for (size_t k = 0; k < scan_count_; ++k) {
      scan_types_.push_back(body_.graph().outputs[1 + carried_count_ + k].type);
    }
    in_place_ = InPlaceLoopBody::compile(body_.plan(), carried_count_);
  }

  void compute(KernelContext& context) override {
    int64_t max_trips = std::numeric_limits<int64_t>::max();
    if (context.has_input(0)) max_trips = context.input(0).to_int64_vector().at(0);
    bool condition = !context.has_input(1) || scalar_truth(context.input(1), "Loop's condition");

    std::vector<Value> inputs(body_.input_count());
    // A profiled run takes the general path, whose iterations and body nodes the trace shows
    // (the in-place body runs its kernels without per-step boundaries).
    if (in_place_ && active_profiler() == nullptr) {
      for (size_t i = 0; i < carried_count_; ++i) inputs[2 + i] = context.input_value(2 + i);
      body_.bind_outer_values(context, inputs);
      if (in_place_->accepts(inputs)) {
        if (in_place_->run(context, inputs, max_trips, condition) == 0) write_empty_scans(context);
        return;
      }
    }
    std::vector<Value> carried(carried_count_);
    for (size_t i = 0; i < carried_count_; ++i) carried[i] = context.input_value(2 + i);
    std::vector<std::vector<Value>> scans(scan_count_);

    auto frame = body_.plan().make_frame(&context);
    std::vector<Value> outputs;
    IterationNumber iteration;
    Value condition_input = bool_scalar(condition);
    for (int64_t trip = 0; trip < max_trips && condition; ++trip) {
      inputs[0] = iteration.next(trip);
      inputs[1] = std::move(condition_input);
      for (size_t i = 0; i < carried_count_; ++i) inputs[2 + i] = std::move(carried[i]);
      body_.bind_outer_values(context, inputs);  // each run consumes its inputs
      body_.plan().run(*frame, inputs, outputs);
      condition = scalar_truth(outputs[0].tensor(), "the Loop body's condition output");
      // The next iteration's condition input is this one's output when that is already a bool
      // scalar (typically the input passed through): moved back in, not made again.
      const Tensor& condition_output = outputs[0].tensor();
      condition_input = condition_output.dtype() == DataType::kBool && condition_output.rank() == 0
                            ? std::move(outputs[0])
                            : Value(bool_scalar(condition));
      outputs[0] = Value();  // may be a view of the iteration number: let it go for reuse
      for (size_t i = 0; i < carried_count_; ++i) carried[i] = std::move(outputs[1 + i]);
      for (size_t k = 0; k < scan_count_; ++k) scans[k].push_back(std::move(outputs[1 + carried_count_ + k]));
    }
    for (size_t i = 0; i < carried_count_; ++i) context.set_output(i, std::move(carried[i]));
    for (size_t k = 0; k < scan_count_; ++k) context.set_output(carried_count_ + k, stack(k, scans[k], context));
  }

 private:
  Value stack(size_t k, const std::vector<Value>& items, KernelContext& context) const {
    if (items.empty()) {  // no iteration: an empty tensor shaped like the body declares
      const TypeInfo& type = scan_types_[k];
      Shape shape{0};
      if (type.has_static_shape()) {
        Shape item = type.static_shape();
        shape.insert(shape.end(), item.begin(), item.end());
      }
      DataType dtype = type.elem_type == DataType::kUndefined ? DataType::kFloat : type.elem_type;
      return Tensor(dtype, shape);
    }
    std::vector<Tensor> tensors;
    tensors.reserve(items.size());
    for (const Value& item : items) tensors.push_back(item.tensor());
    return stack_along_axis(tensors, 0, *cpu_allocator(), context.threads());
  }

  void write_empty_scans(KernelContext& context) const {
    for (size_t k = 0; k < scan_count_; ++k) context.set_output(carried_count_ + k, stack(k, {}, context));
  }

  SubgraphCall body_;
  std::unique_ptr<InPlaceLoopBody> in_place_;  // null: the body does not qualify
  size_t carried_count_ = 0;
  size_t scan_count_ = 0;
  std::vector<TypeInfo> scan_types_;
};

}  // namespace

// The trip count and condition are read on the host; loop-carried values pass through.
ONYX_REGISTER_KERNEL_WITH_MEMORY("CPU", "", "Loop", 1, kOpsetOpenEnded, LoopKernel,
                                 {.host = {0, 1}, .passes_values_through = true});

}  // namespace onyx
