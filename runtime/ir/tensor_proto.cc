#include "runtime/ir/tensor_proto.h"

#include <cstring>
#include <fstream>

#include "onnx/onnx-ml.pb.h"
#include "runtime/tensor/memory_limit.h"

namespace onyx {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void bad_tensor(const onnx::TensorProto& proto, const std::string& why) {
  throw_error(ErrorCode::kInvalidModel, "tensor '", proto.name(), "': ", why);
}

Shape dims_of(const onnx::TensorProto& proto) {
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape) {
    if (d < 0) bad_tensor(proto, "negative dimension " + std::to_string(d));
  }
  return shape;
}

std::string read_external_bytes(const onnx::TensorProto& proto, const fs::path& model_dir,
                                size_t expected_bytes) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") location = entry.value();
    else if (entry.key() == "offset") offset = std::stoll(entry.value());
    else if (entry.key() == "length") length = std::stoll(entry.value());
  }
  if (location.empty()) bad_tensor(proto, "external data without a location");
  if (model_dir.empty()) bad_tensor(proto, "external data is only allowed in a model file");
  fs::path path = resolve_external_data_path(model_dir, location);
  std::ifstream file(path, std::ios::binary);
  if (!file) bad_tensor(proto, "cannot open external data file '" + path.string() + "'");
  file.seekg(0, std::ios::end);
  auto file_size = static_cast<int64_t>(file.tellg());
  if (length < 0) length = static_cast<int64_t>(expected_bytes);
  if (offset < 0 || offset + length > file_size) {
    bad_tensor(proto, "external data range [" + std::to_string(offset) + ", " +
                          std::to_string(offset + length) + ") is outside '" + path.string() +
                          "' (" + std::to_string(file_size) + " bytes)");
  }
  std::string bytes(static_cast<size_t>(length), '\0');
  file.seekg(offset);
  file.read(bytes.data(), length);
  if (!file) bad_tensor(proto, "cannot read external data from '" + path.string() + "'");
  return bytes;
}

// Copies a typed repeated field into the tensor, narrowing each element to Target.
template <typename Target, typename Field>
void copy_field(const Field& field, Tensor& tensor, const onnx::TensorProto& proto) {
  if (static_cast<int64_t>(field.size()) != tensor.element_count()) {
    bad_tensor(proto, "holds " + std::to_string(field.size()) + " values for shape " +
                          shape_to_string(tensor.shape()));
  }
  auto* out = static_cast<Target*>(tensor.mutable_raw_data());
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<Target>(field[i]);
}

// 16-bit floats and 8-bit floats are stored as their bit patterns in int32_data.
template <typename Bits, typename Field>
void copy_bits(const Field& field, Tensor& tensor, const onnx::TensorProto& proto) {
  copy_field<Bits>(field, tensor, proto);
}

// Packed 4-bit (and 2-bit) types: int32_data holds already packed bytes.
void copy_packed(const onnx::TensorProto& proto, Tensor& tensor) {
  size_t bytes = tensor.byte_size();
  if (static_cast<size_t>(proto.int32_data_size()) != bytes) {
    bad_tensor(proto, "packed data holds " + std::to_string(proto.int32_data_size()) +
                          " bytes, expected " + std::to_string(bytes));
  }
  auto* out = static_cast<uint8_t*>(tensor.mutable_raw_data());
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(proto.int32_data(static_cast<int>(i)));
}

void fill_from_typed_fields(const onnx::TensorProto& proto, Tensor& tensor) {
  switch (tensor.dtype()) {
    case DataType::kFloat: copy_field<float>(proto.float_data(), tensor, proto); break;
    case DataType::kComplex64: {
      if (proto.float_data_size() != 2 * tensor.element_count()) bad_tensor(proto, "complex64 data size mismatch");
      std::memcpy(tensor.mutable_raw_data(), proto.float_data().data(), tensor.byte_size());
      break;
    }
    case DataType::kDouble: copy_field<double>(proto.double_data(), tensor, proto); break;
    case DataType::kComplex128: {
      if (proto.double_data_size() != 2 * tensor.element_count()) bad_tensor(proto, "complex128 data size mismatch");
      std::memcpy(tensor.mutable_raw_data(), proto.double_data().data(), tensor.byte_size());
      break;
    }
    case DataType::kInt64: copy_field<int64_t>(proto.int64_data(), tensor, proto); break;
    case DataType::kUInt32: copy_field<uint32_t>(proto.uint64_data(), tensor, proto); break;
    case DataType::kUInt64: copy_field<uint64_t>(proto.uint64_data(), tensor, proto); break;
    case DataType::kInt32: copy_field<int32_t>(proto.int32_data(), tensor, proto); break;
    case DataType::kInt16: copy_field<int16_t>(proto.int32_data(), tensor, proto); break;
    case DataType::kInt8: copy_field<int8_t>(proto.int32_data(), tensor, proto); break;
    case DataType::kUInt16: copy_field<uint16_t>(proto.int32_data(), tensor, proto); break;
    case DataType::kUInt8: copy_field<uint8_t>(proto.int32_data(), tensor, proto); break;
    case DataType::kBool: copy_field<bool>(proto.int32_data(), tensor, proto); break;
    case DataType::kFloat16:
    case DataType::kBFloat16: copy_bits<uint16_t>(proto.int32_data(), tensor, proto); break;
    case DataType::kFloat8E4M3FN:
    case DataType::kFloat8E4M3FNUZ:
    case DataType::kFloat8E5M2:
    case DataType::kFloat8E5M2FNUZ:
    case DataType::kFloat8E8M0: copy_bits<uint8_t>(proto.int32_data(), tensor, proto); break;
    case DataType::kString: {
      if (proto.string_data_size() != tensor.element_count()) {
        bad_tensor(proto, "holds " + std::to_string(proto.string_data_size()) +
                              " strings for shape " + shape_to_string(tensor.shape()));
      }
      auto* out = tensor.mutable_data<std::string>();
      for (int i = 0; i < proto.string_data_size(); ++i) out[i] = proto.string_data(i);
      break;
    }
    default: copy_packed(proto, tensor); break;
  }
}

}  // namespace

