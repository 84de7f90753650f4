// Unit tests of the sequence ops (SequenceEmpty/Construct/Insert/Erase/At/Length,
// SplitToSequence, ConcatFromSequence), the optional ops (Optional, OptionalHasElement,
// OptionalGetElement) and their shape rules, including the error cases.
#include "onnx_ops/op_schema.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

Value run_value(const std::string& op, int64_t opset, const std::vector<Value>& inputs,
                std::vector<Attribute> attributes = {}) {
  Node node = make_node(op, inputs.size(), 1, std::move(attributes));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].is_none()) node.inputs[i] = "";
  }
  return call_node_on_cpu(node, opset, inputs).at(0);
}

Value construct(const std::vector<Value>& tensors) {
  return run_value("SequenceConstruct", 11, tensors);
}

// Element values of every item, as float.
std::vector<std::vector<float>> items_of(const Value& seq) {
  std::vector<std::vector<float>> out;
  for (const Value& item : seq.sequence_items()) {
    const auto v = item.tensor().values<float>();
    out.emplace_back(v.begin(), v.end());
  }
  return out;
}

std::vector<Shape> shapes_of(const Value& seq) {
  std::vector<Shape> out;
  for (const Value& item : seq.sequence_items()) out.push_back(item.tensor().shape());
  return out;
}

using Items = std::vector<std::vector<float>>;

TEST(Sequence, ConstructLengthAndAt) {
  Value seq = construct({f32({2}, {1, 2}), f32({1}, {3}), f32({3}, {4, 5, 6})});
  ASSERT_TRUE(seq.is_sequence());
  EXPECT_EQ(seq.sequence_element_type(), DataType::kFloat);
  expect_tensor<int64_t>(run1("SequenceLength", 11, {seq}), {}, {3});
  expect_tensor<float>(run1("SequenceAt", 11, {seq, i64({}, {-1})}), {3}, {4, 5, 6});
  expect_tensor<float>(run1("SequenceAt", 11, {seq, Tensor::scalar<int32_t>(1)}), {1}, {3});
  expect_error([&] { run1("SequenceAt", 11, {seq, i64({}, {3})}); },
               {"SequenceAt", "position 3", "3 tensors"});
  expect_error([&] { run1("SequenceAt", 11, {seq, i64({}, {-4})}); }, {"position -4"});
}

TEST(Sequence, ConstructCopiesItsInputs) {
  Tensor x = f32({2}, {1, 2});
  Value seq = construct({x});
  x.mutable_data<float>()[0] = 9;
  EXPECT_EQ(items_of(seq), (Items{{1, 2}}));
  expect_error([] { construct({f32({1}, {1}), i64({1}, {1})}); }, {"input 1 is int64"});
}

TEST(Sequence, EmptyHasTheDtypeAttributeAndNoItems) {
  Value seq = run_value("SequenceEmpty", 11, {},
                        {make_attribute("dtype", static_cast<int64_t>(DataType::kInt64))});
  ASSERT_TRUE(seq.is_sequence());
  EXPECT_EQ(seq.sequence_element_type(), DataType::kInt64);
  EXPECT_TRUE(seq.sequence_items().empty());
  EXPECT_EQ(run_value("SequenceEmpty", 11, {}).sequence_element_type(), DataType::kFloat);
  expect_error([&] { run1("SequenceAt", 11, {seq, i64({}, {0})}); },
               {"position 0", "0 tensors"});
  expect_error([&] { run_value("SequenceErase", 11, {seq}); }, {"SequenceErase", "0 tensors"});
}

TEST(Sequence, InsertAtBackFrontAndNegativePositions) {
  Value seq = construct({f32({1}, {1}), f32({1}, {2})});
  EXPECT_EQ(items_of(run_value("SequenceInsert", 11, {seq, f32({1}, {7})})),
            (Items{{1}, {2}, {7}}));
  EXPECT_EQ(items_of(run_value("SequenceInsert", 11, {seq, f32({1}, {7}), i64({}, {0})})),
            (Items{{7}, {1}, {2}}));
  EXPECT_EQ(items_of(run_value("SequenceInsert", 11, {seq, f32({1}, {7}), i64({}, {-1})})),
            (Items{{1}, {7}, {2}}));
  EXPECT_EQ(items_of(run_value("SequenceInsert", 11, {seq, f32({1}, {7}), i64({}, {2})})),
            (Items{{1}, {2}, {7}}));
  // The input sequence is unchanged.
  EXPECT_EQ(items_of(seq), (Items{{1}, {2}}));
  expect_error([&] { run_value("SequenceInsert", 11, {seq, f32({1}, {7}), i64({}, {3})}); },
               {"SequenceInsert", "position 3", "[-2, 2]"});
  expect_error([&] { run_value("SequenceInsert", 11, {seq, i64({1}, {7})}); },
               {"int64", "sequence holds float"});
}

