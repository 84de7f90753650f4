// Loss ops: SoftmaxCrossEntropyLoss (opset 12, 13) and NegativeLogLikelihoodLoss (12, 13, 22).
// Later versions only widened the type constraints, so one rule serves every version.
#include "onnx_ops/loss.h"

#include "onnx_ops/op_schema.h"
#include "onnx_ops/tensor_ops_rules.h"

namespace onyx {

LossReduction loss_reduction(const NodeAttributes& attributes) {
  const std::string reduction = attributes.get_string("reduction", "mean");
  if (reduction == "none") return LossReduction::kNone;
  if (reduction == "sum") return LossReduction::kSum;
  if (reduction == "mean") return LossReduction::kMean;
  throw_error(ErrorCode::kInvalidModel, attributes.node().describe(), ": reduction '", reduction,
              "' is not one of none, sum, mean");
}

void check_loss_shapes(std::string_view op, const Shape& input, const Shape& target,
                       const Shape* weight) {
  ONYX_CHECK(input.size() >= 2, ErrorCode::kInvalidArgument, op,
             ": input must have shape [N, C, d1, ...] (rank >= 2), got ", shape_to_string(input));
  bool match = target.size() + 1 == input.size() && target[0] == input[0];
  for (size_t d = 1; match && d < target.size(); ++d) match = target[d] == input[d + 1];
  ONYX_CHECK(match, ErrorCode::kInvalidArgument, op, ": target shape ", shape_to_string(target),
             " does not match input shape ", shape_to_string(input),
             " (expected the input's shape without dim 1)");
  if (weight != nullptr) {
    ONYX_CHECK(weight->size() == 1 && (*weight)[0] == input[1], ErrorCode::kInvalidArgument, op,
               ": weight shape ", shape_to_string(*weight), " is not [C] = [", input[1], "]");
  }
}

Shape loss_output_shape(const Shape& target, LossReduction reduction) {
  return reduction == LossReduction::kNone ? target : Shape{};
}

namespace {

using tensor_rules::Dims;

void loss_rule(InferenceContext& ctx) {
  const LossReduction reduction = loss_reduction(ctx.attributes());
  const DataType dtype = tensor_rules::elem_of(ctx, 0);
  std::optional<Dims> input = tensor_rules::dims_of(ctx, 0);
  std::optional<Dims> target = tensor_rules::dims_of(ctx, 1);
  const std::string_view op = ctx.node().op_type;
  if (input && input->size() < 2) {
    throw_error(ErrorCode::kInvalidModel, op, ": input must have rank >= 2, got rank ",
                input->size());
  }
  if (input && target && target->size() + 1 != input->size()) {
    throw_error(ErrorCode::kInvalidModel, op, ": target rank ", target->size(),
                " does not match input rank ", input->size(), " (expected input rank - 1)");
  }
  std::optional<Dims> loss;
  if (reduction != LossReduction::kNone) {
    loss = Dims{};
  } else if (input) {
    // Known dims of either operand fill in unknown ones of the other.
    Dims dims = *input;
    dims.erase(dims.begin() + 1);
    if (target) {
      for (size_t d = 0; d < dims.size(); ++d) {
        if (!dims[d].is_known() && (*target)[d].is_known()) dims[d] = (*target)[d];
      }
    }
    loss = dims;
  } else {
    loss = target;
  }
  tensor_rules::set_tensor(ctx, 0, dtype, loss);
  if (ctx.output_count() > 1) tensor_rules::set_tensor(ctx, 1, dtype, input);
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "SoftmaxCrossEntropyLoss", loss_rule);
ONYX_REGISTER_SHAPE_RULE("", "NegativeLogLikelihoodLoss", loss_rule);

}  // namespace onyx
