// CUDA kernels of the broadcasting binary ops (Add ... Greater, PRelu, And/Or/Xor), the
// variadic Max/Min/Sum folded pairwise, and Where.
#include <stdexcept>

#include "onnx_ops/broadcast.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/math/binary_ops.h"
#include "providers/cuda/math/unary_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

BroadcastMap cuda_broadcast_map_for(const Node& node, const std::vector<std::vector<int64_t>>& inputs,
                                    const Shape& output) {
  try {
    return make_broadcast_map(inputs, output);
  } catch (const std::length_error&) {
    throw_error(ErrorCode::kNotImplemented, "CUDA ", node.op_type, " (node '", node.name,
                "'): broadcasting over more than 8 dims that cannot be merged is not supported, output ",
                shape_to_string(output));
  }
}

class CudaBinaryKernel {
 public:
  CudaBinaryKernel(const KernelInfo& info, BinaryOp op) : node_(info.node()), op_(op) {
    if (!supports(info, op)) throw_cuda_unsupported_type(info, 0, supported_text());
    if (info.input_count() < 1) throw_error(ErrorCode::kInvalidModel, node_.op_type, " needs inputs");
  }

  static bool supports(const KernelInfo& info, BinaryOp op) {
    DataType type = inferred_input_type(info, 0);
    if (type != DataType::kUndefined && !binary_dtype_supported(op, type)) return false;
    // Pow with an exponent of another type (float ** int) is not served here.
    for (size_t i = 1; i < info.input_count(); ++i) {
      DataType other = inferred_input_type(info, i);
      if (type != DataType::kUndefined && other != DataType::kUndefined && other != type) return false;
    }
    return true;
  }

  // Returns output 0 (Mean scales it afterwards).
  Tensor compute(KernelContext& context) {
    const Tensor& first = context.input(0);
    if (!binary_dtype_supported(op_, first.dtype())) {
      throw_cuda_unsupported_type(node_, 0, first.dtype(), supported_text());
    }
    for (size_t i = 1; i < context.input_count(); ++i) {
      if (context.input(i).dtype() != first.dtype()) {
        throw_cuda_unsupported_type(node_, i, context.input(i).dtype(), std::string(dtype_name(first.dtype())) +
                                                                             " like input 0");
      }
    }
    bool bool_out = binary_op_is_comparison(op_) || binary_op_is_logical(op_);
    DataType out_type = bool_out ? DataType::kBool : first.dtype();
    if (context.input_count() == 1) {  // Max/Min/Sum of one input
      context.set_output(0, first);
      return first;
    }
    // Variadic ops fold left to right; intermediates are scratch of the run, freed in stream
    // order (a block freed here is reused only by later work on the same stream).
    Tensor accumulated = first;
    Tensor intermediate;
    for (size_t i = 1; i < context.input_count(); ++i) {
      const Tensor& next = context.input(i);
      Shape shape = broadcast_shapes(accumulated.shape(), next.shape(), node_.op_type);
      int64_t count = shape_element_count(shape);
      Tensor target;
      if (i + 1 == context.input_count()) {
        target = context.output(0, out_type, shape);
      } else {
        intermediate = context.scratch(dtype_storage_bytes(out_type, count));
        target = Tensor::view(out_type, shape, intermediate.mutable_raw_data(), nullptr, first.device());
      }
      BroadcastMap map = cuda_broadcast_map_for(node_, {accumulated.shape(), next.shape()}, shape);
      bool contiguous = accumulated.shape() == shape && next.shape() == shape;
      launch_binary(op_, first.dtype(), accumulated.raw_data(), next.raw_data(), target.mutable_raw_data(), count,
                    map, contiguous, stream_of(context));
      accumulated = target;
    }
    return accumulated;
  }

 private:
  std::string supported_text() const {
    if (binary_op_is_logical(op_)) return "bool";
    return op_ == BinaryOp::kEqual ? "float, float16, bfloat16, int32, int64, bool"
                                   : "float, float16, bfloat16, int32, int64";
  }

  const Node& node_;
  BinaryOp op_;
};

