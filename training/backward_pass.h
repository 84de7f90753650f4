// The reverse-mode pass over one graph, shared by the gradient builder, the ONNX `Gradient`
// op and the differentiation of control-flow bodies: it finds the nodes that lie between the
// values to differentiate and the seeded values, walks them in reverse topological order,
// sums the gradients of values that fan out, and calls each node's rule from the
// GradientRuleRegistry of the context's OpRegistry (built-in and custom ops alike). The
// backward nodes and their constants are appended to the graph.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "runtime/extensions/op_registry.h"
#include "runtime/ir/graph.h"
#include "runtime/session/type_inference.h"

namespace onyx::training {

// The oldest ai.onnx opset whose models can be differentiated: the backward nodes need
// opset-11 forms (Slice and Pad with inputs, Range, ScatterElements, NumPy broadcasting).
constexpr int64_t kMinGradientOpset = 11;
// Throws kNotImplemented when the model imports an older ai.onnx opset, suggesting the ONNX
// version converter.
void check_gradient_opset(const Model& model);

// Fresh value and node names, unique across a model and all of its subgraphs.
class NameSource {
 public:
  explicit NameSource(const Graph& graph);
  std::string fresh(const std::string& hint);
  void reserve(const std::string& name) { used_.insert(name); }

 private:
  void collect(const Graph& graph);
  std::set<std::string> used_;
  int64_t counter_ = 0;
};

struct BackwardRequest {
  // Gradient flowing into a value (the loss's seed, a Gradient op's ones, a body output's
  // gradient from the enclosing graph): value -> name of its gradient.
  // A value may appear more than once (its gradients add up).
  std::vector<std::pair<std::string, std::string>> seeds;
  std::vector<std::string> wrt;  // values to differentiate with respect to
  std::set<std::string> stops;   // values treated as constants (no gradient flows through)
};

struct BackwardContext {
  const Model& model;
  NameSource& names;
  // Types of the enclosing scopes' values, for subgraphs (null for a main graph).
  const InferredTypes* outer_types = nullptr;
  // Constants known beyond the graph's initializers and Constant nodes: the enclosing scopes'
  // (for subgraphs) or the values constant folding computes (see static_facts).
  std::function<const Tensor*(const std::string&)> outer_constant;
  // Where gradient and shape rules come from: a session's registry sees its custom ops.
  const OpRegistry* ops = &OpRegistry::global();
  bool onyx_ops = false;  // GradientGraphOptions::onyx_ops
};

// What is known about a model before it runs: its types inferred after constant folding (so
// Shape -> Gather -> Concat -> Reshape chains give static shapes) and the non-float values
// that folding computes (shapes, axes), by name. The model itself is not changed.
struct StaticFacts {
  InferredTypes types;
  std::map<std::string, Tensor> constants;
};
StaticFacts static_facts(const Model& model, const OpRegistry& ops = OpRegistry::global());

// `graph` must be topologically sorted and `types` inferred for it. Returns, per value of
// `wrt`, the name of its gradient, or "" where no seeded value depends on it.
std::map<std::string, std::string> append_backward(Graph& graph, const InferredTypes& types,
                                                   const BackwardRequest& request,
                                                   BackwardContext& context);

}  // namespace onyx::training
