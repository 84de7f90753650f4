// Unit tests of the ai.onnx.ml ops: Binarizer, ArrayFeatureExtractor, LabelEncoder (list and
// tensor attributes, defaults, NaN keys), TreeEnsemble (modes, aggregates, post transforms),
// their errors and shape rules. Expected values were worked out by hand from the spec.
#include <cmath>

#include "onnx_ops/op_schema.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

constexpr const char* kMl = "ai.onnx.ml";

Tensor run_ml(const std::string& op, int64_t opset, const std::vector<Value>& inputs,
              std::vector<Attribute> attributes) {
  Node node = make_node(op, inputs.size(), 1, std::move(attributes));
  node.domain = kMl;
  return call_node_on_cpu(node, opset, inputs).at(0).tensor();
}

Tensor strs(Shape shape, std::vector<std::string> values) {
  return Tensor::from_vector<std::string>(std::move(shape), values);
}

TEST(Binarizer, ThresholdOnFloatAndInt) {
  Tensor y = run_ml("Binarizer", 1, {f32({2, 2}, {0.5f, 1.5f, -1.0f, 1.0f})},
                    {make_attribute("threshold", 1.0f)});
  expect_tensor<float>(y, {2, 2}, {0, 1, 0, 0});
  Tensor yi = run_ml("Binarizer", 1, {i64({3}, {-1, 0, 5})}, {});
  expect_tensor<int64_t>(yi, {3}, {0, 0, 1});
}

TEST(ArrayFeatureExtractor, PicksLastDimColumns) {
  Tensor y = run_ml("ArrayFeatureExtractor", 1, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), i64({2}, {2, 0})}, {});
  expect_tensor<float>(y, {2, 2}, {3, 1, 6, 4});
  // A vector input gives one row.
  Tensor s = run_ml("ArrayFeatureExtractor", 1, {strs({3}, {"a", "b", "c"}), i64({1}, {1})}, {});
  expect_tensor<std::string>(s, {1, 1}, {"b"});
  expect_error([&] { run_ml("ArrayFeatureExtractor", 1, {f32({3}, {1, 2, 3}), i64({1}, {3})}, {}); },
               {"index 3", "out of range"});
}

TEST(LabelEncoder, StringToIntWithDefault) {
  std::vector<Attribute> attrs = {
      make_attribute("keys_strings", std::vector<std::string>{"a", "b", "c"}),
      make_attribute("values_int64s", std::vector<int64_t>{10, 20, 30}),
      make_attribute("default_int64", int64_t{-7})};
  Tensor y = run_ml("LabelEncoder", 2, {strs({2, 2}, {"c", "x", "a", "b"})}, attrs);
  expect_tensor<int64_t>(y, {2, 2}, {30, -7, 10, 20});
}

TEST(LabelEncoder, FloatToStringDefaultsToUnused) {
  std::vector<Attribute> attrs = {make_attribute("keys_floats", std::vector<float>{1.5f, NAN}),
                                  make_attribute("values_strings", std::vector<std::string>{"x", "nan"})};
  Tensor y = run_ml("LabelEncoder", 2, {f32({3}, {1.5f, 2.0f, NAN})}, attrs);
  expect_tensor<std::string>(y, {3}, {"x", "_Unused", "nan"});
}

TEST(LabelEncoder, TensorAttributesOpset4) {
  std::vector<Attribute> attrs = {
      make_attribute("keys_tensor", Tensor::from_vector<int64_t>({3}, {1, 2, 3})),
      make_attribute("values_tensor", Tensor::from_vector<double>({3}, {0.5, 1.5, 2.5})),
      make_attribute("default_tensor", Tensor::from_vector<double>({1}, {-1.0}))};
  Tensor y = run_ml("LabelEncoder", 4, {i64({4}, {3, 1, 9, 2})}, attrs);
  expect_tensor<double>(y, {4}, {2.5, 0.5, -1.0, 1.5});
  expect_error([&] { run_ml("LabelEncoder", 4, {strs({1}, {"a"})}, attrs); },
               {"string", "does not match keys"});
  attrs.pop_back();
  attrs.pop_back();
  expect_error([&] { run_ml("LabelEncoder", 4, {i64({1}, {1})}, attrs); }, {"values_tensor"});
}

