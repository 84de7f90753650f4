#include "runtime/optimizer/matmul_fusion.h"

#include <map>

#include "onnx_ops/node_attributes.h"
#include "onnx_ops/op_schema.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/optimizer/activation_fusion.h"
#include "runtime/optimizer/value_reads.h"

namespace onyx {

namespace {

class MatMulFuser {
 public:
  MatMulFuser(Graph& graph, const InferredTypes& types, int64_t opset)
      : graph_(graph), types_(types), opset_(opset), reads_(count_value_reads(graph)) {}

  int run() {
    std::vector<Node> out;
    for (Node& node : graph_.nodes) {
      if (try_absorb_bias(node, out) || try_absorb_activation(node, out)) {
        ++absorbed_;
        continue;
      }
      if (is_candidate(node)) candidates_[node.outputs[0]] = {out.size(), false, false};
      out.push_back(std::move(node));
    }
    graph_.nodes = std::move(out);
    return absorbed_;
  }

 private:
  struct Candidate {
    size_t index;    // in the rewritten node list
    bool has_bias;   // a bias is already part of it
    bool converted;  // already a FusedMatMul
  };

  const Tensor* constant(const std::string& name) const { return constant_initializer(graph_, name); }

  int64_t float_rank(const std::string& name) const {
    const TypeInfo* type = types_.find(name);
    if (!type || !type->is_tensor() || type->elem_type != DataType::kFloat || !type->shape) return -1;
    return static_cast<int64_t>(type->shape->size());
  }

  // Columns of op(B) for a constant float matrix B, or -1.
  int64_t weight_columns(const std::string& b, bool trans_b) const {
    const Tensor* w = constant(b);
    if (!w || w->dtype() != DataType::kFloat || w->rank() != 2) return -1;
    return trans_b ? w->dim(0) : w->dim(1);
  }

  // A constant float row of `n` values, shaped [n] or [1, ..., 1, n] of rank <= `rank`.
  bool is_bias_row(const std::string& name, int64_t n, int64_t rank) const {
    const Tensor* bias = constant(name);
    if (!bias || bias->dtype() != DataType::kFloat || bias->rank() < 1 || static_cast<int64_t>(bias->rank()) > rank ||
        bias->shape().back() != n) {
      return false;
    }
    return bias->element_count() == n;
  }

  // A MatMul or Gemm whose output a bias or an activation may join.
  bool is_candidate(const Node& node) const {
    if (!node.domain.empty() || node.outputs.size() != 1 || node.inputs.size() < 2) return false;
    const int64_t rank = float_rank(node.inputs[0]);
    if (node.op_type == "MatMul") return rank >= 2 && weight_columns(node.inputs[1], false) >= 0;
    if (node.op_type != "Gemm" || rank != 2) return false;
    NodeAttributes attributes(node);
    if (attributes.get_int("transA", 0) != 0 || attributes.get_float("alpha", 1.f) != 1.f) return false;
    const int64_t n = weight_columns(node.inputs[1], attributes.get_int("transB", 0) != 0);
    if (n < 0) return false;
    const bool has_c = node.inputs.size() > 2 && !node.inputs[2].empty();
    return !has_c || (attributes.get_float("beta", 1.f) == 1.f && is_bias_row(node.inputs[2], n, 2));
  }

  // The candidate producing `value` when nothing else reads it.
  Candidate* sole_reader_candidate(const std::string& value) {
    auto it = candidates_.find(value);
    if (it == candidates_.end() || reads_[value] != 1) return nullptr;
    return &it->second;
  }

  // Turns the candidate node into a FusedMatMul (inputs A, B and the bias, if any).
  void convert(Node& node, Candidate& candidate) {
    if (candidate.converted) return;
    NodeAttributes attributes(node);
    const bool trans_b = node.op_type == "Gemm" && attributes.get_int("transB", 0) != 0;
    candidate.has_bias = node.op_type == "Gemm" && node.inputs.size() > 2 && !node.inputs[2].empty();
    node.inputs.resize(candidate.has_bias ? 3 : 2);
    node.domain = kOnyxDomain;
    node.op_type = "FusedMatMul";
    node.attributes = {make_attribute("transB", int64_t{trans_b})};
    candidate.converted = true;
  }

  // Moves the candidate's entry to the absorbed node's output, which it now produces.
  void take_over(const std::string& from, const std::string& to, std::vector<Node>& out, bool open) {
    Candidate candidate = candidates_.at(from);
    candidates_.erase(from);
    out[candidate.index].outputs[0] = to;
    if (open) candidates_[to] = candidate;
  }

  bool try_absorb_bias(const Node& node, std::vector<Node>& out) {
    if (!node.domain.empty() || node.op_type != "Add" || node.inputs.size() != 2 || node.outputs.size() != 1) {
      return false;
    }
    for (int first = 0; first < 2; ++first) {
      const std::string& product = node.inputs[first];
      const std::string& bias = node.inputs[1 - first];
      Candidate* candidate = sole_reader_candidate(product);
      if (!candidate || candidate->has_bias) continue;
      Node& target = out[candidate->index];
      if (target.op_type == "Gemm" && !candidate->converted) continue;  // Gemm has its own C
      const int64_t rank = float_rank(product);
      const int64_t n = weight_columns(target.inputs[1], NodeAttributes(target).get_int("transB", 0) != 0);
      if (rank < 2 || n < 0 || !is_bias_row(bias, n, rank)) continue;
      convert(target, *candidate);
      target.inputs.push_back(bias);
      candidate->has_bias = true;
      take_over(product, node.outputs[0], out, true);
      return true;
    }
    return false;
  }

  bool try_absorb_activation(const Node& node, std::vector<Node>& out) {
    if (node.inputs.empty()) return false;
    Candidate* candidate = sole_reader_candidate(node.inputs[0]);
    std::vector<Attribute> attributes;
    if (!candidate || !fused_activation_attributes(node, graph_, opset_, true, attributes)) return false;
    Node& target = out[candidate->index];
    convert(target, *candidate);
    target.attributes.insert(target.attributes.end(), attributes.begin(), attributes.end());
    take_over(node.inputs[0], node.outputs[0], out, false);  // nothing runs after the activation
    return true;
  }

  Graph& graph_;
  const InferredTypes& types_;
  int64_t opset_;
  std::map<std::string, int> reads_;
  std::map<std::string, Candidate> candidates_;  // output value -> its producer
  int absorbed_ = 0;
};

}  // namespace

int fuse_matmul_bias_activation(Graph& graph, Model& model, const InferredTypes& types) {
  MatMulFuser fuser(graph, types, model.opset_for("").value_or(0));
  const int absorbed = fuser.run();
  if (absorbed > 0 && !model.opset_for(kOnyxDomain)) model.opsets[kOnyxDomain] = 1;
  return absorbed;
}

}  // namespace onyx
