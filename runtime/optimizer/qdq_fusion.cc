#include "runtime/optimizer/qdq_fusion.h"

#include <cmath>
#include <map>

#include "onnx_ops/node_attributes.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/optimizer/value_reads.h"

namespace onyx {

namespace {

class QdqFuser {
 public:
  QdqFuser(Graph& graph, const InferredTypes& types) : graph_(graph), types_(types), reads_(count_value_reads(graph)) {
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      for (const std::string& output : graph.nodes[i].outputs) producers_[output] = i;
    }
  }

  int run() {
    int fused = 0;
    for (Node& node : graph_.nodes) {
      if (node.op_type != "QuantizeLinear" || !node.domain.empty() || node.inputs.size() < 2) continue;
      const Node* product = producer(node.inputs[0]);
      if (!product || reads_[node.inputs[0]] != 1) continue;
      std::optional<Node> replacement;
      if (product->op_type == "Conv") replacement = fuse_conv(*product, node);
      else if (product->op_type == "MatMul" || product->op_type == "Gemm") replacement = fuse_matmul(*product, node);
      if (!replacement) continue;
      node = std::move(*replacement);  // in the Q's place: every input is computed before it
      ++fused;
    }
    return fused;
  }

 private:
  // One DequantizeLinear's operands.
  struct Dequantized {
    std::string data, scale, zero;  // zero "" when absent
    int64_t axis = 1;
  };

  const Node* producer(const std::string& value) const {
    auto it = producers_.find(value);
    return it == producers_.end() ? nullptr : &graph_.nodes[it->second];
  }

  const Tensor* constant(const std::string& name) const { return constant_initializer(graph_, name); }

  std::optional<Dequantized> dequantized(const std::string& value) const {
    const Node* dq = producer(value);
    if (!dq || dq->op_type != "DequantizeLinear" || !dq->domain.empty() || dq->inputs.size() < 2) return std::nullopt;
    NodeAttributes attributes(*dq);
    if (attributes.has("block_size") && attributes.get_int("block_size", 0) != 0) return std::nullopt;
    Dequantized d{dq->inputs[0], dq->inputs[1], dq->has_input(2) ? dq->inputs[2] : "", attributes.get_int("axis", 1)};
    return d;
  }

  // Scale and zero point constants of one element each (activations' quantization), the zero
  // point of `type` when given.
  bool scalar_parameters(const std::string& scale, const std::string& zero, DataType type) const {
    const Tensor* s = constant(scale);
    if (!s || s->dtype() != DataType::kFloat || s->element_count() != 1) return false;
    if (zero.empty()) return type == DataType::kUInt8;  // an absent zero point means uint8
    const Tensor* z = constant(zero);
    return z && z->element_count() == 1 && z->dtype() == type;
  }

  // Constant int8 weights with constant scale and zero points, per tensor or along `axis`
  // (`count` entries).
  bool weight_parameters(const Dequantized& w, int64_t axis, int64_t count) const {
    const Tensor* data = constant(w.data);
    const Tensor* scale = constant(w.scale);
    const Tensor* zero = w.zero.empty() ? nullptr : constant(w.zero);
    if (!data || data->dtype() != DataType::kInt8 || !scale || scale->dtype() != DataType::kFloat) return false;
    if (!w.zero.empty() && (!zero || zero->dtype() != DataType::kInt8)) return false;
    if (scale->element_count() == 1) return !zero || zero->element_count() == 1;
    const int64_t dq_axis = w.axis < 0 ? w.axis + static_cast<int64_t>(data->rank()) : w.axis;
    return dq_axis == axis && scale->element_count() == count && (!zero || zero->element_count() == count);
  }

  // A quantized input's inferred element type.
  DataType type_of(const std::string& value) const {
    const TypeInfo* type = types_.find(value);
    return type && type->is_tensor() ? type->elem_type : DataType::kUndefined;
  }

  // An 8-bit activation quantized per tensor (the product's first input).
  bool is_quantized_activation(const Dequantized& x) const {
    const DataType type = type_of(x.data);
    return (type == DataType::kUInt8 || type == DataType::kInt8) && scalar_parameters(x.scale, x.zero, type);
  }

  // The QuantizeLinear's zero point ("" when absent), when it quantizes per tensor as QLinear
  // outputs are.
  std::optional<std::string> output_zero_point(const Node& quantize) const {
    const std::string y_zero = quantize.has_input(2) ? quantize.inputs[2] : "";
    const Tensor* zero = y_zero.empty() ? nullptr : constant(y_zero);
    const DataType y_type = y_zero.empty() ? DataType::kUInt8 : (zero ? zero->dtype() : DataType::kUndefined);
    if (!scalar_parameters(quantize.inputs[1], y_zero, y_type) || !output_attributes_plain(quantize)) return std::nullopt;
    return y_zero;
  }

