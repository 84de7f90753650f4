#include "providers/cuda/cudnn_util.h"

namespace onyx::cuda {

namespace {

std::vector<int> cudnn_int_dims(std::vector<int64_t> dims) {
  while (dims.size() < 4) dims.push_back(1);
  std::vector<int> narrow;
  for (int64_t d : dims) {
    if (d > INT32_MAX) throw_error(ErrorCode::kNotImplemented, "cuDNN: a dim of ", d, " exceeds its int range");
    narrow.push_back(static_cast<int>(d));
  }
  return narrow;
}

}  // namespace

cudnnDataType_t cudnn_data_type(DataType type) {
  switch (type) {
    case DataType::kFloat: return CUDNN_DATA_FLOAT;
    case DataType::kFloat16: return CUDNN_DATA_HALF;
    case DataType::kBFloat16: return CUDNN_DATA_BFLOAT16;
    case DataType::kDouble: return CUDNN_DATA_DOUBLE;
    default: throw_error(ErrorCode::kNotImplemented, "cuDNN: element type ", dtype_name(type));
  }
}

void set_cudnn_tensor(const CudnnTensorDescriptor& descriptor, DataType type, std::vector<int64_t> dims) {
  std::vector<int> shape = cudnn_int_dims(std::move(dims));
  std::vector<int> strides(shape.size(), 1);
  for (size_t d = shape.size() - 1; d-- > 0;) strides[d] = strides[d + 1] * shape[d + 1];
  ONYX_CUDNN_CHECK(cudnnSetTensorNdDescriptor(descriptor.get(), cudnn_data_type(type), static_cast<int>(shape.size()),
                                              shape.data(), strides.data()));
}

void set_cudnn_filter(const CudnnFilterDescriptor& descriptor, DataType type, std::vector<int64_t> dims) {
  std::vector<int> shape = cudnn_int_dims(std::move(dims));
  ONYX_CUDNN_CHECK(cudnnSetFilterNdDescriptor(descriptor.get(), cudnn_data_type(type), CUDNN_TENSOR_NCHW,
                                              static_cast<int>(shape.size()), shape.data()));
}

cudnnMathType_t cudnn_math_type(DataType type, bool tf32) {
  if (type == DataType::kFloat) return tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  return CUDNN_TENSOR_OP_MATH;
}

std::vector<int64_t> CudnnConvGeometry::dims(std::vector<int64_t> shape) const {
  if (one_dimensional) shape.insert(shape.begin() + 2, 1);
  return shape;
}

CudnnConvGeometry cudnn_conv_geometry(const std::vector<int64_t>& pads, const std::vector<int64_t>& strides,
                                      const std::vector<int64_t>& dilations) {
  CudnnConvGeometry geometry;
  geometry.one_dimensional = pads.size() == 1;
  if (geometry.one_dimensional) {
    geometry.pads.push_back(0);
    geometry.strides.push_back(1);
    geometry.dilations.push_back(1);
  }
  geometry.pads.insert(geometry.pads.end(), pads.begin(), pads.end());
  geometry.strides.insert(geometry.strides.end(), strides.begin(), strides.end());
  geometry.dilations.insert(geometry.dilations.end(), dilations.begin(), dilations.end());
  return geometry;
}

}  // namespace onyx::cuda
