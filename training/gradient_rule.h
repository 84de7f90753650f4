// Gradient rules: how the backward pass of one op is written as ONNX nodes. The gradient
// builder (training), the gradient tape (eager mode) and custom ops (their optional gradient)
// all go through this one registry, so an op gets one rule for every mode.
//
// A rule sees the forward node, the names of its inputs and outputs, the names of the
// gradients flowing into its outputs, and which input gradients are wanted; it appends nodes
// through GradientRuleContext::add and sets the name of each wanted input gradient.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/common/macros.h"
#include "runtime/ir/graph.h"

namespace onyx::training {

class GradientRuleContext {
 public:
  virtual ~GradientRuleContext() = default;

  virtual const Node& node() const = 0;
  // Opset of the node's domain in the model being differentiated.
  virtual int64_t opset() const = 0;
  // Whether the rule may emit onyx's own training ops (GradientGraphOptions::onyx_ops).
  virtual bool onyx_ops() const { return false; }
  // Static type of a forward value (inputs and outputs of node()), unknown when not inferred.
  virtual const TypeInfo& type_of(const std::string& value_name) const = 0;
  // The value of a forward value fixed before any run (an initializer that is not trained, a
  // Constant node's output); nullptr otherwise. Rules read axes, shapes, pads, scales with it.
  virtual const Tensor* constant_value(const std::string& value_name) const { return nullptr; }
  // Name of forward output i, adding it to the forward node when the model omitted it (rules
  // that need MaxPool's indices, Dropout's mask or the loss ops' log-probabilities).
  // The default (for contexts that cannot change the forward node) throws.
  virtual std::string forward_output(size_t i);

  // For a node with subgraphs (If), node().inputs lists its own inputs followed by the
  // enclosing-scope values its bodies read, so rules address those gradients by index too.
  size_t input_count() const { return node().inputs.size(); }
  size_t output_count() const { return node().outputs.size(); }
  const std::string& input(size_t i) const { return node().inputs.at(i); }
  const std::string& output(size_t i) const { return node().outputs.at(i); }
  // Name of dLoss/d(output i); "" when no gradient flows into that output (treat it as zero).
  virtual std::string output_gradient(size_t i) const = 0;
  // Whether dLoss/d(input i) is needed (input i leads to a trainable parameter).
  virtual bool wants_input_gradient(size_t i) const = 0;
  // Records dLoss/d(input i). The value must have the input's shape (rules un-broadcast).
  virtual void set_input_gradient(size_t i, const std::string& value_name) = 0;

  // Appends a node of `output_count` outputs with fresh output names and returns those names.
  virtual std::vector<std::string> add_node(const std::string& op_type,
                                            std::vector<std::string> inputs,
                                            size_t output_count,
                                            std::vector<Attribute> attributes = {},
                                            const std::string& domain = "") = 0;
  // A constant (initializer) with a fresh name.
  virtual std::string add_constant(Tensor value) = 0;

  // For control flow (If): differentiates a subgraph of node() on its own. The result is a
  // graph without inputs that recomputes `body` and returns d(body outputs)/d(each of `wrt`),
  // where `wrt` are values of the enclosing scope that `body` reads and `output_gradients`
  // (one per body output, "" for none) are values of the enclosing scope. A value of `wrt`
  // that the body's outputs do not depend on gets zeros of its shape.
  // The default (for contexts without graphs, such as an eager tape) throws.
  virtual Graph differentiate_subgraph(const Graph& body,
                                       const std::vector<std::string>& output_gradients,
                                       const std::vector<std::string>& wrt);

  // One-output shorthand of add_node.
  std::string add(const std::string& op_type, std::vector<std::string> inputs,
                  std::vector<Attribute> attributes = {}, const std::string& domain = "") {
    return add_node(op_type, std::move(inputs), 1, std::move(attributes), domain).front();
  }
};

using GradientRule = std::function<void(GradientRuleContext&)>;

// Rules by (domain, op); "" and "ai.onnx" are one domain. One rule covers every opset of an op
// and reads ctx.opset() where the forward meaning changed.
class GradientRuleRegistry {
 public:
  static GradientRuleRegistry& global();
  // A registry whose lookups fall back to `fallback` (a session's own ops over the global ones).
  explicit GradientRuleRegistry(const GradientRuleRegistry* fallback = nullptr) : fallback_(fallback) {}
  // Throws if the op already has a rule here; a rule here shadows the fallback's.
  void add(const std::string& domain, const std::string& op_type, GradientRule rule);
  // This registry's rule, else the fallback's.
  const GradientRule* find(const std::string& domain, const std::string& op_type) const;
  // Removes a rule (a custom-op library that is unloaded takes its rules with it).
  void remove(const std::string& domain, const std::string& op_type);
  // This registry's ops and then its fallback's.
  std::vector<std::pair<std::string, std::string>> ops() const;

 private:
  const GradientRuleRegistry* fallback_ = nullptr;
  std::map<std::pair<std::string, std::string>, GradientRule> rules_;
};

namespace detail {
struct GradientRuleRegistrar {
  GradientRuleRegistrar(const char* domain, const char* op_type, GradientRule rule) {
    GradientRuleRegistry::global().add(domain, op_type, std::move(rule));
  }
};
}  // namespace detail

}  // namespace onyx::training

// ONYX_REGISTER_GRADIENT_RULE("", "Relu", relu_gradient);
#define ONYX_REGISTER_GRADIENT_RULE(domain, op_type, rule)                                   \
  static const ::onyx::training::detail::GradientRuleRegistrar ONYX_CONCAT(                   \
      onyx_gradient_rule_, __COUNTER__)(domain, op_type, rule)