TEST(Sequence, EraseDefaultsToTheLastItem) {
  Value seq = construct({f32({1}, {1}), f32({1}, {2}), f32({1}, {3})});
  EXPECT_EQ(items_of(run_value("SequenceErase", 11, {seq})), (Items{{1}, {2}}));
  EXPECT_EQ(items_of(run_value("SequenceErase", 11, {seq, i64({}, {-3})})), (Items{{2}, {3}}));
  EXPECT_EQ(items_of(run_value("SequenceErase", 11, {seq, i64({}, {1})})), (Items{{1}, {3}}));
  expect_error([&] { run_value("SequenceErase", 11, {seq, i64({}, {3})}); }, {"position 3"});
}

TEST(SplitToSequence, DefaultChunksOfOneWithAndWithoutKeepdims) {
  Tensor x = f32({2, 3}, {0, 1, 2, 3, 4, 5});
  Value kept = run_value("SplitToSequence", 11, {x}, {make_attribute("axis", int64_t{1})});
  EXPECT_EQ(shapes_of(kept), (std::vector<Shape>{{2, 1}, {2, 1}, {2, 1}}));
  EXPECT_EQ(items_of(kept), (Items{{0, 3}, {1, 4}, {2, 5}}));
  Value dropped = run_value("SplitToSequence", 11, {x},
                            {make_attribute("axis", int64_t{-2}), make_attribute("keepdims", int64_t{0})});
  EXPECT_EQ(shapes_of(dropped), (std::vector<Shape>{{3}, {3}}));
  EXPECT_EQ(items_of(dropped), (Items{{0, 1, 2}, {3, 4, 5}}));
}

