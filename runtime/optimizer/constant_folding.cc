#include "runtime/optimizer/constant_folding.h"

#include <algorithm>
#include <set>

#include "runtime/session/node_call.h"

namespace onyx {

namespace {

constexpr int64_t kMaxFoldedBytes = 64 << 20;  // don't bloat the session with huge constants

bool is_foldable_op(const Node& node) {
  static const std::set<std::string> kNonDeterministic = {
      "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
      "Bernoulli", "Dropout"};
  if (!node.domain.empty()) return false;
  if (kNonDeterministic.count(node.op_type)) return false;
  for (const Attribute& attribute : node.attributes) {
    if (attribute.g || !attribute.graphs.empty()) return false;
  }
  return true;
}

// True when type inference already says an output is too big to keep as a constant: such a
// node is not even run (a ConstantOfShape of [2^31, 2^31] must not be attempted here).
bool has_output_over_fold_limit(const Node& node, const InferredTypes& types) {
  for (const auto& output : node.outputs) {
    const TypeInfo* type = output.empty() ? nullptr : types.find(output);
    if (type == nullptr || !type->has_static_shape() || type->elem_type == DataType::kUndefined) continue;
    Shape shape = type->static_shape();
    int64_t count = 1;
    for (int64_t dim : shape) {
      auto product = multiply_dims(count, std::max<int64_t>(dim, 0));
      if (!product) return true;
      count = *product;
    }
    std::optional<size_t> bytes = storage_bytes(type->elem_type, count);
    if (!bytes || *bytes > static_cast<size_t>(kMaxFoldedBytes)) return true;
  }
  return false;
}

void collect_reads(const Graph& graph, std::set<std::string>& reads) {
  for (const Node& node : graph.nodes) {
    reads.insert(node.inputs.begin(), node.inputs.end());
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g) collect_reads(*attribute.g, reads);
      for (const auto& sub : attribute.graphs) collect_reads(*sub, reads);
    }
  }
  for (const auto& output : graph.outputs) reads.insert(output.name);
}

// Shape/Size of a value whose shape inference knows statically.
std::optional<Tensor> fold_from_type(const Node& node, const InferredTypes& types, int64_t opset) {
  if (!node.domain.empty() || (node.op_type != "Shape" && node.op_type != "Size")) return std::nullopt;
  const TypeInfo* type = node.inputs.empty() ? nullptr : types.find(node.inputs[0]);
  if (type == nullptr || !type->has_static_shape()) return std::nullopt;
  Shape shape = type->static_shape();
  if (node.op_type == "Size") return Tensor::scalar<int64_t>(shape_element_count(shape));
  auto rank = static_cast<int64_t>(shape.size());
  int64_t start = 0;
  int64_t end = rank;
  if (opset >= 15) {
    NodeAttributes attributes(node);
    start = attributes.get_int("start", 0);
    end = attributes.get_int("end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
  }
  std::vector<int64_t> dims(shape.begin() + start, shape.begin() + end);
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(dims.size())}, dims);
}

}  // namespace

int fold_constants(Graph& graph, const Model& model, const InferredTypes& types) {
  std::set<std::string> constants;
  for (const auto& [name, tensor] : graph.initializers) {
    if (graph.find_input(name) == nullptr) constants.insert(name);
  }
  std::set<std::string> graph_outputs;
  for (const auto& output : graph.outputs) graph_outputs.insert(output.name);

  int folded = 0;
  std::vector<Node> kept;
  for (Node& node : graph.nodes) {
    int64_t opset = model.opset_for(node.domain).value_or(0);
    std::vector<Value> results;
    if (auto from_type = fold_from_type(node, types, opset)) {
      results.push_back(*from_type);
    } else {
      bool all_constant = is_foldable_op(node) && !has_output_over_fold_limit(node, types);
      for (const auto& input : node.inputs) {
        if (!input.empty() && !constants.count(input)) all_constant = false;
      }
      if (!all_constant) {
        kept.push_back(std::move(node));
        continue;
      }
      std::vector<Value> inputs;
      for (const auto& input : node.inputs) {
        inputs.push_back(input.empty() ? Value() : Value(graph.initializers.at(input)));
      }
      try {
        results = call_node_on_cpu(node, opset, inputs);
      } catch (const Error&) {
        // Leave it to the session: it reports missing kernels and bad inputs with full context.
        kept.push_back(std::move(node));
        continue;
      }
    }
    bool usable = results.size() == node.outputs.size();
    for (size_t i = 0; usable && i < results.size(); ++i) {
      if (node.outputs[i].empty()) continue;
      usable = results[i].is_tensor() && results[i].tensor().byte_size() <= kMaxFoldedBytes &&
               !graph_outputs.count(node.outputs[i]);
    }
    if (!usable) {
      kept.push_back(std::move(node));
      continue;
    }
    for (size_t i = 0; i < results.size(); ++i) {
      if (node.outputs[i].empty()) continue;
      graph.set_initializer(node.outputs[i], results[i].tensor());
      constants.insert(node.outputs[i]);
    }
    ++folded;
  }
  graph.nodes = std::move(kept);
  return folded;
}

int remove_dead_nodes(Graph& graph) {
  std::set<std::string> needed;
  for (const auto& output : graph.outputs) needed.insert(output.name);
  int removed = 0;
  std::vector<Node> kept;
  for (auto it = graph.nodes.rbegin(); it != graph.nodes.rend(); ++it) {
    bool live = false;
    for (const auto& output : it->outputs) live = live || (!output.empty() && needed.count(output));
    if (!live) {
      ++removed;
      continue;
    }
    std::set<std::string> reads(it->inputs.begin(), it->inputs.end());
    for (const Attribute& attribute : it->attributes) {
      if (attribute.g) collect_reads(*attribute.g, reads);
      for (const auto& sub : attribute.graphs) collect_reads(*sub, reads);
    }
    needed.insert(reads.begin(), reads.end());
    kept.push_back(std::move(*it));
  }
  std::reverse(kept.begin(), kept.end());
  graph.nodes = std::move(kept);
  // Initializers nothing reads any more (folded intermediates) are dropped too.
  std::vector<std::string> order;
  for (const auto& name : graph.initializer_order) {
    if (needed.count(name) || graph.find_input(name) != nullptr) order.push_back(name);
    else graph.initializers.erase(name);
  }
  graph.initializer_order = std::move(order);
  return removed;
}

}  // namespace onyx
