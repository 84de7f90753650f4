// CUDA ScatterND and ScatterElements without reduction (reduction = "none"): the output is a
// copy of the data with the updates written where their indices say. Indices are int64 on the device. ONNX leaves
// duplicate indices undefined; here the last writer wins in no fixed order.
#include "onnx_ops/axes.h"
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/tensor/copy_ops.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaScatterNdKernel final : public Kernel {
 public:
  explicit CudaScatterNdKernel(const KernelInfo& info) : node_(info.node()) {
    if (!cuda_copyable_type(info, 0)) throw_cuda_unsupported_type(info, 0, "element types of 1, 2, 4 or 8 bytes");
    if (!input_type_in(info, 1, {DataType::kInt64})) throw_cuda_unsupported_type(info, 1, "int64");
    std::string reduction = info.attributes().get_string("reduction", "none");
    if (reduction != "none") {
      throw_error(ErrorCode::kNotImplemented, "CUDA ScatterND (node '", node_.name, "'): reduction '", reduction,
                  "' is not implemented on CUDA (only 'none')");
    }
  }

  static bool supports(const KernelInfo& info) {
    return cuda_copyable_type(info, 0) && input_type_in(info, 1, {DataType::kInt64}) &&
           info.attributes().get_string("reduction", "none") == "none";
  }

  void compute(KernelContext& context) override {
    const Tensor& data = context.input(0);
    const Tensor& indices = context.input(1);
    const Tensor& updates = context.input(2);
    check_cuda_input_type(node_, 1, indices.dtype(), {DataType::kInt64}, "int64");
    if (updates.dtype() != data.dtype()) throw_cuda_unsupported_type(node_, 2, updates.dtype(), std::string(dtype_name(data.dtype())));
    if (indices.rank() < 1 || indices.dim(indices.rank() - 1) > static_cast<int64_t>(data.rank()) ||
        indices.dim(indices.rank() - 1) > kMaxIndexDims) {
      throw_error(ErrorCode::kInvalidArgument, "ScatterND (node '", node_.name, "'): indices ",
                  shape_to_string(indices.shape()), " for data ", shape_to_string(data.shape()));
    }
    Tensor& output = context.output(0, data.dtype(), data.shape());
    CudaRunState& run = run_state_of(context);
    if (data.byte_size() > 0) {
      ONYX_CUDA_CHECK(cudaMemcpyAsync(output.mutable_raw_data(), data.raw_data(), data.byte_size(),
                                      cudaMemcpyDeviceToDevice, run.stream));
    }
    ScatterMap map;
    map.depth = static_cast<int>(indices.dim(indices.rank() - 1));
    std::vector<int64_t> strides = dense_strides(data.shape());
    for (int d = 0; d < map.depth; ++d) {
      map.dims[d] = data.dim(static_cast<size_t>(d));
      map.strides[d] = strides[static_cast<size_t>(d)];
    }
    for (size_t d = static_cast<size_t>(map.depth); d < data.rank(); ++d) map.block *= data.dim(d);
    int64_t update_count = 1;
    for (size_t d = 0; d + 1 < indices.rank(); ++d) update_count *= indices.dim(d);
    if (updates.element_count() != update_count * map.block) {
      throw_error(ErrorCode::kInvalidArgument, "ScatterND (node '", node_.name, "'): updates ",
                  shape_to_string(updates.shape()), " do not match indices ", shape_to_string(indices.shape()),
                  " and data ", shape_to_string(data.shape()));
    }
    launch_scatter_nd(cuda_element_width(node_, 0, data.dtype()), indices.data<int64_t>(), updates.raw_data(),
                      output.mutable_raw_data(), update_count, map, run.stream);
  }

 private:
  const Node& node_;
};

class CudaScatterElementsKernel final : public Kernel {
 public:
  explicit CudaScatterElementsKernel(const KernelInfo& info)
      : node_(info.node()), axis_(info.attributes().get_int("axis", 0)) {
    if (!supports(info)) {
      throw_error(ErrorCode::kNotImplemented, "CUDA ScatterElements (node '", node_.name,
                  "'): only reduction 'none' over 1/2/4/8-byte types with int32/int64 indices runs on CUDA");
    }
  }
  static bool supports(const KernelInfo& info) {
    return cuda_copyable_type(info, 0) && input_type_in(info, 1, {DataType::kInt32, DataType::kInt64}) &&
           info.attributes().get_string("reduction", "none") == "none";
  }

  void compute(KernelContext& context) override {
    const Tensor& data = context.input(0);
    const Tensor& indices = context.input(1);
    const Tensor& updates = context.input(2);
    check_cuda_input_type(node_, 1, indices.dtype(), {DataType::kInt32, DataType::kInt64}, "int32, int64");
    if (updates.dtype() != data.dtype()) throw_cuda_unsupported_type(node_, 2, updates.dtype(), std::string(dtype_name(data.dtype())));
    if (indices.rank() != data.rank() || indices.shape() != updates.shape() ||
        data.rank() > static_cast<size_t>(kMaxIndexDims)) {
      throw_error(ErrorCode::kInvalidArgument, "ScatterElements (node '", node_.name, "'): indices ",
                  shape_to_string(indices.shape()), " and updates ", shape_to_string(updates.shape()), " for data ",
                  shape_to_string(data.shape()));
    }
    int64_t axis = normalize_axis(axis_, static_cast<int64_t>(data.rank()), "ScatterElements");
    Tensor& output = context.output(0, data.dtype(), data.shape());
    CudaRunState& run = run_state_of(context);
    if (data.byte_size() > 0) {
      ONYX_CUDA_CHECK(cudaMemcpyAsync(output.mutable_raw_data(), data.raw_data(), data.byte_size(),
                                      cudaMemcpyDeviceToDevice, run.stream));
    }
    GatherElementsMap map;
    map.rank = static_cast<int>(data.rank());
    map.axis = static_cast<int>(axis);
    std::vector<int64_t> strides = dense_strides(data.shape());
    for (size_t d = 0; d < data.rank(); ++d) {
      map.index_dims[d] = indices.dim(d);
      map.data_strides[d] = strides[d];
    }
    launch_scatter_elements(cuda_element_width(node_, 0, data.dtype()), updates.raw_data(), indices.raw_data(),
                            indices.dtype() == DataType::kInt64, output.mutable_raw_data(), updates.element_count(), map,
                            data.dim(static_cast<size_t>(axis)), run.stream);
  }

 private:
  const Node& node_;
  int64_t axis_;
};

}  // namespace

ONYX_REGISTER_KERNEL(kCudaProvider, "", "ScatterElements", 11, kOpsetOpenEnded, CudaScatterElementsKernel);
ONYX_REGISTER_KERNEL(kCudaProvider, "", "ScatterND", 11, kOpsetOpenEnded, CudaScatterNdKernel);

}  // namespace onyx::cuda
