#include "runtime/optimizer/gelu_fusion.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "onnx_ops/op_schema.h"
#include "runtime/optimizer/value_reads.h"

namespace onyx {

namespace {

class GeluFuser {
 public:
  explicit GeluFuser(Graph& graph) : graph_(graph), reads_(count_value_reads(graph)) {
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      for (const std::string& output : graph.nodes[i].outputs) producers_[output] = i;
    }
  }

  int run() {
    int formed = 0;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (graph_.nodes[i].op_type == "Erf" && graph_.nodes[i].domain.empty() && match(i)) ++formed;
    }
    if (formed == 0) return 0;
    std::vector<Node> kept;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      auto gelu = replacements_.find(i);
      if (gelu != replacements_.end()) kept.push_back(std::move(gelu->second));
      else if (!absorbed_.count(i)) kept.push_back(std::move(graph_.nodes[i]));
    }
    graph_.nodes = std::move(kept);
    return formed;
  }

 private:
  // The value of a constant one-element float tensor.
  std::optional<float> constant_scalar(const std::string& name) const {
    const Tensor* t = constant_initializer(graph_, name);
    if (!t || t->dtype() != DataType::kFloat || t->element_count() != 1) return std::nullopt;
    return t->data<float>()[0];
  }

  bool is_constant(const std::string& name, double expected) const {
    std::optional<float> value = constant_scalar(name);
    return value && std::abs(*value - expected) <= 1e-5 * std::abs(expected);
  }

  // The node producing `value` when it is an `op` read by nothing else (and not yet absorbed).
  const Node* sole_use_producer(const std::string& value, const char* op, size_t& index) const {
    auto it = producers_.find(value);
    if (it == producers_.end() || absorbed_.count(it->second)) return nullptr;
    const Node& node = graph_.nodes[it->second];
    if (node.op_type != op || !node.domain.empty() || node.inputs.size() != 2 || node.outputs.size() != 1) return nullptr;
    auto read = reads_.find(value);
    if (read == reads_.end() || read->second != 1) return nullptr;
    index = it->second;
    return &node;
  }

  // The node reading `value`, when it is its only reader and an `op` with two inputs.
  const Node* sole_reader(const std::string& value, const char* op, size_t& index) const {
    auto read = reads_.find(value);
    if (read == reads_.end() || read->second != 1) return nullptr;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& node = graph_.nodes[i];
      if (absorbed_.count(i) || node.inputs.size() != 2 || node.outputs.size() != 1) continue;
      if (node.inputs[0] != value && node.inputs[1] != value) continue;
      if (node.op_type != op || !node.domain.empty()) return nullptr;
      index = i;
      return &node;
    }
    return nullptr;
  }

  static const std::string& other_input(const Node& node, const std::string& value) {
    return node.inputs[0] == value ? node.inputs[1] : node.inputs[0];
  }

  // x / sqrt(2) or x * (1 / sqrt(2)): the Erf's argument; returns x.
  std::optional<std::string> scaled_input(const std::string& argument, size_t& index) const {
    if (const Node* div = sole_use_producer(argument, "Div", index)) {
      if (is_constant(div->inputs[1], std::sqrt(2.0))) return div->inputs[0];
      return std::nullopt;
    }
    if (const Node* mul = sole_use_producer(argument, "Mul", index)) {
      for (int k = 0; k < 2; ++k) {
        if (is_constant(mul->inputs[k], 1.0 / std::sqrt(2.0))) return mul->inputs[1 - k];
      }
    }
    return std::nullopt;
  }

  // Erf(x / sqrt(2)) + 1, then the product of that, x and 0.5 in any grouping.
  bool match(size_t erf_index) {
    const Node& erf = graph_.nodes[erf_index];
    if (erf.inputs.size() != 1 || erf.outputs.size() != 1) return false;
    size_t scale_index, add_index, mul_index, last_index;
    std::optional<std::string> x = scaled_input(erf.inputs[0], scale_index);
    if (!x) return false;
    auto erf_reads = reads_.find(erf.outputs[0]);
    if (erf_reads == reads_.end() || erf_reads->second != 1) return false;
    const Node* add = sole_reader(erf.outputs[0], "Add", add_index);
    if (!add || !is_constant(other_input(*add, erf.outputs[0]), 1.0)) return false;
    const Node* mul = sole_reader(add->outputs[0], "Mul", mul_index);
    if (!mul) return false;
    const std::string& factor = other_input(*mul, add->outputs[0]);
    std::vector<size_t> nodes{scale_index, erf_index, add_index, mul_index};
    if (factor == *x || is_constant(factor, 0.5)) {
      // (x * (1 + erf)) * 0.5 or (0.5 * (1 + erf)) * x
      const Node* last = sole_reader(mul->outputs[0], "Mul", last_index);
      if (!last) return false;
      const std::string& remaining = other_input(*last, mul->outputs[0]);
      if (!(factor == *x ? is_constant(remaining, 0.5) : remaining == *x)) return false;
      nodes.push_back(last_index);
    } else {
      // (x * 0.5) * (1 + erf)
      size_t half_index;
      const Node* half = sole_use_producer(factor, "Mul", half_index);
      if (!half || other_input(*half, *x) == *x || !is_constant(other_input(*half, *x), 0.5) ||
          (half->inputs[0] != *x && half->inputs[1] != *x)) {
        return false;
      }
      nodes.push_back(half_index);
      last_index = mul_index;
    }
    Node gelu;
    gelu.name = graph_.nodes[last_index].name.empty() ? erf.name : graph_.nodes[last_index].name;
    gelu.op_type = "Gelu";
    gelu.domain = kOnyxDomain;
    gelu.inputs = {*x};
    gelu.outputs = {graph_.nodes[last_index].outputs[0]};
    // In place of the last node: x comes before the first absorbed node, and the output's
    // readers after the last.
    size_t position = *std::max_element(nodes.begin(), nodes.end());
    absorbed_.insert(nodes.begin(), nodes.end());
    replacements_.emplace(position, std::move(gelu));
    return true;
  }

  Graph& graph_;
  std::map<std::string, int> reads_;
  std::map<std::string, size_t> producers_;
  std::set<size_t> absorbed_;
  std::map<size_t, Node> replacements_;  // node index -> the Gelu that takes its place
};

}  // namespace

int fuse_gelu(Graph& graph, Model& model) {
  const int formed = GeluFuser(graph).run();
  if (formed > 0 && !model.opset_for(kOnyxDomain)) model.opsets[kOnyxDomain] = 1;
  return formed;
}

}  // namespace onyx