TEST(SplitToSequence, ScalarAndListSplits) {
  Tensor x = f32({2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  // A scalar split gives equal chunks and a shorter last one; keepdims does not apply.
  Value scalar = run_value("SplitToSequence", 11, {x, i64({}, {2})},
                           {make_attribute("axis", int64_t{1}), make_attribute("keepdims", int64_t{0})});
  EXPECT_EQ(shapes_of(scalar), (std::vector<Shape>{{2, 2}, {2, 2}, {2, 1}}));
  EXPECT_EQ(items_of(scalar), (Items{{0, 1, 5, 6}, {2, 3, 7, 8}, {4, 9}}));
  Value list = run_value("SplitToSequence", 11,
                         {x, Tensor::from_vector<int32_t>({3}, {1, 0, 4})},
                         {make_attribute("axis", int64_t{1})});
  EXPECT_EQ(shapes_of(list), (std::vector<Shape>{{2, 1}, {2, 0}, {2, 4}}));
  EXPECT_EQ(items_of(list), (Items{{0, 5}, {}, {1, 2, 3, 4, 6, 7, 8, 9}}));
  expect_error([&] { run_value("SplitToSequence", 11, {x, i64({2}, {1, 1})},
                               {make_attribute("axis", int64_t{1})}); },
               {"sum to 2", "length 5"});
  expect_error([&] { run_value("SplitToSequence", 11, {x, i64({}, {0})}); }, {"split 0"});
  expect_error([&] { run_value("SplitToSequence", 11, {x}, {make_attribute("axis", int64_t{2})}); },
               {"SplitToSequence"});
}

TEST(ConcatFromSequence, ConcatAlongAnAxisAndStackOnANewOne) {
  Value seq = construct({f32({2, 1}, {0, 1}), f32({2, 2}, {2, 3, 4, 5})});
  Tensor joined = run1("ConcatFromSequence", 11, {seq}, {make_attribute("axis", int64_t{-1})});
  expect_tensor<float>(joined, {2, 3}, {0, 2, 3, 1, 4, 5});
  expect_error([&] { run1("ConcatFromSequence", 11, {seq}, {make_attribute("axis", int64_t{0})}); },
               {"item 1", "[2,2]", "[2,1]"});

  Value same = construct({f32({2}, {0, 1}), f32({2}, {2, 3}), f32({2}, {4, 5})});
  Tensor stacked0 = run1("ConcatFromSequence", 11, {same},
                         {make_attribute("axis", int64_t{0}), make_attribute("new_axis", int64_t{1})});
  expect_tensor<float>(stacked0, {3, 2}, {0, 1, 2, 3, 4, 5});
  Tensor stacked1 = run1("ConcatFromSequence", 11, {same},
                         {make_attribute("axis", int64_t{-1}), make_attribute("new_axis", int64_t{1})});
  expect_tensor<float>(stacked1, {2, 3}, {0, 2, 4, 1, 3, 5});
  expect_error([&] { run1("ConcatFromSequence", 11, {same},
                          {make_attribute("axis", int64_t{2}), make_attribute("new_axis", int64_t{1})}); },
               {"ConcatFromSequence"});

  Value empty = run_value("SequenceEmpty", 11, {});
  expect_error([&] { run1("ConcatFromSequence", 11, {empty}, {make_attribute("axis", int64_t{0})}); },
               {"sequence is empty"});
}

TEST(Optional, WrapsAnInputOrIsEmpty) {
  Value full = run_value("Optional", 15, {f32({2}, {1, 2})});
  ASSERT_TRUE(full.is_tensor());
  Node node = make_node("Optional", 0, 1);
  Attribute type;
  type.name = "type";
  type.kind = Attribute::Kind::kTypeProto;
  type.tp = TypeInfo::tensor(DataType::kFloat);
  node.attributes.push_back(type);
  Value empty = call_node_on_cpu(node, 15, {}).at(0);
  EXPECT_TRUE(empty.is_none());

  expect_tensor<bool>(run1("OptionalHasElement", 18, {full}), {}, {true});
  expect_tensor<bool>(run1("OptionalHasElement", 18, {empty}), {}, {false});
  expect_tensor<bool>(run1("OptionalHasElement", 18, {}), {}, {false});
  expect_tensor<float>(run1("OptionalGetElement", 18, {full}), {2}, {1, 2});
  Value seq = construct({f32({1}, {5})});
  EXPECT_EQ(items_of(run_value("OptionalGetElement", 18, {seq})), (Items{{5}}));
  expect_error([&] { run_value("OptionalGetElement", 18, {empty}); }, {"optional input is empty"});
}

// Runs the rule of `node` on the given input types.
std::vector<TypeInfo> infer(const Node& node, int64_t opset, const std::vector<TypeInfo>& types,
                            std::vector<const Tensor*> constants = {}) {
  const ShapeRule* rule = ShapeRuleRegistry::global().find("", node.op_type);
  if (rule == nullptr) throw std::runtime_error("no rule for " + node.op_type);
  std::vector<const TypeInfo*> ptrs;
  for (const TypeInfo& t : types) ptrs.push_back(&t);
  constants.resize(types.size(), nullptr);
  InferenceContext ctx(node, opset, ptrs, constants);
  (*rule)(ctx);
  return ctx.output_types();
}

TypeInfo ft(std::vector<Dim> dims) { return TypeInfo::tensor(DataType::kFloat, std::move(dims)); }
TypeInfo seq_of(TypeInfo t) { return TypeInfo::wrapping(TypeInfo::Kind::kSequence, std::move(t)); }

TEST(SequenceShapeRules, ElementTypesFollowTheOps) {
  const Dim n = Dim::named("n");
  auto c = infer(make_node("SequenceConstruct", 2, 1), 11,
                 {ft({n, Dim::known(3)}), ft({n, Dim::known(4)})});
  EXPECT_EQ(c[0].to_string(), "seq(float[n,?])");
  auto at = infer(make_node("SequenceAt", 2, 1), 11,
                  {c[0], TypeInfo::tensor(DataType::kInt64, std::vector<Dim>{})});
  EXPECT_EQ(at[0].to_string(), "float[n,?]");
  auto empty = infer(make_node("SequenceEmpty", 0, 1), 11, {});
  EXPECT_EQ(empty[0].kind, TypeInfo::Kind::kSequence);
  EXPECT_EQ(empty[0].element->elem_type, DataType::kFloat);
  auto len = infer(make_node("SequenceLength", 1, 1), 11, {c[0]});
  EXPECT_EQ(len[0].to_string(), "int64[]");

  auto split = infer(make_node("SplitToSequence", 1, 1, {make_attribute("axis", int64_t{1}),
                                                         make_attribute("keepdims", int64_t{0})}),
                     11, {ft({n, Dim::known(6)})});
  EXPECT_EQ(split[0].to_string(), "seq(float[n])");
  Tensor two = i64({}, {2});
  auto split2 = infer(make_node("SplitToSequence", 2, 1, {make_attribute("axis", int64_t{1})}), 11,
                      {ft({n, Dim::known(6)}), TypeInfo::tensor(DataType::kInt64, std::vector<Dim>{})},
                      {nullptr, &two});
  EXPECT_EQ(split2[0].to_string(), "seq(float[n,2])");

  auto concat = infer(make_node("ConcatFromSequence", 1, 1, {make_attribute("axis", int64_t{-1}),
                                                             make_attribute("new_axis", int64_t{1})}),
                      11, {seq_of(ft({n, Dim::known(3)}))});
  EXPECT_EQ(concat[0].to_string(), "float[n,3,?]");
}

TEST(SequenceShapeRules, OptionalsWrapAndUnwrap) {
  auto wrapped = infer(make_node("Optional", 1, 1), 15, {ft({Dim::known(4)})});
  EXPECT_EQ(wrapped[0].to_string(), "optional(float[4])");
  auto unwrapped = infer(make_node("OptionalGetElement", 1, 1), 18, {wrapped[0]});
  EXPECT_EQ(unwrapped[0].to_string(), "float[4]");
  auto has = infer(make_node("OptionalHasElement", 1, 1), 18, {wrapped[0]});
  EXPECT_EQ(has[0].to_string(), "bool[]");
  expect_error([] { infer(make_node("Optional", 0, 1), 15, {}); }, {"'type' attribute"});
}

}  // namespace
}  // namespace onyx::tensor_test
