#include "runtime/eager/tensor_factory.h"

#include "providers/cpu/math/elementwise.h"
#include "runtime/eager/op_dispatch.h"
#include "runtime/ir/attribute_builders.h"

namespace onyx {

Tensor full(DataType dtype, Shape shape, double value) {
  Tensor tensor(dtype, std::move(shape));
  int64_t count = tensor.element_count();
  bool done = dispatch_dtype(NumericTypes{}, dtype, [&]<typename T>() {
    T element = convert_to<T>(value);
    T* out = tensor.mutable_data<T>();
    for (int64_t i = 0; i < count; ++i) out[i] = element;
  });
  if (!done && dtype == DataType::kBool) {
    bool* out = tensor.mutable_data<bool>();
    for (int64_t i = 0; i < count; ++i) out[i] = value != 0.0;
    done = true;
  }
  if (!done) {
    // Other types (float8, 4-bit ints): fill as float and let Cast convert, as a graph would.
    static const eager::OpHandle cast("", "Cast");
    Tensor as_float = full(DataType::kFloat, tensor.shape(), value);
    Attribute to = make_attribute("to", static_cast<int64_t>(dtype));
    return eager::call_one(cast, {&as_float}, std::span<const Attribute>(&to, 1));
  }
  return tensor;
}

namespace {
Tensor filled_like(const Tensor& like, double value) {
  ONYX_CHECK(like.dtype() != DataType::kUndefined, ErrorCode::kInvalidArgument,
             "a tensor like one whose element type is unknown: while tracing, an op without a shape "
             "rule (a custom op that registered none) leaves its outputs untyped");
  if (!like.is_symbolic()) return full(like.dtype(), like.shape(), value);
  static const eager::OpHandle shape_op("", "Shape");
  static const eager::OpHandle constant_of_shape("", "ConstantOfShape");
  Tensor shape = eager::call_one(shape_op, {&like});
  Attribute fill = make_attribute("value", full(like.dtype(), {1}, value));
  return eager::call_one(constant_of_shape, {&shape}, std::span<const Attribute>(&fill, 1));
}
}  // namespace

Tensor zeros_like(const Tensor& like) { return filled_like(like, 0.0); }
Tensor ones_like(const Tensor& like) { return filled_like(like, 1.0); }

Tensor scalar_like(double value, const Tensor& like) {
  ONYX_CHECK(like.defined() || like.is_symbolic(), ErrorCode::kInvalidArgument,
             "a number combined with an undefined tensor");
  return full(like.dtype(), {}, value);
}

Tensor from_buffer(DataType dtype, Shape shape, const void* data, size_t bytes) {
  ONYX_CHECK(dtype != DataType::kString, ErrorCode::kInvalidArgument,
             "from_buffer: string tensors hold std::string objects; use Tensor::from_vector");
  Tensor tensor(dtype, std::move(shape));
  ONYX_CHECK(bytes == tensor.byte_size(), ErrorCode::kInvalidArgument, "from_buffer: ", bytes,
             " bytes given for a ", dtype_name(dtype), shape_to_string(tensor.shape()),
             " tensor, which needs ", tensor.byte_size());
  if (bytes > 0) std::memcpy(tensor.mutable_raw_data(), data, bytes);
  return tensor;
}

void copy_to_buffer(const Tensor& tensor, void* data, size_t bytes) {
  ONYX_CHECK(!tensor.is_symbolic(), ErrorCode::kInvalidArgument,
             "copy_to_buffer of a symbolic tensor: its values exist only when the traced graph runs");
  ONYX_CHECK(tensor.device().is_cpu(), ErrorCode::kInvalidArgument,
             "copy_to_buffer: the tensor is on ", tensor.device().to_string(), "; move it to the host first");
  ONYX_CHECK(tensor.dtype() != DataType::kString, ErrorCode::kInvalidArgument,
             "copy_to_buffer: string tensors hold std::string objects; use to_vector<std::string>");
  ONYX_CHECK(bytes == tensor.byte_size(), ErrorCode::kInvalidArgument, "copy_to_buffer: a buffer of ",
             bytes, " bytes for a ", dtype_name(tensor.dtype()), shape_to_string(tensor.shape()),
             " tensor of ", tensor.byte_size(), " bytes");
  if (bytes > 0) std::memcpy(data, tensor.raw_data(), bytes);
}

Tensor to_device(const Tensor& tensor, Device device) {
  if (tensor.device() == device) return tensor;
  // Sessions run on CUDA (SessionOptions::providers); eager calls dispatch to the CPU provider
  // only, so a device tensor here would have no kernels to run its ops.
  throw_error(ErrorCode::kNotImplemented, "to_device(", device.to_string(),
              "): eager mode runs on the CPU only; run models on a device through an InferenceSession "
              "with SessionOptions::providers (make_providers({\"cuda\"}))");
}

}  // namespace onyx
