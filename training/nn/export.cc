#include "training/nn/export.h"

#include <map>
#include <tuple>

#include "runtime/common/error.h"
#include "runtime/eager/trace.h"
#include "runtime/ir/model_saver.h"

namespace onyx::nn {

namespace {

// Restores the module's training flag after an export.
class EvalModeScope {
 public:
  explicit EvalModeScope(Module& module) : module_(module), was_training_(module.is_training()) { module.eval(); }
  ~EvalModeScope() { module_.train(was_training_); }

 private:
  Module& module_;
  bool was_training_;
};

void rename_in_graph(Graph& graph, const std::string& from, const std::string& to) {
  for (Node& node : graph.nodes) {
    for (std::string& input : node.inputs) {
      if (input == from) input = to;
    }
    for (Attribute& attribute : node.attributes) {
      if (attribute.g) rename_in_graph(*attribute.g, from, to);
      for (auto& body : attribute.graphs) {
        if (body) rename_in_graph(*body, from, to);
      }
    }
  }
  for (ValueInfo& output : graph.outputs) {
    if (output.name == from) output.name = to;
  }
}

// Captured constants get trace names ("const_3"); the module's tensors get their dotted names.
void name_module_initializers(Module& module, Graph& graph) {
  std::map<std::tuple<const void*, DataType, Shape>, std::string> names;
  for (const auto& [name, tensor] : module.state_dict()) {
    names.emplace(std::make_tuple(tensor.raw_data(), tensor.dtype(), tensor.shape()), name);
  }
  std::map<std::string, Tensor> renamed;
  std::vector<std::string> order;
  for (const std::string& old_name : graph.initializer_order) {
    const Tensor& tensor = graph.initializers.at(old_name);
    auto found = names.find(std::make_tuple(tensor.raw_data(), tensor.dtype(), tensor.shape()));
    std::string name = found != names.end() && !graph.initializers.count(found->second) ? found->second : old_name;
    if (name != old_name) rename_in_graph(graph, old_name, name);
    renamed[name] = tensor;
    order.push_back(name);
  }
  graph.initializers = std::move(renamed);
  graph.initializer_order = std::move(order);
}

}  // namespace

Model export_model(Module& module, const std::vector<Tensor>& examples, const ExportOptions& options) {
  ONYX_CHECK(eager::current_trace() == nullptr, ErrorCode::kInvalidArgument, "export: not inside onyx::function");
  ONYX_CHECK(!examples.empty(), ErrorCode::kInvalidArgument, "export: give one example input per model input");
  ONYX_CHECK(options.input_names.empty() || options.input_names.size() == examples.size(), ErrorCode::kInvalidArgument,
             "export: ", options.input_names.size(), " input names for ", examples.size(), " inputs");
  EvalModeScope eval(module);
  // A lazy model builds itself on a real call first, so its parameters exist as concrete tensors.
  if (!module.is_built()) module.call(examples);
  eager::TraceContext trace;
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < examples.size(); ++i) {
    std::vector<Dim> dims;
    for (size_t d = 0; d < examples[i].rank(); ++d) {
      dims.push_back(d == 0 && options.dynamic_batch ? Dim::named("batch") : Dim::known(examples[i].dim(d)));
    }
    const std::string name = options.input_names.empty() ? "input_" + std::to_string(i) : options.input_names[i];
    inputs.push_back(trace.add_input(name, TypeInfo::tensor(examples[i].dtype(), dims)));
  }
  std::vector<Tensor> outputs = module.call(inputs);
  ONYX_CHECK(options.output_names.empty() || options.output_names.size() == outputs.size(), ErrorCode::kInvalidArgument,
             "export: ", options.output_names.size(), " output names for ", outputs.size(), " outputs");
  Model model = trace.finish(outputs, options.output_names);
  model.graph.name = module.type_name();
  model.producer_name = "onyx.nn";
  name_module_initializers(module, model.graph);
  return model;
}

void export_inference_model(Module& module, const std::vector<Tensor>& examples, const std::filesystem::path& path,
                            const ExportOptions& options) {
  save_model(export_model(module, examples, options), path);
}

void export_trainable_model(Module& module, const std::vector<Tensor>& examples, training::LossKind loss,
                            const std::filesystem::path& path, const ExportOptions& options) {
  Model model = export_model(module, examples, options);
  model.metadata.emplace_back("onyx.nn.loss", std::string(training::loss_kind_name(loss)));
  save_model(model, path);
}

}  // namespace onyx::nn
