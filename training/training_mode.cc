#include "training/training_mode.h"

#include <algorithm>

#include "onnx_ops/node_attributes.h"
#include "runtime/common/error.h"
#include "runtime/ir/attribute_builders.h"
#include "training/distributed/all_reduce_op.h"
#include "training/seeded_dropout.h"  // kTrainingDomain

namespace onyx::training {

namespace {

// Appends nodes that replace one forward node, with fresh names based on it.
class Rewriter {
 public:
  Rewriter(Graph& graph, NameSource& names, std::string base) : graph_(graph), names_(names), base_(std::move(base)) {}

  std::string add(const std::string& op, std::vector<std::string> inputs, std::vector<Attribute> attributes = {},
                  std::string output = "", std::string domain = "") {
    Node node;
    node.op_type = op;
    node.domain = std::move(domain);
    node.name = names_.fresh(base_ + "/" + op);
    node.inputs = std::move(inputs);
    node.attributes = std::move(attributes);
    node.outputs = {output.empty() ? names_.fresh(node.name) : output};
    added_.push_back(std::move(node));
    return added_.back().outputs[0];
  }
  std::string constant(Tensor value) {
    std::string name = names_.fresh(base_ + "/constant");
    graph_.set_initializer(name, std::move(value));
    return name;
  }
  std::string scalar(double value, DataType type) {
    return add("Cast", {constant(Tensor::scalar<double>(value))}, {make_attribute("to", static_cast<int64_t>(type))});
  }
  std::vector<Node> take() { return std::move(added_); }

