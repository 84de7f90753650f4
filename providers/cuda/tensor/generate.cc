// CUDA ConstantOfShape (shape from host input 0, the value attribute's bytes broadcast) and
// Range (start, limit and delta from host inputs, the count as the CPU kernel computes it).
// With them a model's masks and position ids are made on the device, where they are read.
#include <cstring>

#include "onnx_ops/tensor_ops.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/tensor/generate_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaConstantOfShapeKernel final : public Kernel {
 public:
  explicit CudaConstantOfShapeKernel(const KernelInfo& info) : node_(info.node()) {
    value_ = Tensor::scalar<float>(0.0f);
    if (const Attribute* attribute = info.attributes().find("value")) value_ = attribute->t;
    ONYX_CHECK(value_.element_count() == 1, ErrorCode::kInvalidModel, "ConstantOfShape: value must hold one element, not ",
               value_.element_count());
    if (!supports(info)) throw_cuda_unsupported_type(node_, 0, value_.dtype(), "element types of 1, 2, 4 or 8 bytes");
    std::memcpy(&bits_, value_.raw_data(), value_.byte_size());
  }
  static bool supports(const KernelInfo& info) {
    const Attribute* attribute = info.attributes().find("value");
    if (attribute == nullptr) return true;
    DataType type = attribute->t.dtype();
    return type != DataType::kString && attribute->t.element_count() == 1 &&
           copy_width_of(type) > 0;
  }

  void compute(KernelContext& context) override {
    Shape shape = host_int64s(context.input(0), node_, 0);
    for (int64_t d : shape) {
      ONYX_CHECK(d >= 0, ErrorCode::kInvalidArgument, "ConstantOfShape: negative dim in shape ", shape_to_string(shape));
    }
    Tensor& output = context.output(0, value_.dtype(), shape);
    launch_fill(static_cast<int>(value_.byte_size()), output.mutable_raw_data(), output.element_count(), bits_,
                stream_of(context));
  }

 private:
  static int copy_width_of(DataType type) {
    size_t bytes = dtype_storage_bytes(type, 1);
    return bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8 ? static_cast<int>(bytes) : 0;
  }

  const Node& node_;
  Tensor value_;
  uint64_t bits_ = 0;
};

class CudaRangeKernel final : public Kernel {
 public:
  explicit CudaRangeKernel(const KernelInfo& info) : node_(info.node()) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, "float, double, int16, int32, int64");
  }
  static bool supports(const KernelInfo& info) {
    return input_type_in(info, 0, {DataType::kFloat, DataType::kDouble, DataType::kInt16, DataType::kInt32,
                                   DataType::kInt64});
  }

  void compute(KernelContext& context) override {
    const Tensor& start = context.input(0);
    check_cuda_input_type(node_, 0, start.dtype(),
                          {DataType::kFloat, DataType::kDouble, DataType::kInt16, DataType::kInt32, DataType::kInt64},
                          "float, double, int16, int32, int64");
    const double first = start.element_as_double(0);
    const double limit = context.input(1).element_as_double(0);
    const double delta = context.input(2).element_as_double(0);
    const int64_t count = range_count(first, limit, delta);
    Tensor& output = context.output(0, start.dtype(), {count});
    RangeElement element = RangeElement::kInt64;
    switch (start.dtype()) {
      case DataType::kFloat: element = RangeElement::kFloat; break;
      case DataType::kDouble: element = RangeElement::kDouble; break;
      case DataType::kInt16: element = RangeElement::kInt16; break;
      case DataType::kInt32: element = RangeElement::kInt32; break;
      default: break;
    }
    const bool integral = element != RangeElement::kFloat && element != RangeElement::kDouble;
    launch_range(element, output.mutable_raw_data(), count, first, delta,
                 integral ? context.input(0).to_int64_vector().at(0) : 0,
                 integral ? context.input(2).to_int64_vector().at(0) : 0, stream_of(context));
  }

 private:
  const Node& node_;
};

}  // namespace

ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "ConstantOfShape", 9, kOpsetOpenEnded, CudaConstantOfShapeKernel,
                                 {.host = {0}, .any_device = {}});
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "Range", 11, kOpsetOpenEnded, CudaRangeKernel,
                                 {.host = {0, 1, 2}, .any_device = {}});

}  // namespace onyx::cuda
