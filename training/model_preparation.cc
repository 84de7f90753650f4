#include "training/model_preparation.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "runtime/common/error.h"
#include "training/graph_writer.h"

namespace onyx::training {

namespace {

bool is_floating(DataType type) {
  return type == DataType::kFloat || type == DataType::kDouble || type == DataType::kFloat16 ||
         type == DataType::kBFloat16;
}

bool is_dropout_with_mode(const Model& model, const Node& node) {
  return canonical_domain(node.domain).empty() && node.op_type == "Dropout" && model.opset_for("").value_or(0) >= 12;
}

bool is_mode_dependent(const Model& model, const Node& node) {
  return is_dropout_with_mode(model, node) || (canonical_domain(node.domain).empty() &&
                                               node.op_type == "BatchNormalization" &&
                                               model.opset_for("").value_or(0) >= 14);
}

}  // namespace

std::vector<std::string> expand_initializer_names(const Model& model, const std::vector<std::string>& patterns,
                                                  const char* what) {
  const Graph& graph = model.graph;
  std::vector<std::string> names;
  auto add = [&](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  };
  for (const std::string& pattern : patterns) {
    if (pattern.find_first_of("*?[") == std::string::npos) {
      ONYX_CHECK(graph.initializers.count(pattern), ErrorCode::kInvalidArgument, what, " parameter '", pattern,
                 "' is not an initializer of the model");
      add(pattern);
      continue;
    }
    const size_t before = names.size();
    for (const std::string& name : graph.initializer_order) {
      if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0) add(name);
    }
    ONYX_CHECK(names.size() > before, ErrorCode::kInvalidArgument, what, " pattern '", pattern,
               "' matches no initializer of the model");
  }
  return names;
}

std::vector<std::string> select_trainable(const Model& model, const std::vector<std::string>& trainable,
                                          const std::vector<std::string>& frozen) {
  const Graph& graph = model.graph;
  const std::vector<std::string> frozen_names = expand_initializer_names(model, frozen, "frozen");
  const std::set<std::string> frozen_set(frozen_names.begin(), frozen_names.end());
  std::vector<std::string> selected;
  const std::vector<std::string> candidates =
      trainable.empty() ? graph.initializer_order : expand_initializer_names(model, trainable, "trainable");
  for (const std::string& name : candidates) {
    const Tensor& value = graph.initializers.at(name);
    if (!is_floating(value.dtype())) {
      ONYX_CHECK(trainable.empty(), ErrorCode::kInvalidArgument, "trainable parameter '", name, "' is ",
                 dtype_name(value.dtype()), ", not a floating-point tensor");
      continue;
    }
    if (!frozen_set.count(name)) selected.push_back(name);
  }
  ONYX_CHECK(!selected.empty(), ErrorCode::kInvalidArgument, "the model has no trainable parameters");
  return selected;
}

void initializers_to_inputs(Model& model, const std::vector<std::string>& names) {
  Graph& graph = model.graph;
  for (const std::string& name : names) {
    auto found = graph.initializers.find(name);
    ONYX_CHECK(found != graph.initializers.end(), ErrorCode::kInvalidArgument, "'", name, "' is not an initializer");
    const TypeInfo type = TypeInfo::tensor_of_shape(found->second.dtype(), found->second.shape());
    // An initializer may already be declared as an input (IR < 4 models list them).
    auto declared = std::find_if(graph.inputs.begin(), graph.inputs.end(),
                                 [&](const ValueInfo& input) { return input.name == name; });
    if (declared == graph.inputs.end()) {
      add_graph_input(graph, name, type);
    } else {
      declared->type = type;
    }
    graph.initializers.erase(found);
    graph.initializer_order.erase(std::find(graph.initializer_order.begin(), graph.initializer_order.end(), name));
  }
}

void separate_running_statistics(Model& model) {
  Graph& graph = model.graph;
  std::set<std::string> statistics;
  for (const Node& node : graph.nodes) {
    if (canonical_domain(node.domain).empty() && node.op_type == "BatchNormalization") {
      for (size_t k : {3, 4}) {
        if (node.has_input(k)) statistics.insert(node.inputs[k]);
      }
    }
  }
  std::vector<Node> kept;
  for (Node& node : graph.nodes) {
    const bool copies_initializer = canonical_domain(node.domain).empty() && node.op_type == "Identity" &&
                                    node.outputs.size() == 1 && statistics.count(node.outputs[0]) &&
                                    node.has_input(0) && graph.initializers.count(node.inputs[0]);
    if (copies_initializer) {
      graph.set_initializer(node.outputs[0], graph.initializers.at(node.inputs[0]).clone());
    } else {
      kept.push_back(std::move(node));
    }
  }
  graph.nodes = std::move(kept);
}

bool has_mode_dependent_ops(const Model& model) {
  return std::any_of(model.graph.nodes.begin(), model.graph.nodes.end(),
                     [&](const Node& node) { return is_mode_dependent(model, node); });
}

void set_training_mode(Model& model, bool training) {
  if (!has_mode_dependent_ops(model)) return;
  GraphWriter writer(model.graph, "mode/");
  const std::string flag = writer.constant(Tensor::scalar<bool>(training));
  for (Node& node : model.graph.nodes) {
    if (is_dropout_with_mode(model, node)) {
      node.inputs.resize(std::max<size_t>(node.inputs.size(), 3));  // ratio stays as given (or omitted)
      node.inputs[2] = flag;
    } else if (is_mode_dependent(model, node)) {  // BatchNormalization: batch statistics in training
      std::erase_if(node.attributes, [](const Attribute& a) { return a.name == "training_mode"; });
      node.attributes.push_back(make_attribute("training_mode", int64_t{training ? 1 : 0}));
    }
  }
}

}  // namespace onyx::training
