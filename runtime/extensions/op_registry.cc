#include "runtime/extensions/op_registry.h"

#include <algorithm>

namespace onyx {

namespace {

// Wraps a custom op's kernel: checks the node against the definition once, when the kernel is
// created (so eager calls get the same checks as sessions), gives the kernel a copy of the
// node with attribute defaults filled in, and keeps the op's library loaded while it lives.
class CustomOpKernel final : public Kernel {
 public:
  CustomOpKernel(std::unique_ptr<Node> node, std::shared_ptr<const void> keep_alive)
      : node_(std::move(node)), keep_alive_(std::move(keep_alive)) {}
  void set_inner(std::unique_ptr<Kernel> inner) { inner_ = std::move(inner); }
  const Node& node() const { return *node_; }
  void compute(KernelContext& context) override { inner_->compute(context); }

 private:
  std::unique_ptr<Node> node_;
  std::shared_ptr<const void> keep_alive_;
  std::unique_ptr<Kernel> inner_;  // destroyed before the library it may live in
};

KernelFactory wrap_kernel(std::shared_ptr<const CustomOpDefinition> def, KernelFactory inner) {
  return [def, inner = std::move(inner)](const KernelInfo& info) -> std::unique_ptr<Kernel> {
    std::vector<const TypeInfo*> input_types;
    std::vector<const TypeInfo*> known_input_types;  // null for absent inputs
    std::vector<const Tensor*> constants;
    for (size_t i = 0; i < info.input_count(); ++i) {
      input_types.push_back(&info.input_type(i));
      known_input_types.push_back(info.has_input(i) ? &info.input_type(i) : nullptr);
      constants.push_back(info.constant_input(i));
    }
    std::vector<const TypeInfo*> output_types;
    for (size_t i = 0; i < info.output_count(); ++i) output_types.push_back(&info.output_type(i));
    auto kernel = std::make_unique<CustomOpKernel>(std::make_unique<Node>(def->with_defaults(info.node())),
                                                   def->keep_alive);
    def->infer_output_types(kernel->node(), known_input_types);  // type checks for node calls
    KernelInfo completed(kernel->node(), info.opset(), input_types, output_types, constants, info.provider(),
                         info.threads());
    kernel->set_inner(inner(completed));
    return kernel;
  };
}

// Bridges between the shape-rule registry and a custom op's definition: the element types
// its type constraints give, then its own rule (with attribute defaults) for shapes.
void infer_custom_op(const CustomOpDefinition& def, InferenceContext& ctx) {
  Node node = def.with_defaults(ctx.node());
  std::vector<const TypeInfo*> input_types;
  std::vector<const Tensor*> constants;
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    input_types.push_back(ctx.has_input(i) ? &ctx.input_type(i) : nullptr);
    constants.push_back(ctx.input_constant(i));
  }
  std::vector<TypeInfo> types = def.infer_output_types(node, input_types);
  if (def.shape_rule) {
    InferenceContext inner(node, ctx.opset(), input_types, constants);
    for (size_t i = 0; i < types.size(); ++i) inner.set_output_type(i, types[i]);
    def.shape_rule(inner);
    for (size_t i = 0; i < types.size(); ++i) {
      DataType bound = types[i].elem_type;
      types[i] = inner.output_types()[i];
      // A rule that gives only shapes keeps the element type the constraints bound.
      if (types[i].kind == TypeInfo::Kind::kTensor && types[i].elem_type == DataType::kUndefined) {
        types[i].elem_type = bound;
      }
    }
  }
  for (size_t i = 0; i < types.size(); ++i) ctx.set_output_type(i, std::move(types[i]));
}

// What a custom op's gradient rule sees: the forward node with its attribute defaults filled
// in, everything else (every hook, so rules get what built-in rules get) from the builder's
// context.
class WithDefaultsContext final : public training::GradientRuleContext {
 public:
  WithDefaultsContext(training::GradientRuleContext& inner, Node node) : inner_(inner), node_(std::move(node)) {}
  const Node& node() const override { return node_; }
  int64_t opset() const override { return inner_.opset(); }
  const TypeInfo& type_of(const std::string& value_name) const override { return inner_.type_of(value_name); }
  std::string output_gradient(size_t i) const override { return inner_.output_gradient(i); }
  bool wants_input_gradient(size_t i) const override { return inner_.wants_input_gradient(i); }
  void set_input_gradient(size_t i, const std::string& value_name) override {
    inner_.set_input_gradient(i, value_name);
  }
  std::vector<std::string> add_node(const std::string& op_type, std::vector<std::string> inputs, size_t output_count,
                                    std::vector<Attribute> attributes, const std::string& domain) override {
    return inner_.add_node(op_type, std::move(inputs), output_count, std::move(attributes), domain);
  }
  std::string add_constant(Tensor value) override { return inner_.add_constant(std::move(value)); }
  const Tensor* constant_value(const std::string& value_name) const override {
    return inner_.constant_value(value_name);
  }
  std::string forward_output(size_t i) override { return inner_.forward_output(i); }
  Graph differentiate_subgraph(const Graph& body, const std::vector<std::string>& output_gradients,
                               const std::vector<std::string>& wrt) override {
    return inner_.differentiate_subgraph(body, output_gradients, wrt);
  }

 private:
  training::GradientRuleContext& inner_;
  Node node_;
};

}  // namespace

