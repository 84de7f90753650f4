// Shape rule of TfIdfVectorizer (default domain, opset 9): [C] -> [S], [B, C] -> [B, S] float,
// where S = max(ngram_indexes) + 1.
#include <algorithm>

#include "onnx_ops/op_schema.h"
#include "onnx_ops/tensor_ops_rules.h"

namespace onyx {
namespace {

using tensor_rules::Dims;

void tfidf_rule(InferenceContext& ctx) {
  const std::vector<int64_t> indexes = ctx.attributes().get_ints("ngram_indexes");
  const int64_t size = indexes.empty() ? 0 : *std::max_element(indexes.begin(), indexes.end()) + 1;
  std::optional<Dims> x = tensor_rules::dims_of(ctx, 0);
  std::optional<Dims> out;
  if (x) {
    ONYX_CHECK(x->size() <= 2, ErrorCode::kInvalidModel, ctx.node().describe(),
               ": input must be [C] or [B, C], got rank ", x->size());
    out = x->size() == 2 ? Dims{(*x)[0], Dim::known(size)} : Dims{Dim::known(size)};
  }
  tensor_rules::set_tensor(ctx, 0, DataType::kFloat, out);
}

ONYX_REGISTER_SHAPE_RULE("", "TfIdfVectorizer", tfidf_rule);

}  // namespace
}  // namespace onyx
