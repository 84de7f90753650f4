// Unit tests of map values and the ai.onnx.ml map ops: Value::map (sorting, refusals), map
// types (loader, printing), MapProto value files, ZipMap, DictVectorizer and CastMap kernels
// and their shape rules. Expected kernel values are what onnxruntime 1.32 gives for the same
// nodes (CastMap's "%f" text and "0.f" padding included); tests/python/test_ml_maps.py runs the
// same ops against onnxruntime itself.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "onnx/onnx-data.pb.h"
#include "onnx/onnx-ml.pb.h"
#include "onnx_ops/op_schema.h"
#include "runtime/ir/model_loader.h"
#include "runtime/ir/value_files.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

constexpr const char* kMlDomainName = "ai.onnx.ml";

Tensor strings_of(std::vector<std::string> values) {
  return Tensor::from_vector<std::string>({static_cast<int64_t>(values.size())}, values);
}

std::vector<Value> run_map_op(const std::string& op, const std::vector<Value>& inputs,
                              std::vector<Attribute> attributes) {
  Node node = make_node(op, inputs.size(), 1, std::move(attributes));
  node.domain = kMlDomainName;
  return call_node_on_cpu(node, 1, inputs);
}

TypeInfo inferred_type(const std::string& op, const TypeInfo& input, std::vector<Attribute> attributes) {
  Node node = make_node(op, 1, 1, std::move(attributes));
  InferenceContext ctx(node, 1, {&input}, {});
  (*ShapeRuleRegistry::global().find(kMlDomainName, op))(ctx);
  return ctx.output_types()[0];
}

TEST(MapValue, SortsEntriesByKey) {
  Value map = Value::map(i64({3}, {10, 3, 7}), f32({3}, {0.1f, 0.2f, 0.7f}));
  ASSERT_TRUE(map.is_map());
  expect_tensor<int64_t>(map.map_entries().keys, {3}, {3, 7, 10});
  expect_tensor<float>(map.map_entries().values, {3}, {0.2f, 0.7f, 0.1f});
  Value named = Value::map(strings_of({"b", "a"}), strings_of({"x", "y"}));
  expect_tensor<std::string>(named.map_entries().keys, {2}, {"a", "b"});
  expect_tensor<std::string>(named.map_entries().values, {2}, {"y", "x"});
}

TEST(MapValue, RefusesBadEntries) {
  expect_error([] { Value::map(i64({2}, {1, 1}), f32({2}, {0, 0}), "ZipMap"); }, {"ZipMap", "key 1 appears twice"});
  expect_error([] { Value::map(strings_of({"a", "a"}), f32({2}, {0, 0})); }, {"key \"a\" appears twice"});
  expect_error([] { Value::map(f32({1}, {1}), f32({1}, {0})); }, {"keys must be int64 or string, got float"});
  expect_error([] { Value::map(i64({2}, {1, 2}), f32({1}, {0})); }, {"must be 1-D of one length"});
  expect_error([] { Value(f32({1}, {0})).map_entries(); }, {"not a map"});
}

TEST(MapTypes, PrintAsOnnxWritesThem) {
  TypeInfo map = TypeInfo::map_of(DataType::kInt64, DataType::kFloat);
  EXPECT_EQ(map.to_string(), "map(int64,tensor(float))");
  EXPECT_EQ(TypeInfo::wrapping(TypeInfo::Kind::kSequence, TypeInfo::map_of(DataType::kString, DataType::kFloat))
                .to_string(),
            "seq(map(string,tensor(float)))");
}

TEST(MapTypes, LoaderReadsMapTypeProto) {
  onnx::TypeProto proto;
  onnx::TypeProto::Map* map = proto.mutable_sequence_type()->mutable_elem_type()->mutable_map_type();
  map->set_key_type(onnx::TensorProto::STRING);
  map->mutable_value_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::DOUBLE);
  TypeInfo type = type_from_proto(proto);
  EXPECT_EQ(type.to_string(), "seq(map(string,tensor(double)))");
  ASSERT_TRUE(type.element);
  EXPECT_EQ(type.element->kind, TypeInfo::Kind::kMap);
  EXPECT_EQ(type.element->elem_type, DataType::kString);
}