fs::path resolve_external_data_path(const fs::path& model_dir, const std::string& location) {
  fs::path relative(location);
  if (relative.is_absolute() || location.empty()) {
    throw_error(ErrorCode::kInvalidModel, "external data location '", location,
                "' must be a path relative to the model's folder");
  }
  std::error_code ignored;
  fs::path base = fs::weakly_canonical(fs::absolute(model_dir), ignored);
  fs::path target = fs::weakly_canonical(base / relative, ignored);
  auto [base_end, target_it] = std::mismatch(base.begin(), base.end(), target.begin(), target.end());
  if (base_end != base.end()) {
    throw_error(ErrorCode::kInvalidModel, "external data location '", location,
                "' leaves the model's folder ", base.string());
  }
  return target;
}

namespace {
// A TensorProto's element type, shape and the bytes its data must take, checked before anything
// is allocated, so a tensor claiming a shape of 2^40 x 2^40 fails here instead of in the
// allocator.
struct ProtoTensorLayout {
  DataType dtype;
  Shape shape;
  int64_t count;
  size_t bytes;
};

ProtoTensorLayout proto_tensor_layout(const onnx::TensorProto& proto) {
  if (proto.data_type() == onnx::TensorProto::UNDEFINED) bad_tensor(proto, "element type is undefined");
  DataType dtype = dtype_from_code(proto.data_type());
  Shape shape = dims_of(proto);
  std::optional<int64_t> count = 1;
  for (int64_t d : shape) count = count ? multiply_dims(*count, d) : std::nullopt;
  std::optional<size_t> needed = count ? storage_bytes(dtype, *count) : std::nullopt;
  if (!needed) {
    bad_tensor(proto, "shape " + shape_to_string(shape) + " of " + std::string(dtype_name(dtype)) + " needs " +
                          exact_storage_bytes(dtype, shape) + " bytes, more than any tensor can hold");
  }
  return {dtype, std::move(shape), *count, *needed};
}
}  // namespace

Tensor tensor_taking_proto_bytes(onnx::TensorProto& proto, const fs::path& model_dir) {
  // Small tensors are copied: a short string's bytes live inside the string object (its
  // small-string buffer), too small to be worth the bookkeeping.
  constexpr size_t kSmallestTaken = 64;
  if (proto.data_location() == onnx::TensorProto::EXTERNAL || !proto.has_raw_data() ||
      proto.raw_data().size() < kSmallestTaken || proto.data_type() == onnx::TensorProto::STRING) {
    return tensor_from_proto(proto, model_dir);
  }
  ProtoTensorLayout layout = proto_tensor_layout(proto);
  if (proto.raw_data().size() != layout.bytes) return tensor_from_proto(proto, model_dir);  // which names the mismatch
  // The string's heap buffer comes from operator new: aligned for every element type (kernels
  // read tensors at any alignment: views of NumPy arrays are not 64-byte aligned either).
  std::shared_ptr<std::string> bytes(proto.release_raw_data());
  void* data = bytes->data();
  return Tensor::view(layout.dtype, std::move(layout.shape), data, std::move(bytes));
}

