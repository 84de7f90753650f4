#include "runtime/ir/function_inliner.h"

#include <algorithm>
#include <map>

#include "onnx/onnx-ml.pb.h"
#include "runtime/ir/model_loader.h"

namespace onyx {

namespace {

struct ModelFunction {
  std::string domain;
  std::string name;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<Attribute> attribute_defaults;  // attributes declared with default values
  std::vector<Node> body;
};

using FunctionTable = std::map<std::pair<std::string, std::string>, ModelFunction>;

class Inliner {
 public:
  explicit Inliner(const FunctionTable& functions) : functions_(functions) {}
  static constexpr int kMaxCallDepth = 64;
  static constexpr size_t kMaxInlinedNodes = size_t{1} << 22;

  void inline_graph(Graph& graph, int depth = 0) {
    std::vector<Node> expanded;
    for (Node& node : graph.nodes) {
      for (Attribute& attribute : node.attributes) {
        if (attribute.g) inline_graph(*attribute.g, depth);
        for (auto& sub : attribute.graphs) inline_graph(*sub, depth);
      }
      auto it = functions_.find({node.domain, node.op_type});
      if (it == functions_.end()) {
        expanded.push_back(std::move(node));
        continue;
      }
      const std::pair<std::string, std::string>& callee = it->first;
      if (std::find(calling_.begin(), calling_.end(), callee) != calling_.end()) {
        throw_error(ErrorCode::kInvalidModel, "function ", display_domain(callee.first), ".", callee.second,
                    " calls itself (directly or through other functions); ONNX functions cannot recurse");
      }
      if (depth > kMaxCallDepth) {
        throw_error(ErrorCode::kInvalidModel, "functions call each other more than ", kMaxCallDepth, " deep");
      }
      Graph body;
      body.nodes = instantiate(it->second, node);
      calling_.push_back(callee);
      inline_graph(body, depth + 1);  // functions may call functions
      calling_.pop_back();
      // Functions calling others several times grow exponentially with depth; a budget keeps a
      // hostile model from expanding into billions of nodes.
      inlined_nodes_ += body.nodes.size();
      if (inlined_nodes_ > kMaxInlinedNodes) {
        throw_error(ErrorCode::kInvalidModel, "inlining the model's functions makes more than ", kMaxInlinedNodes,
                    " nodes (functions that call functions many times over)");
      }
      for (Node& inner : body.nodes) expanded.push_back(std::move(inner));
    }
    graph.nodes = std::move(expanded);
  }

 private:
  std::vector<Node> instantiate(const ModelFunction& function, const Node& call) {
    std::map<std::string, std::string> renamed;
    for (size_t i = 0; i < function.inputs.size(); ++i) {
      renamed[function.inputs[i]] = i < call.inputs.size() ? call.inputs[i] : "";
    }
    for (size_t i = 0; i < function.outputs.size(); ++i) {
      renamed[function.outputs[i]] = i < call.outputs.size() ? call.outputs[i] : "";
    }
    std::string prefix = "_fn" + std::to_string(++call_count_) + "_" + function.name + "_";
    auto rename = [&](const std::string& name) -> std::string {
      if (name.empty()) return name;
      auto it = renamed.find(name);
      if (it != renamed.end()) return it->second;
      return renamed[name] = prefix + name;  // a value internal to the function
    };

    std::vector<Node> nodes;
    for (const Node& original : function.body) {
      Node node = original;
      node.name = prefix + (original.name.empty() ? original.op_type : original.name);
      for (auto& input : node.inputs) input = rename(input);
      for (auto& output : node.outputs) output = rename(output);
      std::vector<Attribute> bound;
      for (const Attribute& attribute : node.attributes) {
        if (attribute.ref_attr_name.empty()) {
          bound.push_back(attribute);
          continue;
        }
        const Attribute* value = call.find_attribute(attribute.ref_attr_name);
        if (value == nullptr) {
          for (const Attribute& fallback : function.attribute_defaults) {
            if (fallback.name == attribute.ref_attr_name) value = &fallback;
          }
        }
        if (value == nullptr) continue;  // unset optional attribute: the op's default applies
        Attribute copy = *value;
        copy.name = attribute.name;
        bound.push_back(std::move(copy));
      }
      node.attributes = std::move(bound);
      nodes.push_back(std::move(node));
    }
    return nodes;
  }

  const FunctionTable& functions_;
  int call_count_ = 0;
  std::vector<std::pair<std::string, std::string>> calling_;  // the functions being expanded, outermost first
  size_t inlined_nodes_ = 0;
};

}  // namespace

void inline_model_functions(const onnx::ModelProto& proto, const std::filesystem::path& model_dir,
                            Model& model) {
  FunctionTable functions;
  for (const auto& f : proto.functions()) {
    ModelFunction function;
    function.domain = canonical_domain(f.domain());
    function.name = f.name();
    function.inputs.assign(f.input().begin(), f.input().end());
    function.outputs.assign(f.output().begin(), f.output().end());
    onnx::GraphProto wrapper;  // reuse the graph reader for the body's nodes
    *wrapper.mutable_node() = f.node();
    function.body = graph_from_proto(wrapper, model_dir).nodes;
    onnx::NodeProto defaults;
    *defaults.mutable_attribute() = f.attribute_proto();
    onnx::GraphProto holder;
    *holder.add_node() = defaults;
    function.attribute_defaults = graph_from_proto(holder, model_dir).nodes[0].attributes;
    for (const auto& opset : f.opset_import()) {
      std::string domain = canonical_domain(opset.domain());
      if (!model.opsets.count(domain)) model.opsets[domain] = opset.version();
    }
    functions[{function.domain, function.name}] = std::move(function);
  }
  Inliner(functions).inline_graph(model.graph);
}

}  // namespace onyx
