// Everything onyx looks up about an op, in one object: kernels per provider, shape rules and
// gradient rules. The global registry holds the built-in ops and the custom ops registered for
// the whole process; a session makes a registry of its own over the global one for the custom
// ops given to that session only. Each of the three registries falls back to its parent's, so
// every lookup (type inference, kernel resolution in graphs and subgraphs, node calls, gradient
// rules) takes one path whether the op is built in, global or session-local.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/extensions/custom_op.h"

namespace onyx {

class OpRegistry {
 public:
  // The process-wide registry: views of KernelRegistry::global(), ShapeRuleRegistry::global()
  // and GradientRuleRegistry::global(). Registering into it is not synchronized with sessions
  // being created on other threads: register global ops at startup.
  static OpRegistry& global();
  // A registry of its own whose lookups fall back to `parent` (not null), which must outlive it.
  explicit OpRegistry(const OpRegistry* parent);
  OpRegistry(const OpRegistry&) = delete;
  OpRegistry& operator=(const OpRegistry&) = delete;

  // Registers a custom op: its shape rule, a kernel per provider and its gradient rule. Throws
  // kInvalidArgument for a reserved domain (ai.onnx and its subdomains, onyx's own), an
  // inconsistent definition, or an op whose versions overlap one already registered here or
  // in the parent; the message names both definitions and where they came from.
  void add(CustomOpDefinition definition);
  // Keeps `resource` (a loaded library) alive as long as this registry.
  void keep_alive(std::shared_ptr<const void> resource) { kept_alive_.push_back(std::move(resource)); }

  const KernelRegistry& kernels() const { return *kernels_; }
  const ShapeRuleRegistry& shape_rules() const { return *shape_rules_; }
  const training::GradientRuleRegistry& gradient_rules() const { return *gradient_rules_; }

  // The custom op serving (domain, op) at `opset`, here or in the parent; nullptr if none.
  const CustomOpDefinition* find_custom_op(const std::string& domain, const std::string& op_type,
                                           int64_t opset) const;
  // Whether any custom op is registered for `domain` (here or in the parent).
  bool has_custom_domain(const std::string& domain) const;
  // "com.acme: Swish 1+, Fuse 2-3; com.other: ..." for error messages; "none" when empty.
  std::string describe_custom_ops() const;

 private:
  OpRegistry();  // the global one
  const CustomOpDefinition* find_overlapping(const CustomOpDefinition& definition) const;
  void collect_custom_ops(std::map<std::string, std::vector<const CustomOpDefinition*>>& by_domain) const;

  const OpRegistry* parent_ = nullptr;
  std::unique_ptr<KernelRegistry> own_kernels_;
  std::unique_ptr<ShapeRuleRegistry> own_shape_rules_;
  std::unique_ptr<training::GradientRuleRegistry> own_gradient_rules_;
  KernelRegistry* kernels_;
  ShapeRuleRegistry* shape_rules_;
  training::GradientRuleRegistry* gradient_rules_;
  // Custom ops by (domain, op), every version; shared with the rules registered for them.
  std::map<std::pair<std::string, std::string>, std::vector<std::shared_ptr<const CustomOpDefinition>>> custom_ops_;
  std::vector<std::shared_ptr<const void>> kept_alive_;
};

// True for domains custom ops may not use: "", ai.onnx and ai.onnx.*, and onyx's own.
bool is_reserved_domain(const std::string& domain);

}  // namespace onyx