Tensor tensor_from_proto(const onnx::TensorProto& proto, const fs::path& model_dir) {
  ProtoTensorLayout layout = proto_tensor_layout(proto);
  const DataType dtype = layout.dtype;
  const Shape& shape = layout.shape;
  const int64_t count = layout.count;
  const size_t bytes = layout.bytes;

  bool external = proto.data_location() == onnx::TensorProto::EXTERNAL;
  if (external || proto.has_raw_data()) {
    if (dtype == DataType::kString) bad_tensor(proto, "string tensors cannot use raw or external data");
    std::string external_bytes;
    const std::string* raw = &proto.raw_data();
    if (external) {
      external_bytes = read_external_bytes(proto, model_dir, bytes);
      raw = &external_bytes;
    }
    if (raw->size() != bytes) {
      bad_tensor(proto, "raw data has " + std::to_string(raw->size()) + " bytes, shape " +
                            shape_to_string(shape) + " of " +
                            std::string(dtype_name(dtype)) + " needs " + std::to_string(bytes));
    }
    Tensor tensor(dtype, shape);
    if (bytes > 0) std::memcpy(tensor.mutable_raw_data(), raw->data(), bytes);  // little-endian host
    return tensor;
  }
  // Every value in a typed field takes at least one byte of the message, and one value packs at
  // most four elements (2-bit types): a count above that cannot be what the field holds
  // (fill_from_typed_fields then names the exact mismatch).
  if (static_cast<uint64_t>(count) / 4 > proto.ByteSizeLong()) {
    bad_tensor(proto, "shape " + shape_to_string(shape) + " has " + std::to_string(count) +
                          " elements, more than the tensor's " + std::to_string(proto.ByteSizeLong()) + " bytes can hold");
  }
  Tensor tensor(dtype, shape);
  if (tensor.element_count() == 0) return tensor;
  fill_from_typed_fields(proto, tensor);
  return tensor;
}

Tensor tensor_from_sparse_proto(const onnx::SparseTensorProto& proto, const fs::path& model_dir) {
  Tensor values = tensor_from_proto(proto.values(), model_dir);
  Shape dense_shape(proto.dims().begin(), proto.dims().end());
  // The dense form is allocated from dims the file merely claims; it must fit this machine.
  check_tensor_within_limit("sparse tensor '" + proto.values().name() + "' of dense shape " + shape_to_string(dense_shape),
                            values.dtype(), dense_shape, default_memory_limit());
  Tensor dense(values.dtype(), dense_shape);
  if (values.dtype() == DataType::kString) {
    throw_error(ErrorCode::kNotImplemented, "sparse string tensors are not supported");
  }
  std::memset(dense.mutable_raw_data(), 0, dense.byte_size());
  Tensor indices = tensor_from_proto(proto.indices(), model_dir);
  std::vector<int64_t> index_values = indices.to_int64_vector();
  int64_t nnz = values.element_count();
  size_t element_bytes = static_cast<size_t>(dtype_bits(values.dtype()) / 8);
  if (element_bytes == 0) throw_error(ErrorCode::kNotImplemented, "sparse tensors of packed types");
  bool coordinates = indices.rank() == 2;  // [nnz, rank] coordinates, else [nnz] linear indices
  if ((coordinates ? indices.dim(0) : indices.element_count()) != nnz ||
      (coordinates && indices.dim(1) != static_cast<int64_t>(dense_shape.size()))) {
    throw_error(ErrorCode::kInvalidModel, "sparse tensor '", proto.values().name(), "': indices shape ",
                shape_to_string(indices.shape()), " does not match ", nnz, " values of rank ",
                dense_shape.size());
  }
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t linear = 0;
    if (coordinates) {
      for (size_t d = 0; d < dense_shape.size(); ++d) {
        int64_t coordinate = index_values[static_cast<size_t>(k) * dense_shape.size() + d];
        if (coordinate < 0 || coordinate >= dense_shape[d]) linear = -1;
        if (linear < 0) break;
        linear = linear * dense_shape[d] + coordinate;
      }
    } else {
      linear = index_values[static_cast<size_t>(k)];
    }
    if (linear < 0 || linear >= dense.element_count()) {
      throw_error(ErrorCode::kInvalidModel, "sparse tensor '", proto.values().name(),
                  "': index out of range for shape ", shape_to_string(dense_shape));
    }
    std::memcpy(static_cast<char*>(dense.mutable_raw_data()) + linear * element_bytes,
                static_cast<const char*>(values.raw_data()) + k * element_bytes, element_bytes);
  }
  return dense;
}

void tensor_to_proto(const Tensor& tensor, const std::string& name, onnx::TensorProto* proto) {
  proto->Clear();
  proto->set_name(name);
  proto->set_data_type(static_cast<int32_t>(tensor.dtype()));
  for (int64_t d : tensor.shape()) proto->add_dims(d);
  if (tensor.dtype() == DataType::kString) {
    for (const std::string& s : tensor.values<std::string>()) proto->add_string_data(s);
    return;
  }
  proto->set_raw_data(static_cast<const char*>(tensor.raw_data()), tensor.byte_size());
}

}  // namespace onyx
