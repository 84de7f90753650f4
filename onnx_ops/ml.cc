// Shape rules of the ai.onnx.ml ops onyx implements: Binarizer, ArrayFeatureExtractor,
// LabelEncoder (opsets 1, 2, 4), TreeEnsemble (5), TreeEnsembleRegressor/Classifier (1, 3), Scaler, Normalizer, Imputer, OneHotEncoder (1).
#include "onnx_ops/ml.h"

#include "onnx_ops/op_schema.h"
#include "onnx_ops/tensor_ops_rules.h"

namespace onyx {

DataType label_encoder_value_type(const NodeAttributes& attributes) {
  if (attributes.has("values_strings")) return DataType::kString;
  if (attributes.has("values_int64s")) return DataType::kInt64;
  if (attributes.has("values_floats")) return DataType::kFloat;
  if (attributes.has("values_tensor")) return attributes.require_tensor("values_tensor").dtype();
  throw_error(ErrorCode::kInvalidModel, attributes.node().describe(),
              ": LabelEncoder needs one of values_strings, values_int64s, values_floats, "
              "values_tensor");
}

namespace {

using tensor_rules::Dims;


void label_encoder_rule(InferenceContext& ctx) {
  if (ctx.opset() < 2) {
    // Opset 1 maps strings to int64 and int64 to strings.
    const DataType in = tensor_rules::elem_of(ctx, 0);
    const DataType out = in == DataType::kString  ? DataType::kInt64
                         : in == DataType::kInt64 ? DataType::kString
                                                  : DataType::kUndefined;
    if (out != DataType::kUndefined) tensor_rules::set_tensor(ctx, 0, out, tensor_rules::dims_of(ctx, 0));
    return;
  }
  tensor_rules::set_tensor(ctx, 0, label_encoder_value_type(ctx.attributes()),
                           tensor_rules::dims_of(ctx, 0));
}

// [..., C] x indices -> [..., len(indices)]; a 1-D input gives one row [1, len(indices)].
void array_feature_extractor_rule(InferenceContext& ctx) {
  std::optional<Dims> x = tensor_rules::dims_of(ctx, 0);
  std::optional<Dims> y = tensor_rules::dims_of(ctx, 1);
  std::optional<Dims> out;
  if (x && y) {
    Dims dims = x->size() <= 1 ? Dims{Dim::known(1)} : Dims(x->begin(), x->end() - 1);
    dims.push_back(tensor_rules::dim_product(y->data(), y->data() + y->size()));
    out = dims;
  }
  tensor_rules::set_tensor(ctx, 0, tensor_rules::elem_of(ctx, 0), out);
}

// [N, F] -> [N, n_targets].
void tree_ensemble_rule(InferenceContext& ctx) {
  std::optional<Dims> x = tensor_rules::dims_of(ctx, 0);
  Dims out{x && !x->empty() ? (*x)[0] : Dim{}, Dim::known(ctx.attributes().get_int("n_targets", 1))};
  tensor_rules::set_tensor(ctx, 0, tensor_rules::elem_of(ctx, 0), out);
}

// Float output of the input's shape (Scaler, Normalizer).
void float_like_input_rule(InferenceContext& ctx) {
  tensor_rules::set_tensor(ctx, 0, DataType::kFloat, tensor_rules::dims_of(ctx, 0));
}

// [...] -> float [..., number of categories].
void one_hot_encoder_rule(InferenceContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  const size_t cats = a.has("cats_strings") ? a.get_strings("cats_strings").size()
                                            : a.get_ints("cats_int64s").size();
  std::optional<Dims> x = tensor_rules::dims_of(ctx, 0);
  if (x) x->push_back(Dim::known(static_cast<int64_t>(cats)));
  tensor_rules::set_tensor(ctx, 0, DataType::kFloat, x);
}

// TreeEnsembleRegressor (1, 3): always float scores [N, n_targets].
void tree_ensemble_regressor_rule(InferenceContext& ctx) {
  tree_ensemble_rule(ctx);
  ctx.set_output_type(0, TypeInfo::tensor(DataType::kFloat, ctx.output_types()[0].shape));
}

// TreeEnsembleClassifier (1, 3): labels [N] (int64 or string) and float scores [N, classes];
// one label means the binary case with two score columns.
void tree_ensemble_classifier_rule(InferenceContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  const bool strings = a.has("classlabels_strings");
  const size_t labels = strings ? a.get_strings("classlabels_strings").size()
                                : a.get_ints("classlabels_int64s").size();
  std::optional<Dims> x = tensor_rules::dims_of(ctx, 0);
  const Dim n = x && !x->empty() ? (*x)[0] : Dim{};
  tensor_rules::set_tensor(ctx, 0, strings ? DataType::kString : DataType::kInt64, Dims{n});
  if (ctx.output_count() > 1) {
    const Dim classes = labels == 1 ? Dim{} : Dim::known(static_cast<int64_t>(labels));
    tensor_rules::set_tensor(ctx, 1, DataType::kFloat, Dims{n, classes});
  }
}

ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "Binarizer", tensor_rules::same_tensor_as_input_0);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "Imputer", tensor_rules::same_tensor_as_input_0);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "Scaler", float_like_input_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "Normalizer", float_like_input_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "OneHotEncoder", one_hot_encoder_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "LabelEncoder", label_encoder_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "ArrayFeatureExtractor", array_feature_extractor_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "TreeEnsemble", tree_ensemble_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "TreeEnsembleRegressor", tree_ensemble_regressor_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "TreeEnsembleClassifier", tree_ensemble_classifier_rule);

}  // namespace
}  // namespace onyx
