#include "training/nn/eager_graph_cache.h"

#include <map>
#include <memory>

#include "onnx_ops/op_schema.h"
#include "runtime/common/error.h"
#include "training/eager_graph_call.h"

namespace onyx::nn {

Model stub_model_for(const std::vector<std::string>& names, const std::vector<Tensor>& tensors) {
  Model model;
  model.ir_version = 8;
  model.producer_name = "onyx.nn";
  model.opsets[""] = kLatestOnnxOpset;
  for (size_t i = 0; i < names.size(); ++i) {
    std::vector<Dim> dims(tensors[i].rank());
    model.graph.inputs.push_back({names[i], TypeInfo::tensor(tensors[i].dtype(), dims), ""});
  }
  return model;
}

const Model& cached_graph(const std::string& key, const std::function<Model()>& build) {
  thread_local std::map<std::string, std::unique_ptr<Model>> graphs;
  auto found = graphs.find(key);
  if (found != graphs.end()) return *found->second;
  auto model = std::make_unique<Model>(build());
  return *graphs.emplace(key, std::move(model)).first->second;
}

Tensor call_first_output(const Model& model, const std::vector<Tensor>& inputs) {
  ONYX_CHECK(inputs.size() == model.graph.inputs.size(), ErrorCode::kInvalidArgument, "graph '", model.graph.name,
             "' takes ", model.graph.inputs.size(), " inputs, got ", inputs.size());
  std::map<std::string, Value> feeds;
  for (size_t i = 0; i < inputs.size(); ++i) feeds[model.graph.inputs[i].name] = inputs[i];
  std::map<std::string, Value> outputs = training::call_graph_eagerly(model, feeds);
  return outputs.at(model.graph.outputs.front().name).tensor();
}

std::string type_key(const std::vector<Tensor>& tensors) {
  std::string key;
  for (const Tensor& tensor : tensors) key += std::string(dtype_name(tensor.dtype())) + "/" + std::to_string(tensor.rank()) + ";";
  return key;
}

}  // namespace onyx::nn