TEST(MapValueFiles, SequenceOfMapsRoundTrips) {
  const auto dir = std::filesystem::temp_directory_path() / ("onyx_map_files_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  TypeInfo map_type = TypeInfo::map_of(DataType::kInt64, DataType::kFloat);
  TypeInfo seq_type = TypeInfo::wrapping(TypeInfo::Kind::kSequence, map_type);
  Value first = Value::map(i64({2}, {5, 1}), f32({2}, {0.5f, 0.25f}));
  Value second = Value::map(i64({0}, {}), f32({0}, {}));
  write_value_pb(dir / "seq.pb", Value::sequence({first, second}, DataType::kUndefined), "probabilities", seq_type);
  NamedFileValue read = read_value_file(dir / "seq.pb", seq_type);
  EXPECT_EQ(read.name, "probabilities");
  ASSERT_TRUE(read.value.is_sequence());
  ASSERT_EQ(read.value.sequence_items().size(), 2u);
  const Map& map = read.value.sequence_items()[0].map_entries();
  expect_tensor<int64_t>(map.keys, {2}, {1, 5});
  expect_tensor<float>(map.values, {2}, {0.25f, 0.5f});
  EXPECT_EQ(read.value.sequence_items()[1].map_entries().keys.element_count(), 0);

  write_value_pb(dir / "map.pb", Value::map(strings_of({"z", "a"}), i64({2}, {1, 2})), "m",
                 TypeInfo::map_of(DataType::kString, DataType::kInt64));
  const Value read_map = read_value_file(dir / "map.pb", map_type).value;
  const Map& named = read_map.map_entries();
  expect_tensor<std::string>(named.keys, {2}, {"a", "z"});
  expect_tensor<int64_t>(named.values, {2}, {2, 1});
  std::filesystem::remove_all(dir);
}

TEST(MapValueFiles, RefusesTensorValuesAndKeyCountMismatch) {
  const auto dir = std::filesystem::temp_directory_path() / ("onyx_map_bad_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  onnx::MapProto proto;
  proto.set_name("m");
  proto.set_key_type(onnx::TensorProto::INT64);
  proto.add_keys(1);
  proto.mutable_values()->set_elem_type(onnx::SequenceProto::TENSOR);
  onnx::TensorProto* value = proto.mutable_values()->add_tensor_values();
  value->set_data_type(onnx::TensorProto::FLOAT);
  value->add_dims(2);
  value->add_float_data(1);
  value->add_float_data(2);
  std::ofstream(dir / "vector.pb", std::ios::binary) << proto.SerializeAsString();
  expect_error([&] { read_value_file(dir / "vector.pb", TypeInfo::map_of(DataType::kInt64, DataType::kFloat)); },
               {"map 'm'", "shape [2]", "scalars"});
  proto.add_keys(2);
  std::ofstream(dir / "count.pb", std::ios::binary) << proto.SerializeAsString();
  expect_error([&] { read_value_file(dir / "count.pb", TypeInfo::map_of(DataType::kInt64, DataType::kFloat)); },
               {"one tensor value per key", "2 keys, 1 tensor values"});
  std::filesystem::remove_all(dir);
}

TEST(ZipMap, OneMapPerRowWithIntOrStringLabels) {
  std::vector<Value> out = run_map_op("ZipMap", {f32({2, 3}, {0.1f, 0.2f, 0.7f, 1, 2, 3})},
                                      {make_attribute("classlabels_int64s", std::vector<int64_t>{10, 3, 7})});
  const Sequence& maps = out.at(0).sequence_items();
  ASSERT_EQ(maps.size(), 2u);
  expect_tensor<int64_t>(maps[0].map_entries().keys, {3}, {3, 7, 10});
  expect_tensor<float>(maps[0].map_entries().values, {3}, {0.2f, 0.7f, 0.1f});
  expect_tensor<float>(maps[1].map_entries().values, {3}, {2, 3, 1});
  // A 1-D input is one row; string labels.
  out = run_map_op("ZipMap", {f32({2}, {0.1f, 0.9f})},
                   {make_attribute("classlabels_strings", std::vector<std::string>{"b", "a"})});
  ASSERT_EQ(out.at(0).sequence_items().size(), 1u);
  expect_tensor<std::string>(out[0].sequence_items()[0].map_entries().keys, {2}, {"a", "b"});
  expect_tensor<float>(out[0].sequence_items()[0].map_entries().values, {2}, {0.9f, 0.1f});
}

TEST(ZipMap, Errors) {
  auto labels = [] { return make_attribute("classlabels_int64s", std::vector<int64_t>{0, 1, 2}); };
  expect_error([&] { run_map_op("ZipMap", {f32({1, 2}, {0, 1})}, {labels()}); },
               {"2 columns", "3 class labels"});
  expect_error([&] { run_map_op("ZipMap", {f32({1, 1, 3}, {0, 1, 2})}, {labels()}); }, {"1-D or 2-D"});
  expect_error([&] { run_map_op("ZipMap", {i64({3}, {0, 1, 2})}, {labels()}); }, {"must be float, got int64"});
  expect_error([&] { run_map_op("ZipMap", {f32({2}, {0, 1})}, {}); },
               {"exactly one of classlabels_int64s and classlabels_strings"});
  expect_error(
      [&] {
        run_map_op("ZipMap", {f32({2}, {0, 1})}, {make_attribute("classlabels_int64s", std::vector<int64_t>{4, 4})});
      },
      {"key 4 appears twice"});
}

TEST(DictVectorizer, VocabularyPositions) {
  auto vocabulary = [] { return make_attribute("string_vocabulary", std::vector<std::string>{"a", "c", "b", "z"}); };
  // The spec's example; a key outside the vocabulary is ignored, as onnxruntime does.
  Tensor y = run_map_op("DictVectorizer", {Value::map(strings_of({"a", "c", "q"}), f32({3}, {4, 8, 9}))},
                        {vocabulary()})
                 .at(0)
                 .tensor();
  expect_tensor<float>(y, {1, 4}, {4, 8, 0, 0});
  Tensor s = run_map_op("DictVectorizer", {Value::map(i64({2}, {9, 5}), strings_of({"y", "x"}))},
                        {make_attribute("int64_vocabulary", std::vector<int64_t>{5, 2, 9})})
                 .at(0)
                 .tensor();
  expect_tensor<std::string>(s, {1, 3}, {"x", "", "y"});
  expect_error([&] { run_map_op("DictVectorizer", {Value::map(i64({1}, {1}), f32({1}, {1}))}, {vocabulary()}); },
               {"map keys are int64 but the vocabulary is string"});
  expect_error([&] { run_map_op("DictVectorizer", {f32({1}, {1})}, {vocabulary()}); }, {"input must be a map"});
}

TEST(CastMap, DenseAndSparseCasts) {
  Value floats = Value::map(i64({3}, {3, 0, 1}), f32({3}, {1.5f, 2.25f, 1e10f}));
  auto cast = [](const Value& map, const std::string& to, const std::string& form) {
    return run_map_op("CastMap", {map},
                      {make_attribute("cast_to", to), make_attribute("map_form", form),
                       make_attribute("max_map", int64_t{5})})
        .at(0)
        .tensor();
  };
  expect_tensor<float>(cast(floats, "TO_FLOAT", "DENSE"), {1, 3}, {2.25f, 1e10f, 1.5f});
  expect_tensor<float>(cast(floats, "TO_FLOAT", "SPARSE"), {1, 5}, {2.25f, 1e10f, 0, 1.5f, 0});
  expect_tensor<int64_t>(cast(floats, "TO_INT64", "SPARSE"), {1, 5}, {2, 10000000000, 0, 1, 0});
  expect_tensor<std::string>(cast(floats, "TO_STRING", "SPARSE"), {1, 5},
                             {"2.250000", "10000000000.000000", "0.f", "1.500000", "0.f"});
  Value texts = Value::map(i64({2}, {4, 2}), strings_of({"-3", "7.5"}));
  expect_tensor<float>(cast(texts, "TO_FLOAT", "DENSE"), {1, 2}, {7.5f, -3});
  expect_tensor<int64_t>(cast(texts, "TO_INT64", "DENSE"), {1, 2}, {7, -3});
  expect_tensor<std::string>(cast(texts, "TO_STRING", "SPARSE"), {1, 5}, {"0.f", "0.f", "7.5", "0.f", "-3"});
}

TEST(CastMap, Errors) {
  auto cast = [](const Value& map, std::vector<Attribute> attributes) { run_map_op("CastMap", {map}, attributes); };
  Value floats = Value::map(i64({1}, {7}), f32({1}, {1}));
  expect_error([&] { cast(floats, {make_attribute("map_form", std::string("SPARSE"))}); },
               {"key 7 is outside [0, max_map 1)"});
  expect_error([&] { cast(floats, {make_attribute("cast_to", std::string("TO_BOOL"))}); },
               {"cast_to 'TO_BOOL'", "TO_FLOAT"});
  expect_error([&] { cast(floats, {make_attribute("map_form", std::string("ROWS"))}); }, {"map_form 'ROWS'"});
  expect_error([&] { cast(Value::map(i64({1}, {1}), strings_of({"x"})), {}); }, {"\"x\" is not a float"});
  expect_error([&] { cast(Value::map(strings_of({"a"}), f32({1}, {1})), {}); }, {"keys must be int64, got string"});
}

TEST(MlMapShapeRules, OutputTypes) {
  EXPECT_EQ(inferred_type("ZipMap", TypeInfo::tensor(DataType::kFloat),
                          {make_attribute("classlabels_strings", std::vector<std::string>{"a"})})
                .to_string(),
            "seq(map(string,tensor(float)))");
  EXPECT_EQ(inferred_type("DictVectorizer", TypeInfo::map_of(DataType::kString, DataType::kDouble),
                          {make_attribute("string_vocabulary", std::vector<std::string>{"a", "b"})})
                .to_string(),
            "double[1,2]");
  TypeInfo map = TypeInfo::map_of(DataType::kInt64, DataType::kString);
  EXPECT_EQ(inferred_type("CastMap", map, {make_attribute("cast_to", std::string("TO_INT64"))}).to_string(),
            "int64[1,?]");
  EXPECT_EQ(inferred_type("CastMap", map,
                          {make_attribute("map_form", std::string("SPARSE")), make_attribute("max_map", int64_t{6})})
                .to_string(),
            "float[1,6]");
}

}  // namespace
}  // namespace onyx::tensor_test