bool is_reserved_domain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx" || domain.rfind("ai.onnx.", 0) == 0 || domain == "onyx" ||
         domain.rfind("onyx.", 0) == 0;
}

OpRegistry& OpRegistry::global() {
  static OpRegistry registry;
  return registry;
}

OpRegistry::OpRegistry()
    : kernels_(&KernelRegistry::global()),
      shape_rules_(&ShapeRuleRegistry::global()),
      gradient_rules_(&training::GradientRuleRegistry::global()) {}

OpRegistry::OpRegistry(const OpRegistry* parent)
    : parent_(parent),
      own_kernels_(std::make_unique<KernelRegistry>(&parent->kernels())),
      own_shape_rules_(std::make_unique<ShapeRuleRegistry>(&parent->shape_rules())),
      own_gradient_rules_(std::make_unique<training::GradientRuleRegistry>(&parent->gradient_rules())),
      kernels_(own_kernels_.get()),
      shape_rules_(own_shape_rules_.get()),
      gradient_rules_(own_gradient_rules_.get()) {}

void OpRegistry::add(CustomOpDefinition definition) {
  if (is_reserved_domain(definition.domain)) {
    throw_error(ErrorCode::kInvalidArgument, "custom op ", definition.describe(), " (from ", definition.source,
                "): domain '", display_domain(definition.domain),
                "' is reserved (ai.onnx, its subdomains and onyx's own); give the op a domain of its own such as "
                "'com.yourcompany'");
  }
  definition.validate();
  if (const CustomOpDefinition* existing = find_overlapping(definition)) {
    throw_error(ErrorCode::kInvalidArgument, "custom op ", definition.describe(), " (from ", definition.source,
                ") conflicts with ", existing->describe(), " already registered (from ", existing->source,
                "); each version of an op may be registered once");
  }
  auto def = std::make_shared<const CustomOpDefinition>(std::move(definition));
  for (const auto& [provider, factory] : def->kernels) {
    kernels_->add({provider, def->domain, def->name, def->since_version, def->until_version,
                   wrap_kernel(def, factory)});
  }
  auto key = std::make_pair(def->domain, def->name);
  bool first_version_here = !custom_ops_.count(key);
  bool had_gradient = false;
  for (const auto& existing : custom_ops_[key]) had_gradient = had_gradient || bool(existing->gradient);
  custom_ops_[key].push_back(def);
  // One rule per (domain, op) covers every version: it picks the definition for the opset.
  const std::string domain = def->domain;
  const std::string op_type = def->name;
  if (first_version_here) {
    shape_rules_->add(domain, op_type, [this, domain, op_type](InferenceContext& ctx) {
      if (const CustomOpDefinition* found = find_custom_op(domain, op_type, ctx.opset())) infer_custom_op(*found, ctx);
    });
  }
  if (def->gradient && !had_gradient) {
    gradient_rules_->add(domain, op_type, [this, domain, op_type](training::GradientRuleContext& ctx) {
      const CustomOpDefinition* found = find_custom_op(domain, op_type, ctx.opset());
      if (found == nullptr || !found->gradient) {
        throw_error(ErrorCode::kNotImplemented, ctx.node().describe(), ": custom op ", domain, "::", op_type,
                    " has no gradient rule at opset ", ctx.opset());
      }
      WithDefaultsContext completed(ctx, found->with_defaults(ctx.node()));
      found->gradient(completed);
    });
  }
}

const CustomOpDefinition* OpRegistry::find_custom_op(const std::string& domain, const std::string& op_type,
                                                     int64_t opset) const {
  auto it = custom_ops_.find({domain, op_type});
  if (it != custom_ops_.end()) {
    for (const auto& def : it->second) {
      if (def->since_version <= opset && opset <= def->until_version) return def.get();
    }
  }
  return parent_ ? parent_->find_custom_op(domain, op_type, opset) : nullptr;
}

const CustomOpDefinition* OpRegistry::find_overlapping(const CustomOpDefinition& definition) const {
  auto it = custom_ops_.find({definition.domain, definition.name});
  if (it != custom_ops_.end()) {
    for (const auto& def : it->second) {
      if (definition.since_version <= def->until_version && def->since_version <= definition.until_version) {
        return def.get();
      }
    }
  }
  return parent_ ? parent_->find_overlapping(definition) : nullptr;
}

bool OpRegistry::has_custom_domain(const std::string& domain) const {
  for (const auto& [key, versions] : custom_ops_) {
    if (key.first == domain) return true;
  }
  return parent_ && parent_->has_custom_domain(domain);
}

void OpRegistry::collect_custom_ops(std::map<std::string, std::vector<const CustomOpDefinition*>>& by_domain) const {
  for (const auto& [key, versions] : custom_ops_) {
    for (const auto& def : versions) by_domain[key.first].push_back(def.get());
  }
  if (parent_) parent_->collect_custom_ops(by_domain);
}

std::string OpRegistry::describe_custom_ops() const {
  std::map<std::string, std::vector<const CustomOpDefinition*>> by_domain;
  collect_custom_ops(by_domain);
  std::string text;
  for (const auto& [domain, defs] : by_domain) {
    if (!text.empty()) text += "; ";
    text += domain + ":";
    for (size_t i = 0; i < defs.size(); ++i) {
      std::string versions = defs[i]->describe();
      text += (i ? ", " : " ") + versions.substr(domain.size() + 2);  // "Swish version 1+"
    }
  }
  return text.empty() ? "none" : text;
}

}  // namespace onyx
