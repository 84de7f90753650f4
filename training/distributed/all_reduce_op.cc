#include "training/distributed/all_reduce_op.h"

#include <cstring>
#include <map>
#include <mutex>

#include "onnx_ops/op_schema.h"
#include "providers/kernel_registry.h"
#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"
#include "training/seeded_dropout.h"

namespace onyx::training::distributed {

namespace {

struct RegisteredCommunicators {
  std::mutex mutex;
  int64_t next_id = 1;
  std::map<int64_t, std::shared_ptr<Communicator>> by_id;
};

RegisteredCommunicators& registered_communicators() {
  static RegisteredCommunicators registered;
  return registered;
}

std::shared_ptr<Communicator> registered_communicator(int64_t id) {
  RegisteredCommunicators& registered = registered_communicators();
  std::lock_guard lock(registered.mutex);
  auto found = registered.by_id.find(id);
  ONYX_CHECK(found != registered.by_id.end(), ErrorCode::kInvalidArgument, kAllReduceSumOp,
             ": no communicator number ", id, " (the session that registered it is gone)");
  return found->second;
}

class AllReduceSumKernel final : public Kernel {
 public:
  explicit AllReduceSumKernel(const KernelInfo& info)
      : communicator_(registered_communicator(info.attributes().get_int(kCommunicatorAttribute, 0))) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    std::memcpy(y.mutable_raw_data(), x.raw_data(), x.byte_size());
    communicator_->all_reduce_sum(y.mutable_raw_data(), static_cast<size_t>(y.element_count()), y.dtype());
  }

 private:
  std::shared_ptr<Communicator> communicator_;
};

ONYX_REGISTER_KERNEL("CPU", kTrainingDomain, "AllReduceSum", 1, kOpsetOpenEnded, AllReduceSumKernel);

ONYX_REGISTER_SHAPE_RULE(kTrainingDomain, "AllReduceSum", [](InferenceContext& ctx) {
  ctx.set_output_type(0, ctx.input_type(0));
});

// Rank r's x reaches every rank's loss through the sum, so dx = sum over ranks of dy.
ONYX_REGISTER_GRADIENT_RULE(kTrainingDomain, "AllReduceSum", [](GradientRuleContext& ctx) {
  set_if_wanted(ctx, 0, [&] {
    const int64_t id = NodeAttributes(ctx.node()).get_int(kCommunicatorAttribute, 0);
    return ctx.add(kAllReduceSumOp, {ctx.output_gradient(0)}, {make_attribute(kCommunicatorAttribute, id)},
                   kTrainingDomain);
  });
});

}  // namespace

int64_t register_communicator(std::shared_ptr<Communicator> communicator) {
  RegisteredCommunicators& registered = registered_communicators();
  std::lock_guard lock(registered.mutex);
  const int64_t id = registered.next_id++;
  registered.by_id[id] = std::move(communicator);
  return id;
}

void unregister_communicator(int64_t id) {
  RegisteredCommunicators& registered = registered_communicators();
  std::lock_guard lock(registered.mutex);
  registered.by_id.erase(id);
}

}  // namespace onyx::training::distributed
