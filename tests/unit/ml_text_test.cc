// Unit tests of TfIdfVectorizer: TF/IDF/TFIDF weighting, skip distances, string pools with
// batches, errors and the shape rule. Expected counts were worked out by hand.
#include <limits>

#include "onnx_ops/op_schema.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

// Unigrams 2, 3, 5, 4 -> outputs 0..3; bigrams (5,6), (7,8), (6,7) -> outputs 4..6.
std::vector<Attribute> int_pool(const char* mode, int64_t min_gram, int64_t max_gram,
                                int64_t skip) {
  return {make_attribute("mode", mode),
          make_attribute("min_gram_length", min_gram),
          make_attribute("max_gram_length", max_gram),
          make_attribute("max_skip_count", skip),
          make_attribute("ngram_counts", std::vector<int64_t>{0, 4}),
          make_attribute("ngram_indexes", std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}),
          make_attribute("pool_int64s", std::vector<int64_t>{2, 3, 5, 4, 5, 6, 7, 8, 6, 7})};
}

const Tensor kTokens = i64({12}, {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8});

TEST(TfIdfVectorizer, TfIdfAndTfIdfModes) {
  expect_tensor<float>(run1("TfIdfVectorizer", 9, {kTokens}, int_pool("TF", 1, 2, 0)), {7},
                       {0, 3, 1, 0, 1, 1, 1});
  std::vector<Attribute> idf = int_pool("IDF", 1, 2, 0);
  idf.push_back(make_attribute("weights", std::vector<float>{1, 2, 3, 4, 5, 6, 7}));
  expect_tensor<float>(run1("TfIdfVectorizer", 9, {kTokens}, idf), {7}, {0, 2, 3, 0, 5, 6, 7});
  std::vector<Attribute> tfidf = int_pool("TFIDF", 1, 2, 0);
  tfidf.push_back(make_attribute("weights", std::vector<float>{1, 2, 3, 4, 5, 6, 7}));
  expect_tensor<float>(run1("TfIdfVectorizer", 9, {kTokens}, tfidf), {7}, {0, 6, 3, 0, 5, 6, 7});
}

TEST(TfIdfVectorizer, SkipDistancesAndInt32) {
  Tensor x = Tensor::from_vector<int32_t>({5}, {5, 9, 6, 7, 8});
  expect_tensor<float>(run1("TfIdfVectorizer", 9, {x}, int_pool("TF", 2, 2, 0)), {7},
                       {0, 0, 0, 0, 0, 1, 1});
  // Skip 1 also pairs 5 with 6 two positions on.
  expect_tensor<float>(run1("TfIdfVectorizer", 9, {x}, int_pool("TF", 2, 2, 1)), {7},
                       {0, 0, 0, 0, 1, 1, 1});
}

TEST(TfIdfVectorizer, StringPoolBatch) {
  std::vector<Attribute> attrs = {
      make_attribute("mode", "TF"), make_attribute("min_gram_length", int64_t{1}),
      make_attribute("max_gram_length", int64_t{2}), make_attribute("max_skip_count", int64_t{0}),
      make_attribute("ngram_counts", std::vector<int64_t>{0, 2}),
      make_attribute("ngram_indexes", std::vector<int64_t>{0, 1, 2}),
      make_attribute("pool_strings", std::vector<std::string>{"x", "y", "x", "y"})};
  Tensor x = Tensor::from_vector<std::string>({2, 3}, {"x", "y", "z", "y", "x", "y"});
  expect_tensor<float>(run1("TfIdfVectorizer", 9, {x}, attrs), {2, 3}, {1, 1, 1, 1, 2, 1});
  expect_error([&] { run1("TfIdfVectorizer", 9, {kTokens}, attrs); },
               {"int64", "pool_strings"});
}

// Fuzz regressions (model_mutate/tfidf-huge-max-gram-length): a max_gram_length far past the
// pool's longest n-gram sized a table by it (gigabytes: bad_alloc), and a huge max_skip_count
// looped over every skip (max_skip_count + 1 overflowed for INT64_MAX). Both count exactly what
// the longest useful values count.
TEST(TfIdfVectorizer, HugeMaxGramLengthAndMaxSkipCountCountWhatTheUsefulValuesCount) {
  Tensor x = Tensor::from_vector<int32_t>({5}, {5, 9, 6, 7, 8});
  expect_tensor<float>(run1("TfIdfVectorizer", 9, {x}, int_pool("TF", 2, 2147483647, 1)), {7},
                       {0, 0, 0, 0, 1, 1, 1});
  const int64_t huge = std::numeric_limits<int64_t>::max();
  expect_tensor<float>(run1("TfIdfVectorizer", 9, {x}, int_pool("TF", 1, huge, huge)), {7},
                       {0, 0, 1, 0, 1, 1, 1});
  expect_tensor<float>(run1("TfIdfVectorizer", 9, {x}, int_pool("TF", 1, 2, 3)), {7},
                       {0, 0, 1, 0, 1, 1, 1});
}

TEST(TfIdfVectorizer, NegativeNgramIndexIsRefused) {
  std::vector<Attribute> attrs = int_pool("TF", 1, 2, 0);
  attrs[5] = make_attribute("ngram_indexes", std::vector<int64_t>{-1, 1, 2, 3, 4, 5, 6});
  expect_error([&] { run1("TfIdfVectorizer", 9, {kTokens}, attrs); }, {"ngram_indexes", "-1"});
}

TEST(TfIdfVectorizer, ErrorsAndShapeRule) {
  expect_error([&] { run1("TfIdfVectorizer", 9, {kTokens}, int_pool("BM25", 1, 2, 0)); },
               {"attribute mode must be one of TF, IDF, TFIDF, got 'BM25'"});
  expect_error([&] { run1("TfIdfVectorizer", 9, {kTokens}, int_pool("TF", 3, 2, 0)); },
               {"attribute min_gram_length (3) must be <= max_gram_length (2)"});
  Node node = make_node("TfIdfVectorizer", 1, 1, int_pool("TF", 1, 2, 0));
  TypeInfo in = TypeInfo::tensor_of_shape(DataType::kInt64, {4, 12});
  InferenceContext ctx(node, 9, {&in}, {});
  (*ShapeRuleRegistry::global().find("", "TfIdfVectorizer"))(ctx);
  EXPECT_EQ(ctx.output_types()[0].to_string(), "float[4,7]");
}

}  // namespace
}  // namespace onyx::tensor_test
