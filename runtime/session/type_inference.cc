#include "runtime/session/type_inference.h"

#include "onnx_ops/attribute_checks.h"
#include "onnx_ops/op_schema.h"

namespace onyx {

TypeInfo merge_types(const std::string& value_name, const TypeInfo& declared, const TypeInfo& inferred) {
  if (declared.kind == TypeInfo::Kind::kUnknown) return inferred;
  if (inferred.kind == TypeInfo::Kind::kUnknown) return declared;
  if (declared.kind != inferred.kind) return declared;  // e.g. optional declared, tensor inferred
  TypeInfo merged = declared;
  if (merged.elem_type == DataType::kUndefined) merged.elem_type = inferred.elem_type;
  if (declared.kind != TypeInfo::Kind::kTensor) return merged;
  if (inferred.elem_type != DataType::kUndefined && declared.elem_type != DataType::kUndefined &&
      inferred.elem_type != declared.elem_type) {
    throw_error(ErrorCode::kInvalidModel, "value '", value_name, "' is declared ",
                declared.to_string(), " but its producer makes ", inferred.to_string());
  }
  if (!merged.shape) {
    merged.shape = inferred.shape;
  } else if (inferred.shape && inferred.shape->size() == merged.shape->size()) {
    for (size_t i = 0; i < merged.shape->size(); ++i) {
      Dim& dim = (*merged.shape)[i];
      const Dim& other = (*inferred.shape)[i];
      if (!dim.is_known() && other.is_known()) dim = other;
    }
  }
  return merged;
}

InferredTypes infer_types(const Graph& graph, const Model& model, const InferredTypes* outer, const OpRegistry& ops) {
  InferredTypes result;
  if (outer) result = *outer;
  for (const auto& [name, tensor] : graph.initializers) {
    result.types[name] = TypeInfo::tensor_of_shape(tensor.dtype(), tensor.shape());
  }
  for (const auto& input : graph.inputs) {
    // A graph input may override an initializer of the same name: keep its declared shape.
    auto it = result.types.find(input.name);
    result.types[input.name] = it == result.types.end() || !graph.initializers.count(input.name)
                                   ? input.type
                                   : merge_types(input.name, input.type, it->second);
  }
  std::map<std::string, const TypeInfo*> declared;
  for (const auto& info : graph.value_info) declared[info.name] = &info.type;
  for (const auto& info : graph.outputs) declared[info.name] = &info.type;

  for (const Node& node : graph.nodes) {
    std::vector<const TypeInfo*> input_types;
    std::vector<const Tensor*> constants;
    for (const auto& input : node.inputs) {
      input_types.push_back(input.empty() ? nullptr : result.find(input));
      const Tensor* constant = nullptr;
      if (!input.empty() && graph.find_input(input) == nullptr) {
        auto it = graph.initializers.find(input);
        if (it != graph.initializers.end()) constant = &it->second;
      }
      constants.push_back(constant);
    }
    int64_t opset = model.opset_for(node.domain).value_or(0);
    InferenceContext context(node, opset, input_types, constants);
    try {
      check_node_attributes(node, opset, input_types);  // so the rule sees only valid values
      if (const ShapeRule* rule = ops.shape_rules().find(node.domain, node.op_type)) (*rule)(context);
    } catch (const Error& error) {
      throw Error(error.code(), node.describe() + ": " + error.what());
    } catch (const std::exception& error) {
      throw Error(ErrorCode::kInvalidModel, node.describe() + ": " + user_message(error));
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const std::string& name = node.outputs[i];
      if (name.empty()) continue;
      auto it = declared.find(name);
      result.types[name] = it == declared.end()
                               ? context.output_types()[i]
                               : merge_types(name, *it->second, context.output_types()[i]);
    }
  }
  return result;
}

}  // namespace onyx
