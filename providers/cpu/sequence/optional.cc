// CPU kernels of the optional ops. At run time an optional is its content (a tensor or a
// sequence) or a Value of kind none when empty, so these kernels only pass values along; the
// session copies a passed-through tensor whose memory lies in its arena.
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// Optional(input) wraps its input; Optional() with only the `type` attribute is empty.
class OptionalKernel final : public Kernel {
 public:
  explicit OptionalKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override { ctx.set_output(0, ctx.input_value(0)); }
};

// Opset 18 also accepts a tensor or sequence (always present) and a missing input (empty).
class OptionalHasElementKernel final : public Kernel {
 public:
  explicit OptionalHasElementKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    ctx.output(0, DataType::kBool, {}).mutable_data<bool>()[0] = ctx.has_input(0);
  }
};

class OptionalGetElementKernel final : public Kernel {
 public:
  explicit OptionalGetElementKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Value& value = ctx.input_value(0);
    ONYX_CHECK(!value.is_none(), ErrorCode::kInvalidArgument,
               "OptionalGetElement: the optional input is empty");
    ctx.set_output(0, value);
  }
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Optional", 15, kOpsetOpenEnded, OptionalKernel);
ONYX_REGISTER_KERNEL("CPU", "", "OptionalHasElement", 15, kOpsetOpenEnded,
                     OptionalHasElementKernel);
ONYX_REGISTER_KERNEL("CPU", "", "OptionalGetElement", 15, kOpsetOpenEnded,
                     OptionalGetElementKernel);

}  // namespace onyx
