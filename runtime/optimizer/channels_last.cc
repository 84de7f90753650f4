#include "runtime/optimizer/channels_last.h"

#include <cmath>
#include <limits>
#include <set>

#include "onnx_ops/op_schema.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/optimizer/activation_fusion.h"
#include "runtime/optimizer/value_reads.h"

namespace onyx {

namespace {

// Elementwise ops of one data input (input 0); any other input must be a one-element constant.
const std::set<std::string> kUnaryOps = {
    "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu", "Selu", "Celu",
    "Softplus", "Softsign", "Mish", "Gelu", "ThresholdedRelu", "Clip", "Neg", "Abs", "Exp", "Log",
    "Erf", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Identity",
    // Quantized per tensor (their scale and zero point one-element constants), as between the
    // QLinearConvs of a quantized network.
    "QuantizeLinear", "DequantizeLinear"};
// Elementwise ops of several data inputs. Permuting every operand's dims the same way commutes
// with broadcasting when all have the same rank, so any rank-r operand may be transposed in.
const std::set<std::string> kMultiInputOps = {"Add", "Sub", "Mul", "Div", "Min", "Max", "Sum", "Mean"};

std::vector<int64_t> to_channels_last_perm(int64_t rank) {
  std::vector<int64_t> perm{0};
  for (int64_t d = 2; d < rank; ++d) perm.push_back(d);
  perm.push_back(1);
  return perm;
}

std::vector<int64_t> to_channels_first_perm(int64_t rank) {
  std::vector<int64_t> perm{0, rank - 1};
  for (int64_t d = 1; d < rank - 1; ++d) perm.push_back(d);
  return perm;
}

void collect_names(const Graph& graph, std::set<std::string>& names) {
  for (const auto& input : graph.inputs) names.insert(input.name);
  for (const auto& [name, tensor] : graph.initializers) names.insert(name);
  for (const Node& node : graph.nodes) {
    names.insert(node.outputs.begin(), node.outputs.end());
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g) collect_names(*attribute.g, names);
      for (const auto& sub : attribute.graphs) collect_names(*sub, names);
    }
  }
}

class ChannelsLastRewriter {
 public:
  ChannelsLastRewriter(Graph& graph, const InferredTypes& types, int64_t opset)
      : graph_(graph), types_(types), opset_(opset) {
    reads_ = count_value_reads(graph);
    collect_names(graph, names_);
  }

  int run() {
    for (Node& node : graph_.nodes) {
      if (is_convertible_conv(node)) {
        convert_conv(node);
      } else if (is_convertible_qlinear_conv(node)) {
        emit_channels_last_conv(node, "NhwcQLinearConv");
      } else if (!try_fuse_activation(node) && !try_fuse_swish(node) && !try_fuse_residual(node) && !try_pool(node) &&
                 !try_concat(node) && !try_batch_norm(node) && !try_twin(node)) {
        emit(std::move(node));
      }
    }
    std::vector<Node> nodes;
    for (size_t i = 0; i < out_.size(); ++i) {
      if (!dropped_.count(i)) nodes.push_back(std::move(out_[i]));
    }
    graph_.nodes = std::move(nodes);
    return converted_;
  }

 private:
  struct ChannelsLastValue {
    std::string name;
    int64_t rank;
  };

  int64_t rank_of(const std::string& name) const {
    const TypeInfo* type = types_.find(name);
    return type && type->is_tensor() && type->shape ? static_cast<int64_t>(type->shape->size()) : -1;
  }

  bool is_float(const std::string& name) const {
    const TypeInfo* type = types_.find(name);
    return type && type->is_tensor() && type->elem_type == DataType::kFloat;
  }

  bool is_constant(const std::string& name) const {
    return graph_.initializers.count(name) && graph_.find_input(name) == nullptr;
  }

  bool is_one_element_constant(const std::string& name) const {
    return is_constant(name) && graph_.initializers.at(name).element_count() == 1;
  }

  std::string fresh_name(const std::string& base) {
    std::string name = base + "/channels_last";
    for (int k = 1; names_.count(name); ++k) name = base + "/channels_last_" + std::to_string(k);
    names_.insert(name);
    return name;
  }

