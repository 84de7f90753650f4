// Reading models: bytes or a file -> onnx::ModelProto -> onyx::Model. Checks what a runtime
// must not trust (parse errors, opsets, dangling names are left to the session's validation),
// reads external data from the model's folder, densifies sparse initializers, keeps graph
// attributes as IR subgraphs and inlines model-local functions.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/ir/graph.h"

namespace onnx {
class ModelProto;
class TypeProto;
class GraphProto;
class TensorProto;
}  // namespace onnx

namespace onyx {

Model load_model(const std::filesystem::path& path);
// `model_dir` resolves external data; empty forbids it.
Model load_model_from_bytes(const void* data, size_t size, const std::filesystem::path& model_dir = {});
Model model_from_proto(const onnx::ModelProto& proto, const std::filesystem::path& model_dir);

TypeInfo type_from_proto(const onnx::TypeProto& proto);
Graph graph_from_proto(const onnx::GraphProto& proto, const std::filesystem::path& model_dir);

// Reads a whole file, with an error naming it when it is missing or unreadable.
std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace onyx
