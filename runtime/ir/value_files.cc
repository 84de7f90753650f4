#include "runtime/ir/value_files.h"

#include <cstring>

#include <re2/re2.h>

#include "onnx/onnx-data.pb.h"
#include "runtime/common/atomic_file.h"
#include "runtime/ir/model_loader.h"
#include "runtime/ir/tensor_proto.h"

namespace onyx {

namespace fs = std::filesystem;

namespace {

struct NpyType {
  const char* code;
  DataType dtype;
};
constexpr NpyType kNpyTypes[] = {
    {"f4", DataType::kFloat},  {"f8", DataType::kDouble}, {"f2", DataType::kFloat16},
    {"i1", DataType::kInt8},   {"i2", DataType::kInt16},  {"i4", DataType::kInt32},
    {"i8", DataType::kInt64},  {"u1", DataType::kUInt8},  {"u2", DataType::kUInt16},
    {"u4", DataType::kUInt32}, {"u8", DataType::kUInt64}, {"b1", DataType::kBool},
};

Value value_from_sequence(const onnx::SequenceProto& proto);

// A MapProto: keys (int64 or string) with their values, one scalar tensor each.
Value value_from_map(const onnx::MapProto& proto) {
  const std::string what = "map '" + proto.name() + "'";
  Tensor keys;
  if (proto.key_type() == static_cast<int32_t>(DataType::kString)) {
    keys = Tensor(DataType::kString, {proto.string_keys_size()});
    for (int i = 0; i < proto.string_keys_size(); ++i) keys.mutable_data<std::string>()[i] = proto.string_keys(i);
  } else if (proto.key_type() == static_cast<int32_t>(DataType::kInt64)) {
    keys = Tensor::from_vector<int64_t>({proto.keys_size()}, {proto.keys().begin(), proto.keys().end()});
  } else {
    throw_error(ErrorCode::kNotImplemented, what, ": key type ", proto.key_type(), " (onyx maps have int64 or string keys)");
  }
  const onnx::SequenceProto& values = proto.values();
  ONYX_CHECK(values.elem_type() == onnx::SequenceProto::TENSOR && values.tensor_values_size() == keys.element_count(),
             ErrorCode::kInvalidArgument, what, ": needs one tensor value per key (", keys.element_count(),
             " keys, ", values.tensor_values_size(), " tensor values)");
  DataType value_type = DataType::kFloat;
  Tensor entries;
  for (int i = 0; i < values.tensor_values_size(); ++i) {
    Tensor value = tensor_from_proto(values.tensor_values(i), {});
    ONYX_CHECK(value.element_count() == 1, ErrorCode::kNotImplemented, what, ": value ", i, " has shape ",
               shape_to_string(value.shape()), "; onyx map values are scalars");
    if (i == 0) {
      value_type = value.dtype();
      entries = Tensor(value_type, {keys.element_count()});
    }
    ONYX_CHECK(value.dtype() == value_type, ErrorCode::kInvalidArgument, what, ": value ", i, " is ",
               dtype_name(value.dtype()), " but value 0 is ", dtype_name(value_type));
    copy_element(value, 0, entries, i);
  }
  if (!entries.defined()) entries = Tensor(value_type, {0});
  return Value::map(std::move(keys), std::move(entries), what);
}

Value value_from_optional(const onnx::OptionalProto& proto) {
  switch (proto.elem_type()) {
    case onnx::OptionalProto::TENSOR: return proto.has_tensor_value() ? Value(tensor_from_proto(proto.tensor_value(), {})) : Value();
    case onnx::OptionalProto::SEQUENCE: return proto.has_sequence_value() ? value_from_sequence(proto.sequence_value()) : Value();
    case onnx::OptionalProto::MAP: return proto.has_map_value() ? value_from_map(proto.map_value()) : Value();
    default: return Value();
  }
}

Value value_from_sequence(const onnx::SequenceProto& proto) {
  Sequence items;
  DataType element_type = DataType::kUndefined;
  switch (proto.elem_type()) {
    case onnx::SequenceProto::TENSOR:
      for (const auto& t : proto.tensor_values()) {
        items.emplace_back(tensor_from_proto(t, {}));
        element_type = items.back().tensor().dtype();
      }
      break;
    case onnx::SequenceProto::SEQUENCE:
      for (const auto& s : proto.sequence_values()) items.push_back(value_from_sequence(s));
      break;
    case onnx::SequenceProto::MAP:
      for (const auto& m : proto.map_values()) items.push_back(value_from_map(m));
      break;
    case onnx::SequenceProto::OPTIONAL:
      for (const auto& o : proto.optional_values()) items.push_back(value_from_optional(o));
      break;
    default:
      throw_error(ErrorCode::kNotImplemented, "sequence '", proto.name(), "' of element kind ",
                  proto.elem_type(), " is not supported");
  }
  return Value::sequence(std::move(items), element_type);
}

void sequence_to_proto(const Value& value, const std::string& name, onnx::SequenceProto* proto);

void map_to_proto(const Value& value, const std::string& name, onnx::MapProto* proto) {
  const Map& map = value.map_entries();
  proto->set_name(name);
  proto->set_key_type(static_cast<int32_t>(map.keys.dtype()));
  for (int64_t i = 0; i < map.keys.element_count(); ++i) {
    if (map.keys.dtype() == DataType::kString) proto->add_string_keys(map.keys.data<std::string>()[i]);
    else proto->add_keys(map.keys.data<int64_t>()[i]);
  }
  onnx::SequenceProto* values = proto->mutable_values();
  values->set_elem_type(onnx::SequenceProto::TENSOR);
  for (int64_t i = 0; i < map.values.element_count(); ++i) {
    Tensor scalar(map.values.dtype(), {});
    copy_element(map.values, i, scalar, 0);
    tensor_to_proto(scalar, "", values->add_tensor_values());
  }
}

void optional_to_proto(const Value& value, const std::string& name, onnx::OptionalProto* proto) {
  proto->set_name(name);
  if (value.is_tensor()) {
    proto->set_elem_type(onnx::OptionalProto::TENSOR);
    tensor_to_proto(value.tensor(), "", proto->mutable_tensor_value());
  } else if (value.is_sequence()) {
    proto->set_elem_type(onnx::OptionalProto::SEQUENCE);
    sequence_to_proto(value, "", proto->mutable_sequence_value());
  } else if (value.is_map()) {
    proto->set_elem_type(onnx::OptionalProto::MAP);
    map_to_proto(value, "", proto->mutable_map_value());
  } else {
    proto->set_elem_type(onnx::OptionalProto::UNDEFINED);
  }
}

void sequence_to_proto(const Value& value, const std::string& name, onnx::SequenceProto* proto) {
  proto->set_name(name);
  proto->set_elem_type(onnx::SequenceProto::TENSOR);
  for (const Value& item : value.sequence_items()) {
    if (item.is_tensor()) {
      tensor_to_proto(item.tensor(), "", proto->add_tensor_values());
    } else if (item.is_map()) {
      proto->set_elem_type(onnx::SequenceProto::MAP);
      map_to_proto(item, "", proto->add_map_values());
    } else {
      proto->set_elem_type(onnx::SequenceProto::SEQUENCE);
      sequence_to_proto(item, "", proto->add_sequence_values());
    }
  }
}

template <typename Proto>
Proto parse_proto(const std::string& bytes, const fs::path& path, const char* what) {
  Proto proto;
  if (!proto.ParseFromString(bytes)) {
    throw_error(ErrorCode::kInvalidArgument, path.string(), " is not a valid serialized ", what);
  }
  return proto;
}

}  // namespace

Tensor parse_npy(const std::string& bytes, const std::string& source) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    throw_error(ErrorCode::kInvalidArgument, source, " is not a .npy file");
  }
  int major = static_cast<unsigned char>(bytes[6]);
  size_t header_length = 0;
  size_t header_start = 0;
  if (major == 1) {
    header_length = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    header_start = 10;
  } else {
    if (bytes.size() < 12) throw_error(ErrorCode::kInvalidArgument, source, ": truncated .npy header");
    uint32_t length = 0;
    std::memcpy(&length, bytes.data() + 8, 4);
    header_length = length;
    header_start = 12;
  }
  if (header_start + header_length > bytes.size()) {
    throw_error(ErrorCode::kInvalidArgument, source, ": truncated .npy header");
  }
  std::string header = bytes.substr(header_start, header_length);
  // The header is a Python dict literal; RE2 (linear time, no recursion) picks out its three keys.
  static const RE2 descr_key(R"('descr':\s*'([<>|=])([a-z][0-9]+)')");
  static const RE2 fortran_key(R"('fortran_order':\s*True)");
  static const RE2 shape_key(R"('shape':\s*\(([^)]*)\))");
  static const RE2 dimension(R"(([0-9]+))");
  std::string byte_order, code;
  if (!RE2::PartialMatch(header, descr_key, &byte_order, &code)) {
    throw_error(ErrorCode::kInvalidArgument, source, ": .npy header has no dtype");
  }
  if (byte_order == ">") throw_error(ErrorCode::kNotImplemented, source, ": big-endian .npy arrays");
  DataType dtype = DataType::kUndefined;
  for (const NpyType& type : kNpyTypes) {
    if (code == type.code) dtype = type.dtype;
  }
  if (dtype == DataType::kUndefined) {
    throw_error(ErrorCode::kNotImplemented, source, ": .npy dtype '", code, "' is not supported");
  }
  if (RE2::PartialMatch(header, fortran_key)) {
    throw_error(ErrorCode::kNotImplemented, source, ": Fortran-ordered .npy arrays");
  }
  std::string dims;
  if (!RE2::PartialMatch(header, shape_key, &dims)) {
    throw_error(ErrorCode::kInvalidArgument, source, ": .npy header has no shape");
  }
  // A tuple of non-negative integers: "", "3,", "2, 3"; anything else (a sign, an expression) is not a shape.
  static const RE2 dims_tuple(R"(\s*(?:[0-9]+\s*,\s*)*(?:[0-9]+\s*,?\s*)?)");
  if (!RE2::FullMatch(dims, dims_tuple)) {
    throw_error(ErrorCode::kInvalidArgument, source, ": .npy shape (", dims, ") is not a tuple of non-negative integers");
  }
  Shape shape;
  re2::StringPiece rest(dims);
  int64_t dim = 0;
  while (RE2::FindAndConsume(&rest, dimension, &dim)) shape.push_back(dim);
  if (!rest.empty() && RE2::PartialMatch(rest, dimension)) {
    throw_error(ErrorCode::kInvalidArgument, source, ": .npy shape (", dims, ") has a dimension beyond int64");
  }
  // The data must be in the file: compare sizes before allocating, so a header claiming
  // terabytes is refused without trying to allocate them.
  const size_t data_start = header_start + header_length;
  const size_t data_bytes = bytes.size() - data_start;
  std::optional<int64_t> count = 1;
  for (int64_t d : shape) count = count ? multiply_dims(*count, d) : std::nullopt;
  std::optional<size_t> needed = count ? storage_bytes(dtype, *count) : std::nullopt;
  if (!needed || *needed != data_bytes) {
    throw_error(ErrorCode::kInvalidArgument, source, ": .npy data has ", data_bytes, " bytes, shape ",
                shape_to_string(shape), " needs ", exact_storage_bytes(dtype, shape));
  }
  Tensor tensor(dtype, shape);
  if (tensor.byte_size()) std::memcpy(tensor.mutable_raw_data(), bytes.data() + data_start, tensor.byte_size());
  return tensor;
}

