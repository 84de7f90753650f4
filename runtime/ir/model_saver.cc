#include "runtime/ir/model_saver.h"

#include "onnx/onnx-ml.pb.h"
#include "runtime/common/atomic_file.h"
#include "runtime/ir/tensor_proto.h"

namespace onyx {

namespace fs = std::filesystem;

void type_to_proto(const TypeInfo& type, onnx::TypeProto* proto) {
  auto write_shape = [&](onnx::TensorShapeProto* shape) {
    for (const Dim& d : *type.shape) {
      auto* dim = shape->add_dim();
      if (d.is_known()) dim->set_dim_value(d.value);
      else if (!d.symbol.empty()) dim->set_dim_param(d.symbol);
    }
  };
  switch (type.kind) {
    case TypeInfo::Kind::kTensor: {
      auto* tensor = proto->mutable_tensor_type();
      tensor->set_elem_type(static_cast<int32_t>(type.elem_type));
      if (type.shape) write_shape(tensor->mutable_shape());
      break;
    }
    case TypeInfo::Kind::kSparseTensor: {
      auto* tensor = proto->mutable_sparse_tensor_type();
      tensor->set_elem_type(static_cast<int32_t>(type.elem_type));
      if (type.shape) write_shape(tensor->mutable_shape());
      break;
    }
    case TypeInfo::Kind::kSequence:
      if (type.element) type_to_proto(*type.element, proto->mutable_sequence_type()->mutable_elem_type());
      else proto->mutable_sequence_type();
      break;
    case TypeInfo::Kind::kOptional:
      if (type.element) type_to_proto(*type.element, proto->mutable_optional_type()->mutable_elem_type());
      else proto->mutable_optional_type();
      break;
    case TypeInfo::Kind::kMap:
      proto->mutable_map_type()->set_key_type(static_cast<int32_t>(type.elem_type));
      if (type.element) type_to_proto(*type.element, proto->mutable_map_type()->mutable_value_type());
      break;
    case TypeInfo::Kind::kUnknown:
      break;
  }
}

namespace {

void value_info_to_proto(const ValueInfo& info, onnx::ValueInfoProto* proto) {
  proto->set_name(info.name);
  if (!info.doc.empty()) proto->set_doc_string(info.doc);
  if (info.type.kind != TypeInfo::Kind::kUnknown) type_to_proto(info.type, proto->mutable_type());
}

void attribute_to_proto(const Attribute& a, onnx::AttributeProto* proto) {
  proto->set_name(a.name);
  proto->set_type(static_cast<onnx::AttributeProto::AttributeType>(a.kind));
  if (!a.ref_attr_name.empty()) proto->set_ref_attr_name(a.ref_attr_name);
  switch (a.kind) {
    case Attribute::Kind::kFloat: proto->set_f(a.f); break;
    case Attribute::Kind::kInt: proto->set_i(a.i); break;
    case Attribute::Kind::kString: proto->set_s(a.s); break;
    case Attribute::Kind::kTensor:
    case Attribute::Kind::kSparseTensor:  // saved dense: sparse inputs are densified on load
      proto->set_type(onnx::AttributeProto::TENSOR);
      tensor_to_proto(a.t, "", proto->mutable_t());
      break;
    case Attribute::Kind::kGraph: graph_to_proto(*a.g, proto->mutable_g()); break;
    case Attribute::Kind::kTypeProto: type_to_proto(a.tp, proto->mutable_tp()); break;
    case Attribute::Kind::kFloats: for (float v : a.floats) proto->add_floats(v); break;
    case Attribute::Kind::kInts: for (int64_t v : a.ints) proto->add_ints(v); break;
    case Attribute::Kind::kStrings: for (const auto& v : a.strings) proto->add_strings(v); break;
    case Attribute::Kind::kTensors:
    case Attribute::Kind::kSparseTensors:
      proto->set_type(onnx::AttributeProto::TENSORS);
      for (const auto& t : a.tensors) tensor_to_proto(t, "", proto->add_tensors());
      break;
    case Attribute::Kind::kGraphs: for (const auto& g : a.graphs) graph_to_proto(*g, proto->add_graphs()); break;
    case Attribute::Kind::kTypeProtos: for (const auto& t : a.type_protos) type_to_proto(t, proto->add_type_protos()); break;
    case Attribute::Kind::kUndefined: break;
  }
}

}  // namespace

void graph_to_proto(const Graph& graph, onnx::GraphProto* proto) {
  proto->set_name(graph.name);
  if (!graph.doc.empty()) proto->set_doc_string(graph.doc);
  for (const Node& node : graph.nodes) {
    auto* n = proto->add_node();
    n->set_name(node.name);
    n->set_op_type(node.op_type);
    if (!node.domain.empty()) n->set_domain(node.domain);
    if (!node.doc.empty()) n->set_doc_string(node.doc);
    for (const auto& input : node.inputs) n->add_input(input);
    for (const auto& output : node.outputs) n->add_output(output);
    for (const Attribute& attribute : node.attributes) attribute_to_proto(attribute, n->add_attribute());
  }
  for (const auto& info : graph.inputs) value_info_to_proto(info, proto->add_input());
  for (const auto& info : graph.outputs) value_info_to_proto(info, proto->add_output());
  for (const auto& info : graph.value_info) value_info_to_proto(info, proto->add_value_info());
  for (const auto& name : graph.initializer_order) {
    tensor_to_proto(graph.initializers.at(name), name, proto->add_initializer());
  }
}

void model_to_proto(const Model& model, onnx::ModelProto* proto) {
  proto->set_ir_version(model.ir_version);
  proto->set_producer_name(model.producer_name);
  proto->set_producer_version(model.producer_version);
  proto->set_domain(model.domain);
  proto->set_model_version(model.model_version);
  if (!model.doc.empty()) proto->set_doc_string(model.doc);
  for (const auto& [domain, version] : model.opsets) {
    auto* opset = proto->add_opset_import();
    opset->set_domain(domain);
    opset->set_version(version);
  }
  for (const auto& [key, value] : model.metadata) {
    auto* entry = proto->add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  graph_to_proto(model.graph, proto->mutable_graph());
}

std::string serialize_model(const Model& model) {
  onnx::ModelProto proto;
  model_to_proto(model, &proto);
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) {
    throw_error(ErrorCode::kRuntimeFailure, "model could not be serialized (over 2 GiB?)");
  }
  return bytes;
}

void save_model(const Model& model, const fs::path& path) {
  write_file_atomically(path, serialize_model(model));
}

}  // namespace onyx
