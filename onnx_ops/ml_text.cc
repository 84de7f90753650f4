// Shape rule of TfIdfVectorizer (default domain, opset 9): [C] -> [S], [B, C] -> [B, S] float,
// where S = max(ngram_indexes) + 1.
#include <algorithm>

#include "onnx_ops/attribute_checks.h"
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

// Everything the kernel indexes with: the pool segments, the output positions (a negative one
// wrote before the output: fuzz regression model_mutate/tfidf-ngram-index-out-of-range), the
// weights.
void check_tfidf(const AttributeCheckContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  a.get_enum_string("mode", "TF", {"TF", "IDF", "TFIDF"});
  const int64_t min_gram = a.get_int_at_least("min_gram_length", 1, 1);
  const int64_t max_gram = a.get_int_at_least("max_gram_length", 1, 1);
  if (min_gram > max_gram) {
    throw_error(ErrorCode::kInvalidModel, "attribute min_gram_length (", min_gram,
                ") must be <= max_gram_length (", max_gram, ")");
  }
  a.get_int_at_least("max_skip_count", 0, 0);
  if (a.has("pool_strings") == a.has("pool_int64s")) {
    throw_error(ErrorCode::kInvalidModel, "exactly one of the attributes pool_strings and pool_int64s must be given");
  }
  const int64_t pool = static_cast<int64_t>(a.has("pool_strings") ? a.get_strings("pool_strings").size()
                                                                  : a.get_ints("pool_int64s").size());
  const std::vector<int64_t> counts = a.get_ints("ngram_counts");
  int64_t ngrams = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const int64_t begin = counts[i];
    const int64_t end = i + 1 < counts.size() ? counts[i + 1] : pool;
    if ((i == 0 && begin != 0) || begin < 0 || begin > end || end > pool) {
      throw_error(ErrorCode::kInvalidModel, "attribute ngram_counts must start at 0 and not decrease within the pool of ",
                  pool, " entries, got ", begin, " to ", end, " for ", i + 1, "-grams");
    }
    ngrams += (end - begin) / static_cast<int64_t>(i + 1);
  }
  const std::vector<int64_t> indexes = a.get_ints_at_least("ngram_indexes", 0);
  if (static_cast<int64_t>(indexes.size()) != ngrams) {
    throw_error(ErrorCode::kInvalidModel, "attribute ngram_indexes must hold one output position per n-gram of the pool (",
                ngrams, "), got ", indexes.size());
  }
  const int64_t outputs = indexes.empty() ? 0 : *std::max_element(indexes.begin(), indexes.end()) + 1;
  const size_t weights = a.get_floats("weights").size();
  if (weights != 0 && static_cast<int64_t>(weights) < outputs) {
    throw_error(ErrorCode::kInvalidModel, "attribute weights must hold one weight per output position (", outputs,
                "), got ", weights);
  }
}

ONYX_REGISTER_SHAPE_RULE("", "TfIdfVectorizer", tfidf_rule);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "TfIdfVectorizer", check_tfidf);

}  // namespace
}  // namespace onyx
