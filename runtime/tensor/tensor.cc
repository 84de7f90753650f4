#include "runtime/tensor/tensor.h"

#include <cstring>
#include <limits>

namespace onyx {

namespace {
std::shared_ptr<void> allocate_storage(DataType dtype, int64_t count, Allocator& allocator,
                                       void** data) {
  if (dtype == DataType::kString) {
    auto strings = std::shared_ptr<std::string[]>(new std::string[count > 0 ? count : 1]);
    *data = strings.get();
    return strings;
  }
  std::shared_ptr<void> memory = allocator.allocate_shared(dtype_storage_bytes(dtype, count));
  *data = memory.get();
  return memory;
}
}  // namespace

Tensor::Tensor(DataType dtype, Shape shape, Allocator& allocator)
    : dtype_(dtype), shape_(std::move(shape)), device_(allocator.device()) {
  element_count_ = shape_element_count(shape_);
  storage_ = allocate_storage(dtype_, element_count_, allocator, &data_);
}

Tensor Tensor::view(DataType dtype, Shape shape, void* data, std::shared_ptr<void> owner,
                    Device device) {
  Tensor tensor;
  tensor.dtype_ = dtype;
  tensor.shape_ = std::move(shape);
  tensor.element_count_ = shape_element_count(tensor.shape_);
  tensor.device_ = device;
  tensor.data_ = data;
  tensor.storage_ = std::move(owner);
  return tensor;
}

Tensor Tensor::symbolic(DataType dtype, Shape shape, std::shared_ptr<void> handle) {
  Tensor tensor;
  tensor.dtype_ = dtype;
  tensor.symbolic_ = true;
  bool known = true;
  for (int64_t dim : shape) known = known && dim >= 0;
  tensor.element_count_ = known ? shape_element_count(shape) : -1;
  tensor.shape_ = std::move(shape);
  tensor.storage_ = std::move(handle);
  return tensor;
}

const std::shared_ptr<void>& Tensor::symbolic_handle() const {
  static const std::shared_ptr<void> none;
  return symbolic_ ? storage_ : none;
}

void Tensor::check_has_data(const char* what) const {
  if (symbolic_) {
    throw_error(ErrorCode::kInvalidArgument, what, " of a symbolic ", dtype_name(dtype_),
                shape_to_string(shape_),
                " tensor: inside a traced onyx::function values exist only when the graph runs "
                "(return the tensor, or use onyx::cond / while_loop for decisions on it)");
  }
}

Tensor Tensor::reshaped(Shape shape) const {
  check_has_data("reshaped()");
  Tensor result = *this;
  result.shape_ = std::move(shape);
  result.element_count_ = shape_element_count(result.shape_);
  if (result.element_count_ != element_count_) {
    throw_error(ErrorCode::kInvalidArgument, "cannot reshape ", shape_to_string(shape_), " to ",
                shape_to_string(result.shape_));
  }
  return result;
}

Tensor Tensor::clone() const {
  check_has_data("clone()");
  if (!device_.is_host_memory()) {
    throw_error(ErrorCode::kRuntimeFailure, "clone() of a tensor on ", device_.to_string(),
                ": copy it to the host first");
  }
  Tensor copy(dtype_, shape_);
  if (dtype_ == DataType::kString) {
    const auto* from = static_cast<const std::string*>(data_);
    auto* to = static_cast<std::string*>(copy.data_);
    for (int64_t i = 0; i < element_count_; ++i) to[i] = from[i];
  } else if (byte_size() > 0) {
    std::memcpy(copy.data_, data_, byte_size());
  }
  return copy;
}

template <typename Source>
static void widen(const void* data, int64_t count, std::vector<int64_t>& out) {
  const auto* values = static_cast<const Source*>(data);
  for (int64_t i = 0; i < count; ++i) out.push_back(static_cast<int64_t>(values[i]));
}

std::vector<int64_t> Tensor::to_int64_vector() const {
  check_has_data("reading the elements");
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(element_count_));
  switch (dtype_) {
    case DataType::kInt64: widen<int64_t>(data_, element_count_, out); break;
    case DataType::kInt32: widen<int32_t>(data_, element_count_, out); break;
    case DataType::kInt16: widen<int16_t>(data_, element_count_, out); break;
    case DataType::kInt8: widen<int8_t>(data_, element_count_, out); break;
    case DataType::kUInt8: widen<uint8_t>(data_, element_count_, out); break;
    case DataType::kUInt16: widen<uint16_t>(data_, element_count_, out); break;
    case DataType::kUInt32: widen<uint32_t>(data_, element_count_, out); break;
    case DataType::kUInt64: widen<uint64_t>(data_, element_count_, out); break;
    case DataType::kBool: widen<bool>(data_, element_count_, out); break;
    default:
      throw_error(ErrorCode::kInvalidArgument, "expected an integer tensor, got ",
                  dtype_name(dtype_));
  }
  return out;
}

double Tensor::element_as_double(int64_t index) const {
  switch (dtype_) {
    case DataType::kFloat: return data<float>()[index];
    case DataType::kDouble: return data<double>()[index];
    case DataType::kFloat16: return static_cast<float>(data<Float16>()[index]);
    case DataType::kBFloat16: return static_cast<float>(data<BFloat16>()[index]);
    case DataType::kInt64: return static_cast<double>(data<int64_t>()[index]);
    case DataType::kInt32: return data<int32_t>()[index];
    case DataType::kInt16: return data<int16_t>()[index];
    case DataType::kInt8: return data<int8_t>()[index];
    case DataType::kUInt8: return data<uint8_t>()[index];
    case DataType::kUInt16: return data<uint16_t>()[index];
    case DataType::kUInt32: return data<uint32_t>()[index];
    case DataType::kUInt64: return static_cast<double>(data<uint64_t>()[index]);
    case DataType::kBool: return data<bool>()[index] ? 1.0 : 0.0;
    default:
      throw_error(ErrorCode::kInvalidArgument, "cannot read a ", dtype_name(dtype_),
                  " element as a number");
  }
}

void Tensor::check_type(DataType requested) const {
  if (requested == dtype_ && !symbolic_) [[likely]] return;  // every typed access passes here
  check_has_data("reading the elements");
  if (requested != dtype_) {
    throw_error(ErrorCode::kRuntimeFailure, "tensor holds ", dtype_name(dtype_), ", accessed as ",
                dtype_name(requested));
  }
}

}  // namespace onyx
