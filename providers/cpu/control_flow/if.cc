// If: runs the then- or else-branch plan, both compiled once when the kernel is created.
#include "providers/cpu/control_flow/subgraph_call.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

class IfKernel final : public Kernel {
 public:
  // The branches' outputs stay where they are made (on a device, if their producers ran there).
  explicit IfKernel(const KernelInfo& info)
      : then_(info, "then_branch", std::vector<bool>(info.output_count(), false)),
        else_(info, "else_branch", std::vector<bool>(info.output_count(), false)) {
    if (then_.graph().outputs.size() != info.output_count() || else_.graph().outputs.size() != info.output_count()) {
      throw_error(ErrorCode::kInvalidModel, "If has ", info.output_count(), " outputs but its branches give ",
                  then_.graph().outputs.size(), " and ", else_.graph().outputs.size());
    }
  }

  void compute(KernelContext& context) override {
    const SubgraphCall& branch = scalar_truth(context.input(0), "If's condition") ? then_ : else_;
    std::vector<Value> inputs(branch.input_count());
    branch.bind_outer_values(context, inputs);
    auto frame = branch.plan().make_frame(&context);
    std::vector<Value> outputs;
    branch.plan().run(*frame, inputs, outputs);
    for (size_t i = 0; i < outputs.size(); ++i) context.set_output(i, std::move(outputs[i]));
  }

 private:
  SubgraphCall then_;
  SubgraphCall else_;
};

}  // namespace

// The condition is read on the host; everything else passes through to the branches as it is.
ONYX_REGISTER_KERNEL_WITH_MEMORY("CPU", "", "If", 1, kOpsetOpenEnded, IfKernel, {.host = {0}, .passes_values_through = true});

}  // namespace onyx
