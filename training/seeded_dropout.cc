#include "training/seeded_dropout.h"

#include <algorithm>

#include "onnx_ops/op_schema.h"
#include "providers/kernel_registry.h"
#include "runtime/common/portable_random.h"
#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"
#include "training/graph_writer.h"

namespace onyx::training {

namespace {

class SeededDropoutKernel final : public Kernel {
 public:
  explicit SeededDropoutKernel(const KernelInfo&) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const double ratio = ctx.has_input(1) ? ctx.input(1).element_as_double(0) : 0.5;
    ONYX_CHECK(ratio >= 0.0 && ratio < 1.0, ErrorCode::kInvalidArgument, "SeededDropout: ratio ", ratio,
               " must be in [0, 1)");
    portable_random::Engine rng(static_cast<uint64_t>(ctx.input(2).to_int64_vector().at(0)));
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    bool* mask = ctx.has_output(1) ? ctx.output(1, DataType::kBool, x.shape()).mutable_data<bool>() : nullptr;
    const int64_t n = x.element_count();
    auto run = [&]<typename T>(const T* in, T* out) {
      const T scale = static_cast<T>(1.0 / (1.0 - ratio));
      for (int64_t i = 0; i < n; ++i) {
        const bool kept = portable_random::bernoulli(rng, 1.0 - ratio);
        out[i] = kept ? in[i] * scale : T(0);
        if (mask) mask[i] = kept;
      }
    };
    if (x.dtype() == DataType::kFloat) {
      run(x.data<float>(), y.mutable_data<float>());
    } else if (x.dtype() == DataType::kDouble) {
      run(x.data<double>(), y.mutable_data<double>());
    } else {
      throw_error(ErrorCode::kNotImplemented, "SeededDropout: ", dtype_name(x.dtype()), " (float or double)");
    }
  }
};

ONYX_REGISTER_KERNEL("CPU", kTrainingDomain, "SeededDropout", 1, kOpsetOpenEnded, SeededDropoutKernel);

ONYX_REGISTER_SHAPE_RULE(kTrainingDomain, "SeededDropout", [](InferenceContext& ctx) {
  const TypeInfo& x = ctx.input_type(0);
  ctx.set_output_type(0, x);
  if (ctx.output_count() > 1) ctx.set_output_type(1, TypeInfo::tensor(DataType::kBool, x.shape));
});

// dx = dy * mask / (1 - ratio), as for Dropout in training mode.
ONYX_REGISTER_GRADIENT_RULE(kTrainingDomain, "SeededDropout", [](GradientRuleContext& ctx) {
  set_if_wanted(ctx, 0, [&] {
    const std::string x = ctx.input(0);
    const DataType type = elem_type_of(ctx, x);
    std::string ratio = ctx.node().has_input(1) ? cast_to(ctx, ctx.input(1), type) : scalar_constant(ctx, 0.5, type);
    std::string keep_scale = ctx.add("Reciprocal", {ctx.add("Sub", {scalar_constant(ctx, 1.0, type), ratio})});
    std::string mask = cast_to(ctx, ctx.forward_output(1), type);
    return ctx.add("Mul", {ctx.output_gradient(0), ctx.add("Mul", {mask, keep_scale})});
  });
});

bool is_training_dropout(const Model& model, const Node& node) {
  if (!canonical_domain(node.domain).empty() || node.op_type != "Dropout" || model.opset_for("").value_or(0) < 12 ||
      !node.has_input(2)) {
    return false;
  }
  auto mode = model.graph.initializers.find(node.inputs[2]);
  return mode != model.graph.initializers.end() && mode->second.element_as_double(0) != 0.0;
}

}  // namespace

bool use_seeded_dropout(Model& model) {
  const size_t original_count = model.graph.nodes.size();
  GraphWriter writer(model.graph, "seeded_dropout/");
  int64_t index = 0;
  for (size_t i = 0; i < original_count; ++i) {
    if (!is_training_dropout(model, model.graph.nodes[i])) continue;
    // Each node gets its own stream: the step's seed plus the node's index. (Adding nodes may
    // move the node list, so the node is looked up afterwards.)
    std::string seed = writer.add("Add", {kDropoutSeedInput, writer.constant(Tensor::scalar<int64_t>(index++))});
    Node& node = model.graph.nodes[i];
    node.domain = kTrainingDomain;
    node.op_type = "SeededDropout";
    node.inputs = {node.inputs[0], node.has_input(1) ? node.inputs[1] : "", seed};
    node.outputs.resize(2);
    if (node.outputs[1].empty()) node.outputs[1] = writer.fresh("mask");
  }
  if (index == 0) return false;
  // The seed nodes go first, so the graph stays in topological order.
  auto& nodes = model.graph.nodes;
  std::rotate(nodes.begin(), nodes.begin() + static_cast<std::ptrdiff_t>(original_count), nodes.end());
  model.opsets[kTrainingDomain] = 1;
  add_graph_input(model.graph, kDropoutSeedInput, TypeInfo::tensor(DataType::kInt64, std::vector<Dim>{}));
  return true;
}

}  // namespace onyx::training
