// Shape rules of the string ops StringNormalizer (10), StringConcat, StringSplit and
// RegexFullMatch (20), and of Shrink (9), the numeric soft/hard threshold kept beside them.
#include "onnx_ops/broadcast.h"
#include "onnx_ops/op_schema.h"
#include "onnx_ops/tensor_ops_rules.h"

namespace onyx {
namespace {

using tensor_rules::Dims;

void string_normalizer_rule(InferenceContext& ctx) {
  std::optional<Dims> x = tensor_rules::dims_of(ctx, 0);
  std::optional<Dims> y;
  if (x) {
    if (x->size() != 1 && x->size() != 2) {
      throw_error(ErrorCode::kInvalidModel, "StringNormalizer: input must be [C] or [1, C], got rank ",
                  x->size());
    }
    y = x->size() == 1 ? Dims{Dim{}} : Dims{Dim::known(1), Dim{}};
  }
  tensor_rules::set_tensor(ctx, 0, DataType::kString, y);
}

void string_concat_rule(InferenceContext& ctx) {
  std::optional<Dims> a = tensor_rules::dims_of(ctx, 0), b = tensor_rules::dims_of(ctx, 1);
  std::optional<Dims> y;
  if (a && b) {
    const Dims both[2] = {*a, *b};
    y = broadcast_dims(std::span<const Dims>(both, 2), "StringConcat");
  }
  tensor_rules::set_tensor(ctx, 0, DataType::kString, y);
}

void string_split_rule(InferenceContext& ctx) {
  std::optional<Dims> x = tensor_rules::dims_of(ctx, 0);
  std::optional<Dims> y;
  if (x) {
    y = *x;
    y->push_back(Dim{});  // the most substrings of any element: known only when run
  }
  tensor_rules::set_tensor(ctx, 0, DataType::kString, y);
  if (ctx.output_count() > 1) tensor_rules::set_tensor(ctx, 1, DataType::kInt64, x);
}

void regex_full_match_rule(InferenceContext& ctx) {
  tensor_rules::set_tensor(ctx, 0, DataType::kBool, tensor_rules::dims_of(ctx, 0));
}

void shrink_rule(InferenceContext& ctx) {
  tensor_rules::set_tensor(ctx, 0, tensor_rules::elem_of(ctx, 0), tensor_rules::dims_of(ctx, 0));
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "StringNormalizer", string_normalizer_rule);
ONYX_REGISTER_SHAPE_RULE("", "StringConcat", string_concat_rule);
ONYX_REGISTER_SHAPE_RULE("", "StringSplit", string_split_rule);
ONYX_REGISTER_SHAPE_RULE("", "RegexFullMatch", regex_full_match_rule);
ONYX_REGISTER_SHAPE_RULE("", "Shrink", shrink_rule);

}  // namespace onyx