class CudaWhereKernel final : public Kernel {
 public:
  explicit CudaWhereKernel(const KernelInfo& info) : node_(info.node()) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 1, "8-, 16-, 32- and 64-bit element types");
  }
  static bool supports(const KernelInfo& info) {
    DataType type = inferred_input_type(info, 1);
    return type == DataType::kUndefined || where_dtype_supported(type);
  }

  void compute(KernelContext& context) override {
    const Tensor& condition = context.input(0);
    const Tensor& x = context.input(1);
    const Tensor& y = context.input(2);
    check_cuda_input_type(node_, 0, condition.dtype(), {DataType::kBool}, "bool");
    if (!where_dtype_supported(x.dtype())) {
      throw_cuda_unsupported_type(node_, 1, x.dtype(), "8-, 16-, 32- and 64-bit element types");
    }
    std::vector<Shape> shapes = {condition.shape(), x.shape(), y.shape()};
    Shape shape = broadcast_shapes(shapes, "Where");
    BroadcastMap map = cuda_broadcast_map_for(node_, shapes, shape);
    Tensor& output = context.output(0, x.dtype(), shape);
    launch_where(x.dtype(), condition.raw_data(), x.raw_data(), y.raw_data(), output.mutable_raw_data(),
                 output.element_count(), map, stream_of(context));
  }

 private:
  const Node& node_;
};

// One class per op, so that registration sees its static supports() (placement asks it).
template <BinaryOp kOp>
class CudaBinaryOpKernel final : public Kernel {
 public:
  explicit CudaBinaryOpKernel(const KernelInfo& info) : kernel_(info, kOp) {}
  static bool supports(const KernelInfo& info) { return CudaBinaryKernel::supports(info, kOp); }
  void compute(KernelContext& context) override { kernel_.compute(context); }

 private:
  CudaBinaryKernel kernel_;
};

// Mean: the inputs' sum (broadcast, folded as Sum), then scaled by 1 / count in place.
class CudaMeanKernel final : public Kernel {
 public:
  explicit CudaMeanKernel(const KernelInfo& info) : kernel_(info, BinaryOp::kAdd) {}
  static bool supports(const KernelInfo& info) {
    DataType type = inferred_input_type(info, 0);
    return CudaBinaryKernel::supports(info, BinaryOp::kAdd) &&
           (type == DataType::kUndefined || unary_dtype_supported(type));
  }
  void compute(KernelContext& context) override {
    Tensor sum = kernel_.compute(context);
    if (context.input_count() == 1) return;  // the input itself
    UnaryParams scale{1.0f / static_cast<float>(context.input_count()), 0.0f, 0.0f};
    launch_unary(UnaryOp::kScale, sum.dtype(), sum.raw_data(), sum.mutable_raw_data(), sum.element_count(), scale,
                 stream_of(context));
  }

 private:
  CudaBinaryKernel kernel_;
};

// Mod: Python-style remainder (integers) or C fmod (fmod = 1, required for floats).
class CudaModKernel final : public Kernel {
 public:
  explicit CudaModKernel(const KernelInfo& info) : kernel_(info, op_of(info)) {}
  static bool supports(const KernelInfo& info) { return CudaBinaryKernel::supports(info, op_of(info)); }
  void compute(KernelContext& context) override { kernel_.compute(context); }

 private:
  static BinaryOp op_of(const KernelInfo& info) {
    return info.attributes().get_int("fmod", 0) != 0 ? BinaryOp::kFmod : BinaryOp::kMod;
  }
  CudaBinaryKernel kernel_;
};

}  // namespace

#define ONYX_CUDA_BINARY(name, since, op) \
  ONYX_REGISTER_KERNEL(kCudaProvider, "", name, since, kOpsetOpenEnded, CudaBinaryOpKernel<BinaryOp::op>)

ONYX_CUDA_BINARY("Add", 1, kAdd);
ONYX_CUDA_BINARY("Sub", 1, kSub);
ONYX_CUDA_BINARY("Mul", 1, kMul);
ONYX_CUDA_BINARY("Div", 1, kDiv);
ONYX_CUDA_BINARY("Pow", 1, kPow);
ONYX_CUDA_BINARY("Max", 1, kMax);
ONYX_CUDA_BINARY("Min", 1, kMin);
ONYX_CUDA_BINARY("Sum", 1, kAdd);
ONYX_CUDA_BINARY("PRelu", 1, kPRelu);
ONYX_CUDA_BINARY("Equal", 1, kEqual);
ONYX_CUDA_BINARY("Less", 1, kLess);
ONYX_CUDA_BINARY("Greater", 1, kGreater);
ONYX_CUDA_BINARY("LessOrEqual", 12, kLessOrEqual);
ONYX_CUDA_BINARY("GreaterOrEqual", 12, kGreaterOrEqual);
ONYX_CUDA_BINARY("And", 1, kAnd);
ONYX_CUDA_BINARY("Or", 1, kOr);
ONYX_CUDA_BINARY("Xor", 1, kXor);
#undef ONYX_CUDA_BINARY
ONYX_REGISTER_KERNEL(kCudaProvider, "", "Mod", 10, kOpsetOpenEnded, CudaModKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "Mean", 1, kOpsetOpenEnded, CudaMeanKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "Where", 9, kOpsetOpenEnded, CudaWhereKernel);

}  // namespace onyx::cuda
