// CPU kernels of the ops that change only the shape (Reshape, Flatten, Squeeze, Unsqueeze,
// Identity) or only the type (BitCast). The element order never changes, so shape changes hand
// back a view of the input's buffer. The plan copies such a view only when it points into the
// arena (whose bytes are reused once the input dies); views of anything else cost nothing.
#include "onnx_ops/axes.h"
#include "onnx_ops/tensor_ops.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

void emit_with_shape(KernelContext& ctx, const Tensor& input, const Shape& shape) {
  ctx.set_output(0, input.reshaped(shape));
}

class ReshapeKernel final : public Kernel {
 public:
  explicit ReshapeKernel(const KernelInfo& info)
      : opset_(info.opset()), allow_zero_(info.attributes().get_int("allowzero", 0) != 0) {
    if (opset_ < 5) shape_attr_ = info.attributes().get_ints("shape");
  }
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    std::vector<int64_t> target = opset_ < 5 ? shape_attr_ : ctx.input(1).to_int64_vector();
    emit_with_shape(ctx, input, resolve_reshape(input.shape(), target, allow_zero_));
  }

 private:
  int64_t opset_;
  bool allow_zero_;
  std::vector<int64_t> shape_attr_;
};

class FlattenKernel final : public Kernel {
 public:
  explicit FlattenKernel(const KernelInfo& info) : axis_(info.attributes().get_int("axis", 1)) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    emit_with_shape(ctx, input, flatten_shape(input.shape(), axis_));
  }

 private:
  int64_t axis_;
};

class SqueezeKernel final : public Kernel {
 public:
  explicit SqueezeKernel(const KernelInfo& info) : info_opset_(info.opset()) {
    if (info_opset_ < 13) axes_ = info.attributes().get_ints("axes");
  }
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    std::vector<int64_t> axes =
        info_opset_ < 13 ? axes_
                         : (ctx.has_input(1) ? ctx.input(1).to_int64_vector() : axes_);
    emit_with_shape(ctx, input, squeeze_shape(input.shape(), axes));
  }

 private:
  int64_t info_opset_;
  std::vector<int64_t> axes_;
};

class UnsqueezeKernel final : public Kernel {
 public:
  explicit UnsqueezeKernel(const KernelInfo& info) : opset_(info.opset()) {
    if (opset_ < 13) axes_ = info.attributes().require_ints("axes");
  }
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    std::vector<int64_t> axes = opset_ < 13 ? axes_ : ctx.input(1).to_int64_vector();
    emit_with_shape(ctx, input, unsqueeze_shape(input.shape(), axes));
  }

 private:
  int64_t opset_;
  std::vector<int64_t> axes_;
};

// Sequences and optionals are immutable once built, so they pass through by reference.
class IdentityKernel final : public Kernel {
 public:
  explicit IdentityKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Value& value = ctx.input_value(0);
    if (value.is_tensor()) {
      emit_with_shape(ctx, value.tensor(), value.tensor().shape());
    } else {
      ctx.set_output(0, value);
    }
  }
};

// BitCast reinterprets the bytes as another type of the same width.
class BitCastKernel final : public Kernel {
 public:
  explicit BitCastKernel(const KernelInfo& info)
      : to_(dtype_from_code(static_cast<int32_t>(info.attributes().require_int("to")))) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    ONYX_CHECK(input.dtype() != DataType::kString && to_ != DataType::kString,
               ErrorCode::kInvalidArgument, "BitCast: strings cannot be bit-cast");
    ONYX_CHECK(dtype_bits(input.dtype()) == dtype_bits(to_), ErrorCode::kInvalidArgument,
               "BitCast: ", dtype_name(input.dtype()), " (", dtype_bits(input.dtype()),
               " bits) and ", dtype_name(to_), " (", dtype_bits(to_), " bits) differ in width");
    Tensor& out = ctx.output(0, to_, input.shape());
    if (input.byte_size() > 0) std::memcpy(out.mutable_raw_data(), input.raw_data(), input.byte_size());
  }

 private:
  DataType to_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "BitCast", 26, kOpsetOpenEnded, BitCastKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Reshape", 1, kOpsetOpenEnded, ReshapeKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Flatten", 1, kOpsetOpenEnded, FlattenKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Squeeze", 1, kOpsetOpenEnded, SqueezeKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Unsqueeze", 1, kOpsetOpenEnded, UnsqueezeKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Identity", 1, kOpsetOpenEnded, IdentityKernel);

}  // namespace onyx