  size_t emit(Node node) {
    out_.push_back(std::move(node));
    return out_.size() - 1;
  }

  size_t emit_transpose(const std::string& from, const std::string& to, std::vector<int64_t> perm) {
    Node node;
    node.name = to + "/transpose";
    node.op_type = "Transpose";
    node.inputs = {from};
    node.outputs = {to};
    node.attributes.push_back(make_attribute("perm", std::move(perm)));
    return emit(std::move(node));
  }

  // The channels-last twin of `name`, transposing it in when it has none yet.
  const std::string& channels_last(const std::string& name, int64_t rank) {
    auto it = channels_last_.find(name);
    if (it == channels_last_.end()) {
      std::string twin = fresh_name(name);
      emit_transpose(name, twin, to_channels_last_perm(rank));
      it = channels_last_.emplace(name, ChannelsLastValue{twin, rank}).first;
    }
    return it->second.name;
  }

  // Records `twin` as the channels-last form of `name`, which a Transpose back then produces.
  void produce(const std::string& name, const std::string& twin, int64_t rank) {
    channels_last_[name] = {twin, rank};
    back_transpose_[name] = emit_transpose(twin, name, to_channels_first_perm(rank));
  }

  bool is_convertible_conv(const Node& node) const {
    if (!node.domain.empty() || node.op_type != "Conv" || node.outputs.size() != 1 || !node.has_input(1)) {
      return false;
    }
    const int64_t rank = rank_of(node.inputs[0]);
    if (rank < 3 || rank > 5 || !is_float(node.inputs[0]) || !is_constant(node.inputs[1])) return false;
    const Tensor& w = graph_.initializers.at(node.inputs[1]);
    if (w.dtype() != DataType::kFloat || static_cast<int64_t>(w.rank()) != rank) return false;
    return !node.has_input(2) || is_constant(node.inputs[2]);
  }

  // Emits `node`'s channels-last twin, the com.onyx op `op_type` (X transposed in, Y made
  // channels-last); returns its output and its index in out_.
  std::pair<std::string, size_t> emit_channels_last_conv(const Node& node, const char* op_type) {
    const int64_t rank = rank_of(node.inputs[0]);
    Node conv = node;
    conv.domain = kOnyxDomain;
    conv.op_type = op_type;
    conv.inputs[0] = channels_last(node.inputs[0], rank);
    const std::string twin = fresh_name(node.outputs[0]);
    conv.outputs = {twin};
    const size_t index = emit(std::move(conv));
    produce(node.outputs[0], twin, rank);
    ++converted_;
    return {twin, index};
  }

  void convert_conv(const Node& node) {
    auto [twin, index] = emit_channels_last_conv(node, "NhwcConv");
    unfused_convs_[twin] = index;  // an activation or a residual may still join it
  }

  // A QLinearConv whose weights, scales, zero points and bias are constants (what oneDNN's
  // int8 convolution takes) on an 8-bit X of rank 3 to 5.
  bool is_convertible_qlinear_conv(const Node& node) const {
    if (!node.domain.empty() || node.op_type != "QLinearConv" || node.outputs.size() != 1 || node.inputs.size() < 8) {
      return false;
    }
    const int64_t rank = rank_of(node.inputs[0]);
    const TypeInfo* x = types_.find(node.inputs[0]);
    if (rank < 3 || rank > 5 || !x || !x->is_tensor() ||
        (x->elem_type != DataType::kUInt8 && x->elem_type != DataType::kInt8)) {
      return false;
    }
    for (size_t i = 1; i < node.inputs.size(); ++i) {
      if (!node.inputs[i].empty() && !is_constant(node.inputs[i])) return false;
    }
    const Tensor& w = graph_.initializers.at(node.inputs[3]);
    return w.dtype() == DataType::kInt8 && static_cast<int64_t>(w.rank()) == rank;
  }