TEST(MlShapeRules, ArrayFeatureExtractorAndLabelEncoder) {
  Node node = make_node("ArrayFeatureExtractor", 2, 1);
  TypeInfo x = TypeInfo::tensor_of_shape(DataType::kFloat, {4, 5});
  TypeInfo idx = TypeInfo::tensor_of_shape(DataType::kInt64, {3});
  InferenceContext ctx(node, 1, {&x, &idx}, {});
  (*ShapeRuleRegistry::global().find(kMl, "ArrayFeatureExtractor"))(ctx);
  EXPECT_EQ(ctx.output_types()[0].to_string(), "float[4,3]");
  Node le = make_node("LabelEncoder", 1, 1,
                      {make_attribute("keys_strings", std::vector<std::string>{"a"}),
                       make_attribute("values_floats", std::vector<float>{1.0f})});
  TypeInfo s = TypeInfo::tensor_of_shape(DataType::kString, {2});
  InferenceContext lctx(le, 2, {&s}, {});
  (*ShapeRuleRegistry::global().find(kMl, "LabelEncoder"))(lctx);
  EXPECT_EQ(lctx.output_types()[0].to_string(), "float[2]");
}

}  // namespace
}  // namespace onyx::tensor_test

namespace onyx::tensor_test {
namespace {

// Two trees over features [f0, f1] with targets {0, 1}:
//   tree A (root 0): f0 <= 0.5 (NaN goes true) ? leaf0 (t0, 1.0)
//                    : f1 in {1, 3} ? leaf1 (t1, 2.0) : leaf2 (t0, -1.0)
//   tree B (root 2): the single leaf3 (t1, 0.5)
std::vector<Attribute> tree_attrs(int64_t aggregate, int64_t post) {
  return {
      make_attribute("n_targets", int64_t{2}),
      make_attribute("aggregate_function", aggregate),
      make_attribute("post_transform", post),
      make_attribute("nodes_featureids", std::vector<int64_t>{0, 1, 0}),
      make_attribute("nodes_splits", Tensor::from_vector<float>({3}, {0.5f, 0.0f, 0.0f})),
      make_attribute("nodes_modes", Tensor::from_vector<uint8_t>({3}, {0, 6, 0})),
      make_attribute("nodes_truenodeids", std::vector<int64_t>{0, 1, 3}),
      make_attribute("nodes_trueleafs", std::vector<int64_t>{1, 1, 1}),
      make_attribute("nodes_falsenodeids", std::vector<int64_t>{1, 2, 3}),
      make_attribute("nodes_falseleafs", std::vector<int64_t>{0, 1, 1}),
      make_attribute("nodes_missing_value_tracks_true", std::vector<int64_t>{1, 0, 0}),
      make_attribute("membership_values", Tensor::from_vector<float>({3}, {1.0f, 3.0f, NAN})),
      make_attribute("leaf_targetids", std::vector<int64_t>{0, 1, 0, 1}),
      make_attribute("leaf_weights", Tensor::from_vector<float>({4}, {1.0f, 2.0f, -1.0f, 0.5f})),
      make_attribute("tree_roots", std::vector<int64_t>{0, 2}),
  };
}

const Tensor kRows = f32({4, 2}, {0.2f, 9.0f, 0.7f, 3.0f, 0.7f, 2.0f, NAN, 2.0f});

void expect_floats(const Tensor& t, const Shape& shape, const std::vector<double>& v) {
  ASSERT_EQ(shape_to_string(t.shape()), shape_to_string(shape));
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_NEAR(t.element_as_double(static_cast<int64_t>(i)), v[i], 1e-6 * (1 + std::abs(v[i])))
        << "at " << i;
  }
}

TEST(TreeEnsemble, SumAverageMaxWithMembershipAndMissing) {
  expect_floats(run_ml("TreeEnsemble", 5, {kRows}, tree_attrs(1, 0)), {4, 2},
                {1, 0.5, 0, 2.5, -1, 0.5, 1, 0.5});
  expect_floats(run_ml("TreeEnsemble", 5, {kRows}, tree_attrs(0, 0)), {4, 2},
                {0.5, 0.25, 0, 1.25, -0.5, 0.25, 0.5, 0.25});
  // Targets no leaf reaches keep float's lowest finite value.
  expect_floats(run_ml("TreeEnsemble", 5, {kRows}, tree_attrs(3, 0)), {4, 2},
                {1, 0.5, -3.4028234663852886e38, 2, -1, 0.5, 1, 0.5});
}

TEST(TreeEnsemble, PostTransforms) {
  Tensor row = f32({1, 2}, {0.2f, 9.0f});  // sums [1, 0.5]
  expect_floats(run_ml("TreeEnsemble", 5, {row}, tree_attrs(1, 2)), {1, 2},
                {0.7310585786, 0.6224593312});
  expect_floats(run_ml("TreeEnsemble", 5, {row}, tree_attrs(1, 1)), {1, 2},
                {0.6224593312, 0.3775406688});
}

TEST(TreeEnsemble, Errors) {
  std::vector<Attribute> attrs = tree_attrs(1, 0);
  expect_error([&] { run_ml("TreeEnsemble", 5, {f32({1, 1}, {0.0f})}, attrs); },
               {"feature id 1", "[1,1]"});
  attrs[0] = make_attribute("n_targets", int64_t{1});
  expect_error([&] { run_ml("TreeEnsemble", 5, {kRows}, attrs); }, {"leaf target id 1"});
}

}  // namespace
}  // namespace onyx::tensor_test

