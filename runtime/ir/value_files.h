// Reading and writing single values as files: serialized TensorProto / SequenceProto /
// OptionalProto / MapProto (.pb, the ONNX backend-test format) and NumPy .npy arrays.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/ir/type_info.h"
#include "runtime/tensor/value.h"

namespace onyx {

struct NamedFileValue {
  std::string name;  // the proto's name field; empty for .npy
  Value value;
};

// Picks the format by extension (.npy, else protobuf). For .pb, `expected` (may be unknown)
// says whether to parse a TensorProto, SequenceProto, OptionalProto or MapProto.
NamedFileValue read_value_file(const std::filesystem::path& path, const TypeInfo& expected = {});
Tensor read_npy(const std::filesystem::path& path);
// The bytes of a .npy file (e.g. an entry of an .npz archive); `source` names it in errors.
Tensor parse_npy(const std::string& bytes, const std::string& source);

void write_tensor_pb(const std::filesystem::path& path, const Tensor& tensor, const std::string& name);
void write_value_pb(const std::filesystem::path& path, const Value& value, const std::string& name,
                    const TypeInfo& type);
void write_npy(const std::filesystem::path& path, const Tensor& tensor);

}  // namespace onyx