  // SiLU written out, Mul(y, Sigmoid(y)) with y a NhwcConv's output read by nothing else, runs
  // inside the convolution as oneDNN's swish.
  bool try_fuse_swish(const Node& node) {
    if (!node.domain.empty() || node.op_type != "Mul" || node.inputs.size() != 2 || node.outputs.size() != 1) {
      return false;
    }
    for (int first = 0; first < 2; ++first) {
      const std::string& y = node.inputs[first];
      const std::string& s = node.inputs[1 - first];
      auto sigmoid = sigmoids_.find(s);
      auto twin = channels_last_.find(y);
      if (sigmoid == sigmoids_.end() || sigmoid->second.input != y || twin == channels_last_.end()) continue;
      auto conv = unfused_convs_.find(twin->second.name);
      if (conv == unfused_convs_.end() || reads_[y] != 2 || reads_[s] != 1) continue;
      out_[conv->second].attributes.push_back(make_attribute("activation", "Swish"));
      unfused_convs_.erase(conv);
      dropped_.insert({sigmoid->second.index, back_transpose_.at(s), back_transpose_.at(y)});
      produce(node.outputs[0], twin->second.name, twin->second.rank);
      return true;
    }
    return false;
  }

  // Relu, LeakyRelu, HardSwish or a constant Clip that alone reads a NhwcConv's output runs
  // inside it.
  bool try_fuse_activation(const Node& node) {
    if (node.inputs.empty()) return false;
    const std::string& x = node.inputs[0];
    auto twin = channels_last_.find(x);
    if (twin == channels_last_.end() || reads_[x] != 1) return false;
    auto conv = unfused_convs_.find(twin->second.name);
    if (conv == unfused_convs_.end()) return false;
    std::vector<Attribute> attributes;
    if (!fused_activation_attributes(node, graph_, opset_, false, attributes)) return false;
    Node& target = out_[conv->second];
    target.attributes.insert(target.attributes.end(), attributes.begin(), attributes.end());
    unfused_convs_.erase(conv);
    // The convolution's own output is now activated: its Transpose back must go (x had no
    // other reader), and the activation's output takes over the channels-last value.
    dropped_.insert(back_transpose_.at(x));
    produce(node.outputs[0], twin->second.name, twin->second.rank);
    return true;
  }

  // Whether adding `skip` to the convolution output `y` (same rank) can be done inside the
  // convolution: the sum must not be larger than y where it is known to be (a statically
  // planned buffer of y's size). Dims unknown here are allocated at run time, and the kernel
  // broadcasts a smaller residual itself.
  bool fits_in_conv_output(const std::string& y, const std::string& skip) const {
    const TypeInfo* y_type = types_.find(y);
    const TypeInfo* skip_type = types_.find(skip);
    if (!y_type || !skip_type || !y_type->shape || !skip_type->shape || !is_float(skip)) return false;
    const std::vector<Dim>& y_dims = *y_type->shape;
    const std::vector<Dim>& skip_dims = *skip_type->shape;
    if (y_dims.size() != skip_dims.size()) return false;
    for (size_t d = 0; d < y_dims.size(); ++d) {
      const bool skip_is_one = skip_dims[d].is_known() && skip_dims[d].value == 1;
      if (y_dims[d].is_known() && y_dims[d].value == 1 && !skip_is_one) return false;
    }
    return true;
  }

  // Add(y, skip) with y a NhwcConv's output read by nothing else (a residual block's skip
  // connection) runs inside the convolution as a oneDNN binary post-op, so an activation after
  // it still fuses. The convolution moves down to the Add's place: the skip may be computed
  // after it.
  bool try_fuse_residual(const Node& node) {
    if (!node.domain.empty() || node.op_type != "Add" || node.inputs.size() != 2 || node.outputs.size() != 1) {
      return false;
    }
    for (int first = 0; first < 2; ++first) {
      const std::string& y = node.inputs[first];
      const std::string& skip = node.inputs[1 - first];
      auto twin = channels_last_.find(y);
      if (y == skip || twin == channels_last_.end() || reads_[y] != 1) continue;
      auto conv = unfused_convs_.find(twin->second.name);
      if (conv == unfused_convs_.end() || out_[conv->second].inputs.size() > 3 || !fits_in_conv_output(y, skip)) {
        continue;
      }
      const ChannelsLastValue output = twin->second;
      Node fused = std::move(out_[conv->second]);
      dropped_.insert({conv->second, back_transpose_.at(y)});
      fused.inputs.resize(3);  // X, W and B ("" when absent), then the residual
      fused.inputs.push_back(channels_last(skip, output.rank));
      unfused_convs_[output.name] = emit(std::move(fused));  // an activation may still follow
      produce(node.outputs[0], output.name, output.rank);
      return true;
    }
    return false;
  }

