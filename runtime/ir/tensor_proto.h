// Conversions between onnx::TensorProto and onyx::Tensor: raw and typed data fields, every
// element type, external data files (confined to the model's folder) and sparse tensors.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/tensor/tensor.h"

namespace onnx {
class TensorProto;
class SparseTensorProto;
}  // namespace onnx

namespace onyx {

// `model_dir` is where external data locations are resolved; empty means external data is
// not allowed (a tensor read from a bare .pb file).
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::filesystem::path& model_dir);
// The same tensor, holding the message's raw bytes instead of a copy of them (what the model
// loader uses: a model's weights are then in memory once while it loads). `proto` loses them.
Tensor tensor_taking_proto_bytes(onnx::TensorProto& proto, const std::filesystem::path& model_dir);
Tensor tensor_from_sparse_proto(const onnx::SparseTensorProto& proto,
                                const std::filesystem::path& model_dir);
// Writes the tensor with raw_data (strings use string_data).
void tensor_to_proto(const Tensor& tensor, const std::string& name, onnx::TensorProto* proto);

// The file a relative external-data location names, checked to stay inside `model_dir`.
std::filesystem::path resolve_external_data_path(const std::filesystem::path& model_dir,
                                                 const std::string& location);

}  // namespace onyx
