#include "training/gradient_rule.h"

#include "runtime/common/error.h"

namespace onyx::training {

std::string GradientRuleContext::forward_output(size_t i) {
  if (i < node().outputs.size() && !node().outputs[i].empty()) return node().outputs[i];
  throw_error(ErrorCode::kNotImplemented, "gradient of ", node().describe(), ": needs its output ", i,
              ", which this context cannot add");
}

Graph GradientRuleContext::differentiate_subgraph(const Graph&, const std::vector<std::string>&,
                                                  const std::vector<std::string>&) {
  throw_error(ErrorCode::kNotImplemented, "gradient of ", node().describe(),
              ": differentiating subgraphs is not available in this context");
}

GradientRuleRegistry& GradientRuleRegistry::global() {
  static GradientRuleRegistry registry;
  return registry;
}

void GradientRuleRegistry::add(const std::string& domain, const std::string& op_type,
                               GradientRule rule) {
  auto key = std::make_pair(canonical_domain(domain), op_type);
  if (rules_.count(key)) {
    throw_error(ErrorCode::kInvalidArgument, "a gradient rule for " + op_type + " (domain " +
                                                 display_domain(key.first) +
                                                 ") is already registered");
  }
  rules_.emplace(std::move(key), std::move(rule));
}

const GradientRule* GradientRuleRegistry::find(const std::string& domain,
                                               const std::string& op_type) const {
  auto it = rules_.find({canonical_domain(domain), op_type});
  if (it != rules_.end()) return &it->second;
  return fallback_ ? fallback_->find(domain, op_type) : nullptr;
}

void GradientRuleRegistry::remove(const std::string& domain, const std::string& op_type) {
  rules_.erase({canonical_domain(domain), op_type});
}

std::vector<std::pair<std::string, std::string>> GradientRuleRegistry::ops() const {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& [key, rule] : rules_) keys.push_back(key);
  if (fallback_) {
    for (auto& key : fallback_->ops()) keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace onyx::training