  // MaxPool (without Indices), AveragePool and their Global forms continue a chain.
  bool try_pool(const Node& node) {
    static const std::set<std::string> kPools = {"MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool"};
    if (!node.domain.empty() || !kPools.count(node.op_type) || node.inputs.size() != 1 || node.outputs.empty()) {
      return false;
    }
    for (size_t i = 1; i < node.outputs.size(); ++i) {
      if (!node.outputs[i].empty()) return false;
    }
    auto it = channels_last_.find(node.inputs[0]);
    if (it == channels_last_.end() || !is_float(node.inputs[0])) return false;
    const ChannelsLastValue input = it->second;
    Node twin = node;
    twin.domain = kOnyxDomain;
    twin.op_type = "Nhwc" + node.op_type;
    twin.inputs = {input.name};
    twin.outputs = {fresh_name(node.outputs[0])};
    const std::string output = twin.outputs[0];
    emit(std::move(twin));
    produce(node.outputs[0], output, input.rank);
    return true;
  }

  // The rank of a channels-last chain among `inputs` (-1: none) when every other input has that
  // rank and can be transposed in.
  int64_t chain_rank(const std::vector<std::string>& inputs) const {
    int64_t rank = -1;
    for (const auto& input : inputs) {
      if (auto it = channels_last_.find(input); it != channels_last_.end()) rank = it->second.rank;
    }
    for (const auto& input : inputs) {
      if (rank < 0 || input.empty() || (!channels_last_.count(input) && rank_of(input) != rank)) return -1;
    }
    return rank;
  }