namespace onyx::tensor_test {
namespace {

TEST(Scaler, PerColumnOffsetAndScale) {
  Tensor y = run_ml("Scaler", 1, {i64({2, 2}, {1, 2, 3, 4})},
                    {make_attribute("offset", std::vector<float>{1.0f, 0.0f}),
                     make_attribute("scale", std::vector<float>{2.0f, 0.5f})});
  expect_tensor<float>(y, {2, 2}, {0, 1, 4, 2});
  expect_error([&] {
    run_ml("Scaler", 1, {f32({1, 3}, {1, 2, 3})}, {make_attribute("scale", std::vector<float>{1, 2})});
  }, {"scale has 2 values", "expected 1 or 3"});
}

TEST(Normalizer, MaxL1L2) {
  expect_tensor<float>(run_ml("Normalizer", 1, {f32({1, 2}, {3, 4})}, {make_attribute("norm", "L2")}),
                       {1, 2}, {0.6f, 0.8f});
  expect_tensor<float>(run_ml("Normalizer", 1, {f32({1, 2}, {1, -3})}, {make_attribute("norm", "L1")}),
                       {1, 2}, {0.25f, -0.75f});
  expect_tensor<float>(run_ml("Normalizer", 1, {i64({1, 2}, {1, 4})}, {make_attribute("norm", "MAX")}),
                       {1, 2}, {0.25f, 1.0f});
  expect_error([&] { run_ml("Normalizer", 1, {f32({1}, {1})}, {make_attribute("norm", "L3")}); },
               {"norm 'L3'"});
}

TEST(Imputer, NanFloatsAndPerColumnInts) {
  Tensor y = run_ml("Imputer", 1, {f32({4}, {1, NAN, 3, NAN})},
                    {make_attribute("imputed_value_floats", std::vector<float>{9.0f}),
                     make_attribute("replaced_value_float", NAN)});
  expect_tensor<float>(y, {4}, {1, 9, 3, 9});
  Tensor yi = run_ml("Imputer", 1, {i64({2, 2}, {0, 5, 7, 0})},
                     {make_attribute("imputed_value_int64s", std::vector<int64_t>{10, 20})});
  expect_tensor<int64_t>(yi, {2, 2}, {10, 5, 7, 20});
  expect_error([&] { run_ml("Imputer", 1, {i64({1}, {0})}, {}); }, {"imputed_value_int64s"});
}

TEST(OneHotEncoder, IntCategoriesAndZeros) {
  std::vector<Attribute> attrs = {make_attribute("cats_int64s", std::vector<int64_t>{3, 1})};
  expect_tensor<float>(run_ml("OneHotEncoder", 1, {i64({3}, {1, 3, 2})}, attrs), {3, 2},
                       {0, 1, 1, 0, 0, 0});
  attrs.push_back(make_attribute("zeros", int64_t{0}));
  expect_error([&] { run_ml("OneHotEncoder", 1, {i64({3}, {1, 3, 2})}, attrs); },
               {"value 2", "not a category"});
}

}  // namespace
}  // namespace onyx::tensor_test

