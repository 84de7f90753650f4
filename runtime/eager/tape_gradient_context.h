// The gradient-rule context of GradientTape: the rules of training/gradient_rule.h written for
// graphs run here on tensors. Names stand for tensors (forward values on the tape, gradients
// and intermediates in GradientState), and add_node runs the op through the eager dispatcher,
// which traces it instead when the tape lives inside onyx::function.
#pragma once

#include <map>
#include <set>
#include <string>

#include "runtime/eager/gradient_tape.h"
#include "training/gradient_rule.h"

namespace onyx::eager {

// What one GradientTape::gradient call accumulates.
struct GradientState {
  std::map<std::string, Tensor> gradients;  // forward value name -> d(target)/d(value) so far
  std::map<std::string, Value> scratch;     // values the rules made
  size_t next_name = 0;
};

class TapeGradientContext final : public training::GradientRuleContext {
 public:
  TapeGradientContext(GradientTape& tape, const GradientTape::Entry& entry,
                      const std::set<std::string>& leads_to_source, GradientState& state);

  const Node& node() const override { return node_; }
  int64_t opset() const override { return entry_.op->opset(); }
  const TypeInfo& type_of(const std::string& value_name) const override;
  std::string output_gradient(size_t i) const override;
  bool wants_input_gradient(size_t i) const override;
  void set_input_gradient(size_t i, const std::string& value_name) override;
  std::vector<std::string> add_node(const std::string& op_type, std::vector<std::string> inputs,
                                    size_t output_count, std::vector<Attribute> attributes = {},
                                    const std::string& domain = "") override;
  std::string add_constant(Tensor value) override;

  // Every forward value is known here: concrete tensors are their own constants.
  const Tensor* constant_value(const std::string& value_name) const override;
  // Output i of the forward node, recomputing the node with that output when it was not asked for.
  std::string forward_output(size_t i) override;
  // Eager control flow is unrolled on the tape, so there is never a subgraph to differentiate.
  Graph differentiate_subgraph(const Graph& body, const std::vector<std::string>& output_gradients,
                               const std::vector<std::string>& wrt) override;

 private:
  const Value& value(const std::string& name) const;
  std::string bind(Value value);

  GradientTape& tape_;
  const GradientTape::Entry& entry_;
  const std::set<std::string>& leads_to_source_;
  GradientState& state_;
  Node node_;
  mutable std::map<std::string, TypeInfo> types_;
};

}  // namespace onyx::eager