 private:
  Graph& graph_;
  NameSource& names_;
  std::string base_;
  std::vector<Node> added_;
};

DataType elem_type(const InferredTypes& types, const Node& node, const std::string& value) {
  const TypeInfo* type = types.find(value);
  ONYX_CHECK(type && type->is_tensor() && type->elem_type != DataType::kUndefined, ErrorCode::kNotImplemented,
             "training mode for ", node.describe(), ": the type of '", value, "' is not known");
  return type->elem_type;
}

// Dropout 11 in training: y = x * keep / (1 - ratio), keep = uniform >= ratio.
std::vector<Node> dropout_in_training(const Node& node, Graph& graph, const InferredTypes& types,
                                      NameSource& names) {
  const float ratio = NodeAttributes(node).get_float("ratio", 0.5f);
  if (ratio == 0.0f) return {};
  Rewriter r(graph, names, node.name.empty() ? "dropout" : node.name);
  const std::string x = node.inputs[0];
  const DataType type = elem_type(types, node, x);
  std::string uniform = r.add("RandomUniformLike", {x});
  std::string keep = r.add("Not", {r.add("Less", {uniform, r.scalar(ratio, type)})});
  std::string scale = r.scalar(1.0 / (1.0 - ratio), type);
  r.add("Mul", {r.add("Mul", {x, r.add("Cast", {keep}, {make_attribute("to", static_cast<int64_t>(type))})}), scale}, {},
        node.outputs[0]);
  if (node.outputs.size() > 1 && !node.outputs[1].empty()) r.add("Identity", {keep}, {}, node.outputs[1]);
  return r.take();
}

// BatchNormalization 11-13 in training: batch mean and (population) variance over all axes but
// the channels; running = running * momentum + batch * (1 - momentum), as opset 14 defines it.
// With a communicator (any opset), the batch is every rank's: each mean is this rank's mean
// weighted by its share of the samples, summed over ranks by AllReduceSum (PyTorch's
// SyncBatchNorm), so N ranks normalize exactly as one process with their batches together.
std::vector<Node> batch_norm_in_training(const Node& node, Graph& graph, const InferredTypes& types,
                                         NameSource& names, int64_t opset, int64_t communicator,
                                         std::vector<std::pair<std::string, std::string>>& state_updates) {
  for (size_t k = 3; k < node.outputs.size(); ++k) {
    ONYX_CHECK(node.outputs[k].empty(), ErrorCode::kNotImplemented, "training mode for ", node.describe(),
               ": the saved_mean/saved_var outputs are not supported");
  }
  NodeAttributes attributes(node);
  const double epsilon = attributes.get_float("epsilon", 1e-5f), momentum = attributes.get_float("momentum", 0.9f);
  const std::string x = node.inputs[0];
  const DataType type = elem_type(types, node, x);
  const TypeInfo* x_type = types.find(x);
  ONYX_CHECK(x_type->shape.has_value(), ErrorCode::kNotImplemented, "training mode for ", node.describe(),
             ": the rank of '", x, "' is not known");
  const int64_t rank = static_cast<int64_t>(x_type->shape->size());
  std::vector<int64_t> axes = {0};
  for (int64_t a = 2; a < rank; ++a) axes.push_back(a);
  std::vector<int64_t> per_channel(static_cast<size_t>(rank), 1);
  per_channel[1] = -1;
  Rewriter r(graph, names, node.name.empty() ? "batchnorm" : node.name);
  std::string channel_shape = r.constant(Tensor::from_vector<int64_t>({rank}, per_channel));
  auto local_mean = [&](const std::string& v) {
    if (opset >= 18) {  // axes became an input
      return r.add("ReduceMean", {v, r.constant(Tensor::from_vector<int64_t>({int64_t(axes.size())}, axes))},
                   {make_attribute("keepdims", int64_t{1})});
    }
    return r.add("ReduceMean", {v}, {make_attribute("axes", axes), make_attribute("keepdims", int64_t{1})});
  };
  auto all_reduce_sum = [&](const std::string& v) {
    return r.add(distributed::kAllReduceSumOp, {v}, {make_attribute(distributed::kCommunicatorAttribute, communicator)},
                 "", kTrainingDomain);
  };
  std::string share;  // this rank's samples / all ranks' samples (per channel)
  if (communicator != 0) {
    std::string samples =
        r.add("Cast", {r.add("Div", {r.add("Size", {x}), r.add("Size", {node.inputs[1]})})},
              {make_attribute("to", static_cast<int64_t>(type))});
    share = r.add("Div", {samples, all_reduce_sum(samples)});
  }
  auto reduce_mean = [&](const std::string& v) {
    return communicator == 0 ? local_mean(v) : all_reduce_sum(r.add("Mul", {local_mean(v), share}));
  };
  std::string mean = reduce_mean(x);
  std::string centered = r.add("Sub", {x, mean});
  std::string variance = reduce_mean(r.add("Mul", {centered, centered}));
  std::string invstd = r.add("Reciprocal", {r.add("Sqrt", {r.add("Add", {variance, r.scalar(epsilon, type)})})});
  std::string scaled = r.add("Mul", {r.add("Mul", {centered, invstd}), r.add("Reshape", {node.inputs[1], channel_shape})});
  r.add("Add", {scaled, r.add("Reshape", {node.inputs[2], channel_shape})}, {}, node.outputs[0]);
  const std::string flat = r.constant(Tensor::from_vector<int64_t>({1}, {-1}));
  const std::pair<std::string, std::string> batch_stats[] = {{node.inputs[3], mean}, {node.inputs[4], variance}};
  for (size_t k = 0; k < 2; ++k) {
    const auto& [running, batch] = batch_stats[k];
    std::string output = k + 1 < node.outputs.size() ? node.outputs[k + 1] : "";
    std::string updated = r.add("Add", {r.add("Mul", {running, r.scalar(momentum, type)}),
                                        r.add("Mul", {r.add("Reshape", {batch, flat}), r.scalar(1.0 - momentum, type)})},
                                {}, output);
    if (graph.initializers.count(running)) state_updates.emplace_back(running, updated);
  }
  return r.take();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> switch_to_training_mode(Model& model,
                                                                         const InferredTypes& types,
                                                                         NameSource& names,
                                                                         int64_t sync_communicator) {
  std::vector<std::pair<std::string, std::string>> state_updates;
  const int64_t opset = model.opset_for("").value_or(0);
  Graph& graph = model.graph;
  std::string true_constant;
  std::vector<Node> rewritten;
  for (Node& node : graph.nodes) {
    if (!node.domain.empty()) {
      rewritten.push_back(std::move(node));
      continue;
    }
    if (node.op_type == "Dropout" && opset >= 12) {
      // A training_mode fed by the caller stays theirs; a constant or absent one becomes true.
      if (!node.has_input(2) || graph.initializers.count(node.inputs[2])) {
        if (true_constant.empty()) {
          true_constant = names.fresh("training_mode_true");
          graph.set_initializer(true_constant, Tensor::scalar<bool>(true));
        }
        node.inputs.resize(3);
        node.inputs[2] = true_constant;
      }
    } else if (node.op_type == "Dropout") {  // opset 11 (the oldest differentiated)
      std::vector<Node> replacement = dropout_in_training(node, graph, types, names);
      if (!replacement.empty()) {
        for (Node& added : replacement) rewritten.push_back(std::move(added));
        continue;
      }
    } else if (node.op_type == "BatchNormalization" && (opset < 14 || sync_communicator != 0)) {
      for (Node& added : batch_norm_in_training(node, graph, types, names, opset, sync_communicator, state_updates)) {
        rewritten.push_back(std::move(added));
      }
      continue;
    } else if (node.op_type == "BatchNormalization") {  // opset 14+: its own switch
      auto mode = std::find_if(node.attributes.begin(), node.attributes.end(),
                               [](const Attribute& a) { return a.name == "training_mode"; });
      if (mode != node.attributes.end()) node.attributes.erase(mode);
      node.attributes.push_back(make_attribute("training_mode", int64_t{1}));
      node.outputs.resize(3);
      std::string base = node.name.empty() ? "batchnorm" : node.name;
      for (size_t k : {1, 2}) {
        if (node.outputs[k].empty()) {
          node.outputs[k] = names.fresh(base + (k == 1 ? "_running_mean" : "_running_var"));
        }
        if (node.has_input(k + 2) && graph.initializers.count(node.inputs[k + 2])) {
          state_updates.emplace_back(node.inputs[k + 2], node.outputs[k]);
        }
      }
    }
    rewritten.push_back(std::move(node));
  }
  graph.nodes = std::move(rewritten);
  if (sync_communicator != 0) model.opsets[kTrainingDomain] = 1;
  return state_updates;
}

}  // namespace onyx::training