  std::optional<Node> fuse_conv(const Node& conv, const Node& quantize) const {
    if (!conv.domain.empty() || conv.inputs.size() < 2) return std::nullopt;
    auto x = dequantized(conv.inputs[0]);
    auto w = dequantized(conv.inputs[1]);
    if (!x || !w || !is_quantized_activation(*x)) return std::nullopt;
    const Tensor* wq = constant(w->data);
    if (!wq || wq->rank() < 3 || !weight_parameters(*w, 0, wq->dim(0))) return std::nullopt;
    const std::optional<std::string> y_zero = output_zero_point(quantize);
    if (!y_zero) return std::nullopt;
    std::string bias;
    if (conv.has_input(2)) {
      auto b = dequantized(conv.inputs[2]);
      if (!b || !bias_matches(*b, *x, *w, wq->dim(0))) return std::nullopt;
      bias = b->data;
    }
    Node fused;
    fused.name = conv.name.empty() ? quantize.name : conv.name;
    fused.op_type = "QLinearConv";
    fused.inputs = {x->data, x->scale, x->zero, w->data, w->scale, w->zero, quantize.inputs[1], *y_zero};
    if (!bias.empty()) fused.inputs.push_back(bias);
    fused.outputs = quantize.outputs;
    fused.attributes = conv.attributes;
    return fused;
  }

  std::optional<Node> fuse_matmul(const Node& product, const Node& quantize) {
    if (!product.domain.empty() || product.inputs.size() < 2) return std::nullopt;
    bool trans_b = false;
    if (product.op_type == "Gemm") {
      NodeAttributes attributes(product);
      if (attributes.get_int("transA", 0) != 0 || attributes.get_float("alpha", 1.f) != 1.f || product.has_input(2)) {
        return std::nullopt;
      }
      trans_b = attributes.get_int("transB", 0) != 0;
    }
    auto a = dequantized(product.inputs[0]);
    auto b = dequantized(product.inputs[1]);
    if (!a || !b || !is_quantized_activation(*a)) return std::nullopt;
    const Tensor* bq = constant(b->data);
    if (!bq || bq->rank() != 2) return std::nullopt;
    // Per-column parameters: axis 1 of B, axis 0 of a transposed B.
    if (!weight_parameters(*b, trans_b ? 0 : 1, trans_b ? bq->dim(0) : bq->dim(1))) return std::nullopt;
    const std::optional<std::string> y_zero = output_zero_point(quantize);
    if (!y_zero) return std::nullopt;
    std::string b_name = b->data;
    if (trans_b) {
      b_name = b->data + "_transposed_for_" + (product.name.empty() ? quantize.outputs[0] : product.name);
      const int64_t n = bq->dim(0), k = bq->dim(1);
      Tensor t(DataType::kInt8, {k, n});
      for (int64_t j = 0; j < n; ++j) {
        for (int64_t i = 0; i < k; ++i) t.mutable_data<int8_t>()[i * n + j] = bq->data<int8_t>()[j * k + i];
      }
      graph_.set_initializer(b_name, std::move(t));
    }
    Node fused;
    fused.name = product.name.empty() ? quantize.name : product.name;
    fused.op_type = "QLinearMatMul";
    fused.inputs = {a->data, a->scale, a->zero, b_name, b->scale, b->zero, quantize.inputs[1], *y_zero};
    fused.outputs = quantize.outputs;
    return fused;
  }

  // A QuantizeLinear that saturates into its zero point's type as QLinear ops do (opset 19's
  // saturate attribute only concerns float8).
  static bool output_attributes_plain(const Node& quantize) {
    NodeAttributes attributes(quantize);
    return !attributes.has("block_size") || attributes.get_int("block_size", 0) == 0;
  }

  // An int32 bias with zero point 0 and scale x_scale * w_scale (to float rounding), as
  // QLinearConv's bias is defined.
  bool bias_matches(const Dequantized& b, const Dequantized& x, const Dequantized& w, int64_t maps) const {
    const Tensor* data = constant(b.data);
    const Tensor* scale = constant(b.scale);
    if (!data || data->dtype() != DataType::kInt32 || data->element_count() != maps || !scale ||
        scale->dtype() != DataType::kFloat) {
      return false;
    }
    if (!b.zero.empty()) {
      const Tensor* zero = constant(b.zero);
      if (!zero || zero->dtype() != DataType::kInt32) return false;
      for (int64_t i = 0; i < zero->element_count(); ++i) {
        if (zero->data<int32_t>()[i] != 0) return false;
      }
    }
    const float x_scale = constant(x.scale)->data<float>()[0];
    const Tensor* w_scale = constant(w.scale);
    for (int64_t m = 0; m < maps; ++m) {
      const float expected = x_scale * w_scale->data<float>()[w_scale->element_count() == 1 ? 0 : m];
      const float actual = scale->data<float>()[scale->element_count() == 1 ? 0 : m];
      if (std::abs(actual - expected) > 1e-6f * std::abs(expected)) return false;
    }
    return true;
  }

  Graph& graph_;
  const InferredTypes& types_;
  std::map<std::string, int> reads_;
  std::map<std::string, size_t> producers_;
};

}  // namespace

int fuse_qdq_products(Graph& graph, const InferredTypes& types) {
  return QdqFuser(graph, types).run();
}

}  // namespace onyx
