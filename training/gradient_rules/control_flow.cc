// Gradient rule of If: a backward If on the same condition whose branches recompute the taken
// branch and differentiate it (GradientRuleContext::differentiate_subgraph); each branch
// returns the gradients of the enclosing-scope values it reads (zeros for the ones it does not).
#include <memory>

#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {
namespace {

void if_rule(GradientRuleContext& ctx) {
  // node().inputs: the condition, then the values the branches read from this scope.
  std::vector<std::string> wrt;
  std::vector<size_t> wrt_index;
  for (size_t i = 1; i < ctx.input_count(); ++i) {
    if (ctx.wants_input_gradient(i)) {
      wrt.push_back(ctx.input(i));
      wrt_index.push_back(i);
    }
  }
  if (wrt.empty()) return;
  std::vector<std::string> output_gradients;
  for (size_t k = 0; k < ctx.output_count(); ++k) output_gradients.push_back(ctx.output_gradient(k));
  NodeAttributes attributes(ctx.node());
  std::vector<Attribute> branches;
  for (const char* name : {"then_branch", "else_branch"}) {
    Attribute branch;
    branch.name = name;
    branch.kind = Attribute::Kind::kGraph;
    branch.g = std::make_shared<Graph>(ctx.differentiate_subgraph(attributes.require_graph(name), output_gradients, wrt));
    branches.push_back(std::move(branch));
  }
  std::vector<std::string> gradients = ctx.add_node("If", {ctx.input(0)}, wrt.size(), branches);
  for (size_t k = 0; k < wrt.size(); ++k) ctx.set_input_gradient(wrt_index[k], gradients[k]);
}

ONYX_REGISTER_GRADIENT_RULE("", "If", if_rule);

}  // namespace
}  // namespace onyx::training