namespace onyx::tensor_test {
namespace {

// Tree 0: f0 <= 0.5 ? leaf (0,1) -> t0 += 1, t1 += 2 : leaf (0,2) -> t0 += -1.
// Tree 1: the single leaf (1,0) -> t0 += 0.5. Base values [10, 20].
std::vector<Attribute> regressor_attrs(const char* aggregate) {
  return {make_attribute("n_targets", int64_t{2}),
          make_attribute("aggregate_function", aggregate),
          make_attribute("nodes_treeids", std::vector<int64_t>{0, 0, 0, 1}),
          make_attribute("nodes_nodeids", std::vector<int64_t>{0, 1, 2, 0}),
          make_attribute("nodes_featureids", std::vector<int64_t>{0, 0, 0, 0}),
          make_attribute("nodes_values", std::vector<float>{0.5f, 0, 0, 0}),
          make_attribute("nodes_modes", std::vector<std::string>{"BRANCH_LEQ", "LEAF", "LEAF", "LEAF"}),
          make_attribute("nodes_truenodeids", std::vector<int64_t>{1, 0, 0, 0}),
          make_attribute("nodes_falsenodeids", std::vector<int64_t>{2, 0, 0, 0}),
          make_attribute("target_treeids", std::vector<int64_t>{0, 0, 0, 1}),
          make_attribute("target_nodeids", std::vector<int64_t>{1, 1, 2, 0}),
          make_attribute("target_ids", std::vector<int64_t>{0, 1, 0, 0}),
          make_attribute("target_weights", std::vector<float>{1.0f, 2.0f, -1.0f, 0.5f}),
          make_attribute("base_values", std::vector<float>{10.0f, 20.0f})};
}

TEST(TreeEnsembleRegressor, AggregatesWithBaseValues) {
  Tensor x = Tensor::from_vector<double>({2, 1}, {0.2, 0.9});
  expect_tensor<float>(run_ml("TreeEnsembleRegressor", 3, {x}, regressor_attrs("SUM")), {2, 2},
                       {11.5f, 22.0f, 9.5f, 20.0f});
  expect_tensor<float>(run_ml("TreeEnsembleRegressor", 1, {x}, regressor_attrs("AVERAGE")), {2, 2},
                       {10.75f, 21.0f, 9.75f, 20.0f});
  // An untouched target scores 0 before its base value.
  expect_tensor<float>(run_ml("TreeEnsembleRegressor", 3, {x}, regressor_attrs("MAX")), {2, 2},
                       {11.0f, 22.0f, 10.5f, 20.0f});
  std::vector<Attribute> bad = regressor_attrs("SUM");
  bad[9] = make_attribute("target_treeids", std::vector<int64_t>{0, 0, 0, 2});
  expect_error([&] { run_ml("TreeEnsembleRegressor", 3, {x}, bad); }, {"tree 2", "not a LEAF"});
}

}  // namespace
}  // namespace onyx::tensor_test