Tensor read_npy(const fs::path& path) { return parse_npy(read_file_bytes(path), path.string()); }

void write_npy(const fs::path& path, const Tensor& tensor) {
  const char* code = nullptr;
  for (const NpyType& type : kNpyTypes) {
    if (type.dtype == tensor.dtype()) code = type.code;
  }
  if (code == nullptr) {
    throw_error(ErrorCode::kNotImplemented, "cannot write ", dtype_name(tensor.dtype()), " as .npy");
  }
  std::string shape;
  for (int64_t d : tensor.shape()) shape += std::to_string(d) + ",";
  if (tensor.rank() > 1) shape.pop_back();
  std::string header = std::string("{'descr': '") + (code[0] == 'b' || code[1] == '1' ? "|" : "<") + code +
                       "', 'fortran_order': False, 'shape': (" + shape + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(static_cast<const char*>(tensor.raw_data()), tensor.byte_size());
  write_file_atomically(path, bytes);
}

NamedFileValue read_value_file(const fs::path& path, const TypeInfo& expected) {
  if (path.extension() == ".npy") return {"", read_npy(path)};
  std::string bytes = read_file_bytes(path);
  switch (expected.kind) {
    case TypeInfo::Kind::kSequence: {
      auto proto = parse_proto<onnx::SequenceProto>(bytes, path, "SequenceProto");
      return {proto.name(), value_from_sequence(proto)};
    }
    case TypeInfo::Kind::kOptional: {
      auto proto = parse_proto<onnx::OptionalProto>(bytes, path, "OptionalProto");
      return {proto.name(), value_from_optional(proto)};
    }
    case TypeInfo::Kind::kMap: {
      auto proto = parse_proto<onnx::MapProto>(bytes, path, "MapProto");
      return {proto.name(), value_from_map(proto)};
    }
    default: {
      auto proto = parse_proto<onnx::TensorProto>(bytes, path, "TensorProto");
      if (proto.data_type() == 0) {
        throw_error(ErrorCode::kInvalidArgument, path.string(), " is not a serialized TensorProto (no element type)");
      }
      try {
        return {proto.name(), tensor_from_proto(proto, {})};
      } catch (const Error& error) {
        throw Error(ErrorCode::kInvalidArgument, path.string() + ": " + error.what());
      }
    }
  }
}

void write_tensor_pb(const fs::path& path, const Tensor& tensor, const std::string& name) {
  onnx::TensorProto proto;
  tensor_to_proto(tensor, name, &proto);
  write_file_atomically(path, proto.SerializeAsString());
}

void write_value_pb(const fs::path& path, const Value& value, const std::string& name, const TypeInfo& type) {
  if (type.kind == TypeInfo::Kind::kOptional) {
    onnx::OptionalProto proto;
    optional_to_proto(value, name, &proto);
    write_file_atomically(path, proto.SerializeAsString());
  } else if (value.is_sequence()) {
    onnx::SequenceProto proto;
    sequence_to_proto(value, name, &proto);
    write_file_atomically(path, proto.SerializeAsString());
  } else if (value.is_map()) {
    onnx::MapProto proto;
    map_to_proto(value, name, &proto);
    write_file_atomically(path, proto.SerializeAsString());
  } else {
    write_tensor_pb(path, value.tensor(), name);
  }
}

}  // namespace onyx
