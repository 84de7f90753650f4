// Writing models: onyx::Model -> onnx::ModelProto -> bytes or a file. Files are written to a
// temporary name and renamed into place, so a failed save never leaves half a model.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/ir/graph.h"

namespace onnx {
class ModelProto;
class TypeProto;
class GraphProto;
}  // namespace onnx

namespace onyx {

void model_to_proto(const Model& model, onnx::ModelProto* proto);
void graph_to_proto(const Graph& graph, onnx::GraphProto* proto);
void type_to_proto(const TypeInfo& type, onnx::TypeProto* proto);
std::string serialize_model(const Model& model);
void save_model(const Model& model, const std::filesystem::path& path);

}  // namespace onyx
