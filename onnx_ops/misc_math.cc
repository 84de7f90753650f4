// Shape rules of Det, MeanVarianceNormalization, SwiGLU and the random ops (RandomUniform,
// RandomNormal, their *Like forms, Bernoulli, Multinomial).
#include "onnx_ops/op_schema.h"

namespace onyx {
namespace {


void det_rule(InferenceContext& ctx) {
  const TypeInfo& in = ctx.input_type(0);
  if (!in.is_tensor()) return;
  TypeInfo out = TypeInfo::tensor(in.elem_type);
  if (in.shape) {
    ONYX_CHECK(in.shape->size() >= 2, ErrorCode::kInvalidArgument,
               "Det: input must have shape [*, M, M], got ", in.to_string());
    out.shape = std::vector<Dim>(in.shape->begin(), in.shape->end() - 2);
  }
  ctx.set_output_type(0, out);
}

// RandomUniform / RandomNormal: dtype and shape come from attributes.
void random_rule(InferenceContext& ctx) {
  const auto dtype = static_cast<DataType>(ctx.attributes().get_int("dtype", 1));
  std::vector<Dim> dims;
  for (int64_t d : ctx.attributes().require_ints("shape")) dims.push_back(Dim::known(d));
  ctx.set_output_type(0, TypeInfo::tensor(dtype, dims));
}

// *Like and Bernoulli: the input's shape; dtype from the attribute, else the input's.
void random_like_rule(InferenceContext& ctx) {
  const TypeInfo& in = ctx.input_type(0);
  DataType dtype = in.is_tensor() ? in.elem_type : DataType::kUndefined;
  if (ctx.attributes().has("dtype")) dtype = static_cast<DataType>(ctx.attributes().get_int("dtype", 1));
  if (dtype == DataType::kUndefined) return;
  ctx.set_output_type(0, TypeInfo::tensor(dtype, in.is_tensor() ? in.shape : std::nullopt));
}

void multinomial_rule(InferenceContext& ctx) {
  const auto dtype = static_cast<DataType>(ctx.attributes().get_int("dtype", 6));
  const int64_t samples = ctx.attributes().get_int("sample_size", 1);
  const TypeInfo& in = ctx.input_type(0);
  Dim batch;
  if (in.is_tensor() && in.shape && in.shape->size() == 2) batch = (*in.shape)[0];
  ctx.set_output_type(0, TypeInfo::tensor(dtype, std::vector<Dim>{batch, Dim::known(samples)}));
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "Det", det_rule);
ONYX_REGISTER_SHAPE_RULE("", "MeanVarianceNormalization", copy_input_0_type);
ONYX_REGISTER_SHAPE_RULE("", "SwiGLU", copy_input_0_type);
ONYX_REGISTER_SHAPE_RULE("", "RandomUniform", random_rule);
ONYX_REGISTER_SHAPE_RULE("", "RandomNormal", random_rule);
ONYX_REGISTER_SHAPE_RULE("", "RandomUniformLike", random_like_rule);
ONYX_REGISTER_SHAPE_RULE("", "RandomNormalLike", random_like_rule);
ONYX_REGISTER_SHAPE_RULE("", "Bernoulli", random_like_rule);
ONYX_REGISTER_SHAPE_RULE("", "Multinomial", multinomial_rule);

}  // namespace onyx