  // Concat joins channels-last values along the axis the original axis moved to.
  bool try_concat(const Node& node) {
    if (!node.domain.empty() || node.op_type != "Concat" || node.outputs.size() != 1) return false;
    const int64_t rank = chain_rank(node.inputs);
    if (rank < 0) return false;
    int64_t axis = NodeAttributes(node).get_int("axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return false;  // the Concat kernel reports it
    Node twin = node;
    twin.attributes.clear();
    twin.attributes.push_back(make_attribute("axis", axis == 0 ? int64_t{0} : axis == 1 ? rank - 1 : axis - 1));
    for (size_t i = 0; i < node.inputs.size(); ++i) twin.inputs[i] = channels_last(node.inputs[i], rank);
    twin.outputs = {fresh_name(node.outputs[0])};
    const std::string output = twin.outputs[0];
    emit(std::move(twin));
    produce(node.outputs[0], output, rank);
    return true;
  }

  // An inference BatchNormalization with constant parameters is x·s + b per channel: with the
  // channels last, [C]-shaped s and b broadcast along the last axis as they should.
  bool try_batch_norm(const Node& node) {
    if (!node.domain.empty() || node.op_type != "BatchNormalization" || node.inputs.size() != 5) return false;
    for (size_t i = 1; i < node.outputs.size(); ++i) {
      if (!node.outputs[i].empty()) return false;
    }
    auto it = channels_last_.find(node.inputs[0]);
    if (it == channels_last_.end() || !is_float(node.inputs[0])) return false;
    NodeAttributes attributes(node);
    if (attributes.get_int("training_mode", 0) != 0 || attributes.get_int("spatial", 1) == 0) return false;
    const TypeInfo* x = types_.find(node.inputs[0]);
    if (!x || !x->shape || !(*x->shape)[1].is_known()) return false;
    const int64_t channels = (*x->shape)[1].value;
    std::vector<const float*> p;
    for (size_t i = 1; i < 5; ++i) {
      if (!is_constant(node.inputs[i])) return false;
      const Tensor& t = graph_.initializers.at(node.inputs[i]);
      if (t.dtype() != DataType::kFloat || t.rank() != 1 || t.dim(0) != channels) return false;
      p.push_back(t.data<float>());
    }
    const double epsilon = attributes.get_float("epsilon", 1e-5f);
    Tensor scale(DataType::kFloat, {channels}), shift(DataType::kFloat, {channels});
    for (int64_t c = 0; c < channels; ++c) {
      const double s = p[0][c] / std::sqrt(static_cast<double>(p[3][c]) + epsilon);
      scale.mutable_data<float>()[c] = static_cast<float>(s);
      shift.mutable_data<float>()[c] = static_cast<float>(p[1][c] - p[2][c] * s);
    }
    const std::string scale_name = fresh_name(node.outputs[0] + "/scale"), shift_name = fresh_name(node.outputs[0] + "/shift");
    graph_.set_initializer(scale_name, std::move(scale));
    graph_.set_initializer(shift_name, std::move(shift));
    const ChannelsLastValue input = it->second;
    const std::string scaled = fresh_name(node.outputs[0] + "/scaled"), output = fresh_name(node.outputs[0]);
    Node mul;
    mul.name = node.name + "/scale";
    mul.op_type = "Mul";
    mul.inputs = {input.name, scale_name};
    mul.outputs = {scaled};
    emit(std::move(mul));
    Node add;
    add.name = node.name + "/shift";
    add.op_type = "Add";
    add.inputs = {scaled, shift_name};
    add.outputs = {output};
    emit(std::move(add));
    produce(node.outputs[0], output, input.rank);
    return true;
  }

  // An elementwise op reading channels-last values runs channels-last too.
  bool try_twin(const Node& node) {
    if (!node.domain.empty() || node.outputs.size() != 1 || node.inputs.empty()) return false;
    const bool unary = kUnaryOps.count(node.op_type) > 0;
    if (!unary && !kMultiInputOps.count(node.op_type)) return false;
    int64_t rank = -1;
    for (const auto& input : node.inputs) {  // one input already channels-last sets the rank
      if (auto it = channels_last_.find(input); it != channels_last_.end()) rank = it->second.rank;
    }
    if (rank < 0 || (unary && !channels_last_.count(node.inputs[0]))) return false;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const std::string& input = node.inputs[i];
      if (input.empty() || channels_last_.count(input) || is_one_element_constant(input)) continue;
      if (unary || rank_of(input) != rank) return false;  // right-aligned broadcasting differs
    }
    Node twin = node;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const std::string& input = node.inputs[i];
      if (input.empty() || is_one_element_constant(input)) continue;
      twin.inputs[i] = channels_last(input, rank);
    }
    twin.outputs = {fresh_name(node.outputs[0])};
    const std::string output = twin.outputs[0];
    const size_t index = emit(std::move(twin));
    if (node.op_type == "Sigmoid") sigmoids_[node.outputs[0]] = {node.inputs[0], index};
    produce(node.outputs[0], output, rank);
    return true;
  }

  struct SigmoidTwin {
    std::string input;  // the original value it reads
    size_t index;       // its twin in out_
  };

  Graph& graph_;
  const InferredTypes& types_;
  int64_t opset_;
  std::map<std::string, int> reads_;  // readers of each original value (graph outputs count)
  std::set<std::string> names_;
  std::map<std::string, ChannelsLastValue> channels_last_;  // original value -> its twin
  std::map<std::string, size_t> back_transpose_;             // original value -> its producer
  std::map<std::string, size_t> unfused_convs_;              // NhwcConv output -> node index
  std::map<std::string, SigmoidTwin> sigmoids_;              // Sigmoid output -> its twin
  std::vector<Node> out_;
  std::set<size_t> dropped_;
  int converted_ = 0;
};

}  // namespace

int convert_to_channels_last(Graph& graph, Model& model, const InferredTypes& types) {
  ChannelsLastRewriter rewriter(graph, types, model.opset_for("").value_or(0));
  int converted = rewriter.run();
  if (converted > 0 && !model.opset_for(kOnyxDomain)) model.opsets[kOnyxDomain] = 1;
  return converted;
}

}  // namespace onyx
