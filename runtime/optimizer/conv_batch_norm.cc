#include "runtime/optimizer/conv_batch_norm.h"

#include <cmath>
#include <map>
#include <set>

#include "onnx_ops/node_attributes.h"
#include "runtime/optimizer/value_reads.h"

namespace onyx {

namespace {

class ConvBatchNormFolder {
 public:
  explicit ConvBatchNormFolder(Graph& graph) : graph_(graph) {
    reads_ = count_value_reads(graph);
    for (const auto& input : graph.inputs) names_.insert(input.name);
    for (const auto& [name, tensor] : graph.initializers) names_.insert(name);
    for (const Node& node : graph.nodes) names_.insert(node.outputs.begin(), node.outputs.end());
  }

  int run() {
    std::map<std::string, size_t> producer;
    std::set<size_t> removed;
    int folded = 0;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      Node& node = graph_.nodes[i];
      for (const auto& output : node.outputs) producer[output] = i;
      if (node.op_type != "BatchNormalization" || !node.domain.empty() || node.inputs.empty()) continue;
      auto conv = producer.find(node.inputs[0]);
      if (conv == producer.end() || !fold(graph_.nodes[conv->second], node)) continue;
      removed.insert(i);
      ++folded;
    }
    std::vector<Node> kept;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (!removed.count(i)) kept.push_back(std::move(graph_.nodes[i]));
    }
    graph_.nodes = std::move(kept);
    return folded;
  }

 private:
  // A constant float tensor of `count` elements (1-D), or null.
  const Tensor* parameter(const Node& node, size_t i, int64_t count) const {
    if (!node.has_input(i)) return nullptr;
    auto it = graph_.initializers.find(node.inputs[i]);
    if (it == graph_.initializers.end() || graph_.find_input(node.inputs[i]) != nullptr) return nullptr;
    const Tensor& t = it->second;
    return t.dtype() == DataType::kFloat && t.rank() == 1 && t.dim(0) == count ? &t : nullptr;
  }

  std::string fresh_name(const std::string& base) {
    std::string name = base + "/bn_folded";
    for (int k = 1; names_.count(name); ++k) name = base + "/bn_folded_" + std::to_string(k);
    names_.insert(name);
    return name;
  }

  bool fold(Node& conv, const Node& bn) {
    if (conv.op_type != "Conv" || !conv.domain.empty() || conv.outputs.size() != 1 || !conv.has_input(1)) return false;
    if (reads_[conv.outputs[0]] != 1) return false;  // someone else needs the unnormalized value
    for (size_t i = 1; i < bn.outputs.size(); ++i) {
      if (!bn.outputs[i].empty()) return false;  // training outputs (running statistics)
    }
    NodeAttributes attributes(bn);
    // training_mode (opset 14+) normalizes with batch statistics; spatial=0 (opset < 9) has
    // per-position parameters.
    if (attributes.get_int("training_mode", 0) != 0 || attributes.get_int("spatial", 1) == 0) return false;
    auto w_it = graph_.initializers.find(conv.inputs[1]);
    if (w_it == graph_.initializers.end() || graph_.find_input(conv.inputs[1]) != nullptr) return false;
    const Tensor& w = w_it->second;
    if (w.dtype() != DataType::kFloat || w.rank() < 3) return false;
    const int64_t maps = w.dim(0);
    const Tensor* conv_bias = conv.has_input(2) ? parameter(conv, 2, maps) : nullptr;
    if (conv.has_input(2) && !conv_bias) return false;
    const Tensor* scale = parameter(bn, 1, maps);
    const Tensor* shift = parameter(bn, 2, maps);
    const Tensor* mean = parameter(bn, 3, maps);
    const Tensor* var = parameter(bn, 4, maps);
    if (!scale || !shift || !mean || !var) return false;
    const double epsilon = attributes.get_float("epsilon", 1e-5f);

    Tensor new_w = w.clone();
    Tensor new_b(DataType::kFloat, {maps});
    const int64_t per_map = w.element_count() / maps;
    for (int64_t m = 0; m < maps; ++m) {
      const double s = scale->data<float>()[m] / std::sqrt(static_cast<double>(var->data<float>()[m]) + epsilon);
      float* row = new_w.mutable_data<float>() + m * per_map;
      for (int64_t k = 0; k < per_map; ++k) row[k] = static_cast<float>(row[k] * s);
      const double b = conv_bias ? conv_bias->data<float>()[m] : 0.0;
      new_b.mutable_data<float>()[m] = static_cast<float>((b - mean->data<float>()[m]) * s + shift->data<float>()[m]);
    }
    const std::string w_name = fresh_name(conv.inputs[1]);
    graph_.set_initializer(w_name, std::move(new_w));
    const std::string b_name = fresh_name(conv.has_input(2) ? conv.inputs[2] : conv.inputs[1] + "/bias");
    graph_.set_initializer(b_name, std::move(new_b));
    conv.inputs.resize(3);
    conv.inputs[1] = w_name;
    conv.inputs[2] = b_name;
    conv.outputs[0] = bn.outputs[0];
    return true;
  }

  Graph& graph_;
  std::map<std::string, int> reads_;
  std::set<std::string> names_;  // every value name, so that new initializers shadow none
};

}  // namespace

int fold_conv_batch_norm(Graph& graph) { return ConvBatchNormFolder(graph).run(); }

}  // namespace onyx
