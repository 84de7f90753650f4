// CUDA Concat, Gather and GatherElements (data-movement kernels in copy.cu).
#include "onnx_ops/axes.h"
#include "onnx_ops/tensor_ops.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/tensor/copy_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaConcatKernel final : public Kernel {
 public:
  explicit CudaConcatKernel(const KernelInfo& info) : node_(info.node()), axis_(info.attributes().get_int("axis", 0)) {
    if (!cuda_copyable_type(info, 0)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
  }
  static bool supports(const KernelInfo& info) { return cuda_copyable_type(info, 0); }
  void compute(KernelContext& context) override {
    std::vector<Shape> shapes;
    for (size_t i = 0; i < context.input_count(); ++i) shapes.push_back(context.input(i).shape());
    const Tensor& first = context.input(0);
    int64_t axis = normalize_axis(axis_, static_cast<int64_t>(first.rank()), "Concat");
    Shape shape = concat_shape(shapes, axis);
    Tensor& output = context.output(0, first.dtype(), shape);
    int width = cuda_element_width(node_, 0, first.dtype());
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    int64_t base = 0;
    for (size_t i = 0; i < context.input_count(); ++i) {
      const Tensor& input = context.input(i);
      if (input.dtype() != first.dtype()) {
        throw_cuda_unsupported_type(node_, i, input.dtype(), std::string(dtype_name(first.dtype())) + " like input 0");
      }
      int64_t in_axis = input.dim(static_cast<size_t>(axis));
      launch_concat_part(width, input.raw_data(), output.mutable_raw_data(), input.element_count(), in_axis, inner,
                         shape[static_cast<size_t>(axis)], base, stream_of(context));
      base += in_axis;
    }
  }

 private:
  const Node& node_;
  int64_t axis_;
};

class CudaGatherKernel final : public Kernel {
 public:
  explicit CudaGatherKernel(const KernelInfo& info) : node_(info.node()), axis_(info.attributes().get_int("axis", 0)) {
    if (!cuda_copyable_type(info, 0)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
    if (!input_type_in(info, 1, {DataType::kInt32, DataType::kInt64})) throw_cuda_unsupported_type(info, 1, "int32, int64");
  }
  static bool supports(const KernelInfo& info) {
    return cuda_copyable_type(info, 0) && input_type_in(info, 1, {DataType::kInt32, DataType::kInt64});
  }
  void compute(KernelContext& context) override {
    const Tensor& data = context.input(0);
    const Tensor& indices = context.input(1);
    check_cuda_input_type(node_, 1, indices.dtype(), {DataType::kInt32, DataType::kInt64}, "int32, int64");
    int64_t axis = normalize_axis(axis_, static_cast<int64_t>(data.rank()), "Gather");
    Shape shape(data.shape().begin(), data.shape().begin() + axis);
    shape.insert(shape.end(), indices.shape().begin(), indices.shape().end());
    shape.insert(shape.end(), data.shape().begin() + axis + 1, data.shape().end());
    Tensor& output = context.output(0, data.dtype(), shape);
    GatherMap map;
    map.axis_dim = data.dim(static_cast<size_t>(axis));
    map.index_count = indices.element_count();
    map.inner = 1;
    for (size_t d = static_cast<size_t>(axis) + 1; d < data.rank(); ++d) map.inner *= data.dim(d);
    if (output.element_count() == 0) return;
    launch_gather(cuda_element_width(node_, 0, data.dtype()), data.raw_data(), indices.raw_data(),
                  indices.dtype() == DataType::kInt64, output.mutable_raw_data(), output.element_count(), map,
                  stream_of(context));
  }

 private:
  const Node& node_;
  int64_t axis_;
};

class CudaGatherElementsKernel final : public Kernel {
 public:
  explicit CudaGatherElementsKernel(const KernelInfo& info)
      : node_(info.node()), axis_(info.attributes().get_int("axis", 0)) {
    if (!supports(info)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes; int32/int64 indices");
  }
  static bool supports(const KernelInfo& info) {
    return cuda_copyable_type(info, 0) && input_type_in(info, 1, {DataType::kInt32, DataType::kInt64});
  }
  void compute(KernelContext& context) override {
    const Tensor& data = context.input(0);
    const Tensor& indices = context.input(1);
    check_cuda_input_type(node_, 1, indices.dtype(), {DataType::kInt32, DataType::kInt64}, "int32, int64");
    if (indices.rank() != data.rank() || data.rank() > static_cast<size_t>(kMaxIndexDims)) {
      throw_error(ErrorCode::kInvalidArgument, "GatherElements (node '", node_.name, "'): indices ",
                  shape_to_string(indices.shape()), " for data ", shape_to_string(data.shape()));
    }
    int64_t axis = normalize_axis(axis_, static_cast<int64_t>(data.rank()), "GatherElements");
    Tensor& output = context.output(0, data.dtype(), indices.shape());
    GatherElementsMap map;
    map.rank = static_cast<int>(data.rank());
    map.axis = static_cast<int>(axis);
    std::vector<int64_t> strides = dense_strides(data.shape());
    for (size_t d = 0; d < data.rank(); ++d) {
      map.index_dims[d] = indices.dim(d);
      map.data_strides[d] = strides[d];
    }
    launch_gather_elements(cuda_element_width(node_, 0, data.dtype()), data.raw_data(), indices.raw_data(),
                           indices.dtype() == DataType::kInt64, output.mutable_raw_data(), output.element_count(), map,
                           data.dim(static_cast<size_t>(axis)), stream_of(context));
  }

 private:
  const Node& node_;
  int64_t axis_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "GatherElements", 11, kOpsetOpenEnded, CudaGatherElementsKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "Concat", 1, kOpsetOpenEnded, CudaConcatKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "Gather", 1, kOpsetOpenEnded, CudaGatherKernel);

}  // namespace onyx::cuda