namespace onyx::tensor_test {
namespace {

// Tree 0: f0 <= 0.5 ? leaf (0,1) : leaf (0,2); tree 1: the single leaf (1,0).
std::vector<Attribute> classifier_attrs(std::vector<int64_t> class_nodes, std::vector<int64_t> trees,
                                        std::vector<int64_t> ids, std::vector<float> weights,
                                        std::vector<int64_t> labels, const char* post) {
  return {make_attribute("classlabels_int64s", std::move(labels)),
          make_attribute("post_transform", post),
          make_attribute("nodes_treeids", std::vector<int64_t>{0, 0, 0, 1}),
          make_attribute("nodes_nodeids", std::vector<int64_t>{0, 1, 2, 0}),
          make_attribute("nodes_featureids", std::vector<int64_t>{0, 0, 0, 0}),
          make_attribute("nodes_values", std::vector<float>{0.5f, 0, 0, 0}),
          make_attribute("nodes_modes", std::vector<std::string>{"BRANCH_LEQ", "LEAF", "LEAF", "LEAF"}),
          make_attribute("nodes_truenodeids", std::vector<int64_t>{1, 0, 0, 0}),
          make_attribute("nodes_falsenodeids", std::vector<int64_t>{2, 0, 0, 0}),
          make_attribute("class_treeids", std::move(trees)),
          make_attribute("class_nodeids", std::move(class_nodes)),
          make_attribute("class_ids", std::move(ids)),
          make_attribute("class_weights", std::move(weights))};
}

std::vector<Value> run_classifier(const Tensor& x, std::vector<Attribute> attrs) {
  Node node = make_node("TreeEnsembleClassifier", 1, 2, std::move(attrs));
  node.domain = kMl;
  return call_node_on_cpu(node, 3, {x});
}

TEST(TreeEnsembleClassifier, MultiClassSoftmax) {
  // Leaf (0,1): class 0 += 1, class 2 += 0.5; leaf (0,2): class 1 += 2; leaf (1,0): class 2 += 0.25.
  auto attrs = classifier_attrs({1, 1, 2, 0}, {0, 0, 0, 1}, {0, 2, 1, 2}, {1.0f, 0.5f, 2.0f, 0.25f},
                                {10, 20, 30}, "NONE");
  Tensor x = f32({2, 1}, {0.2f, 0.9f});
  auto out = run_classifier(x, attrs);
  expect_tensor<int64_t>(out[0].tensor(), {2}, {10, 20});
  expect_tensor<float>(out[1].tensor(), {2, 3}, {1.0f, 0.0f, 0.75f, 0.0f, 2.0f, 0.25f});
  attrs[1] = make_attribute("post_transform", "SOFTMAX");
  out = run_classifier(x, attrs);
  expect_floats(out[1].tensor(), {2, 3}, {0.46583557, 0.17137133, 0.3627931});
}

TEST(TreeEnsembleClassifier, BinaryDerivesTheOtherScore) {
  auto attrs = classifier_attrs({1, 2}, {0, 0}, {0, 0}, {0.8f, 0.3f}, {0, 1}, "NONE");
  Tensor x = f32({2, 1}, {0.2f, 0.9f});
  auto out = run_classifier(x, attrs);
  expect_tensor<int64_t>(out[0].tensor(), {2}, {1, 0});
  expect_floats(out[1].tensor(), {2, 2}, {0.2, 0.8, 0.7, 0.3});
  attrs[1] = make_attribute("post_transform", "LOGISTIC");
  out = run_classifier(x, attrs);
  expect_floats(out[1].tensor(), {2, 2}, {0.31002551887, 0.68997448113});
}

}  // namespace
}  // namespace onyx::tensor_test

namespace onyx::tensor_test {
namespace {

TEST(LabelEncoder, Opset1ClassesBothWays) {
  std::vector<Attribute> attrs = {
      make_attribute("classes_strings", std::vector<std::string>{"a", "b"}),
      make_attribute("default_int64", int64_t{42}), make_attribute("default_string", "?")};
  expect_tensor<int64_t>(run_ml("LabelEncoder", 1, {strs({3}, {"b", "z", "a"})}, attrs), {3},
                         {1, 42, 0});
  expect_tensor<std::string>(run_ml("LabelEncoder", 1, {i64({3}, {0, 5, 1})}, attrs), {3},
                             {"a", "?", "b"});
  expect_error([&] { run_ml("LabelEncoder", 1, {f32({1}, {0.0f})}, attrs); },
               {"float", "not string or int64"});
}

}  // namespace
}  // namespace onyx::tensor_test
