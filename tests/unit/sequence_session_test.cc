// Sequence ops inside a session: SequenceMap (which needs a compiled body, so it only runs in a
// plan), and sequences that outlive the arena bytes of the tensors they were built from.
#include <gtest/gtest.h>

#include <memory>

#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"

namespace onyx::testing {
namespace {

Attribute graph_attribute(const std::string& name, Graph graph) {
  Attribute a;
  a.name = name;
  a.kind = Attribute::Kind::kGraph;
  a.g = std::make_shared<Graph>(std::move(graph));
  return a;
}

ValueInfo float_sequence(const std::string& name) {
  return {name, TypeInfo::wrapping(TypeInfo::Kind::kSequence, TypeInfo::tensor(DataType::kFloat)), ""};
}

std::vector<float> values_of(const Value& v) {
  auto span = v.tensor().values<float>();
  return {span.begin(), span.end()};
}

// rows(X) -> SequenceMap(row, Y) with body (row + Y) * Z (Z read from the outer graph) -> stack.
Model sequence_map_model() {
  Graph body;
  body.name = "body";
  body.inputs = {tensor_value("row", DataType::kFloat, {3}), tensor_value("y", DataType::kFloat, {3})};
  body.nodes = {make_node("Add", {"row", "y"}, {"sum"}), make_node("Mul", {"sum", "Z"}, {"out"})};
  body.outputs = {tensor_value("out", DataType::kFloat, {3})};
  return make_model(
      {make_node("SplitToSequence", {"X"}, {"rows"},
                 {make_attribute("axis", int64_t{0}), make_attribute("keepdims", int64_t{0})}),
       make_node("SequenceMap", {"rows", "Y"}, {"mapped"}, {graph_attribute("body", body)}),
       make_node("ConcatFromSequence", {"mapped"}, {"R"},
                 {make_attribute("axis", int64_t{0}), make_attribute("new_axis", int64_t{1})})},
      {tensor_value("X", DataType::kFloat, {2, 3}), tensor_value("Y", DataType::kFloat, {3}),
       tensor_value("Z", DataType::kFloat, {})},
      {tensor_value("R", DataType::kFloat, {2, 3})});
}

TEST(SequenceMap, MapsEachItemWithWholeTensorsAndOuterValues) {
  InferenceSession session(sequence_map_model());
  auto out = session.run({{"X", Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6})},
                          {"Y", Tensor::from_vector<float>({3}, {10, 20, 30})},
                          {"Z", Tensor::scalar<float>(2)}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].value.tensor().shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of(out[0].value), (std::vector<float>{22, 44, 66, 28, 50, 72}));
}

TEST(SequenceMap, SequencesOfDifferentLengthsAreAnError) {
  Graph body;
  body.name = "body";
  body.inputs = {tensor_value("a", DataType::kFloat, {-1}), tensor_value("b", DataType::kFloat, {-1})};
  body.nodes = {make_node("Add", {"a", "b"}, {"c"})};
  body.outputs = {tensor_value("c", DataType::kFloat, {-1})};
  Model model = make_model({make_node("SequenceMap", {"A", "B"}, {"C"}, {graph_attribute("body", body)})},
                           {float_sequence("A"), float_sequence("B")}, {float_sequence("C")});
  InferenceSession session(std::move(model));
  Value a = Value::sequence({Tensor::from_vector<float>({1}, {1}), Tensor::from_vector<float>({1}, {2})},
                            DataType::kFloat);
  Value b = Value::sequence({Tensor::from_vector<float>({1}, {5})}, DataType::kFloat);
  try {
    session.run({{"A", a}, {"B", b}});
    ADD_FAILURE() << "expected an onyx::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 1 has 1 items but input 0 has 2"), std::string::npos)
        << e.what();
  }
  auto ok = session.run({{"A", a}, {"B", a}});
  ASSERT_EQ(ok[0].value.sequence_items().size(), 2u);
  EXPECT_EQ(values_of(ok[0].value.sequence_items()[1]), (std::vector<float>{4}));
}

// A = X + X lives in the arena; once SequenceConstruct ran, later values may reuse A's bytes.
// The sequence must still hold 2X when SequenceAt reads it at the end.
TEST(Sequence, ItemsSurviveArenaReuse) {
  Model model = make_model(
      {make_node("Add", {"X", "X"}, {"A"}), make_node("SequenceConstruct", {"A"}, {"S"}),
       make_node("Mul", {"X", "X"}, {"B"}), make_node("Add", {"B", "B"}, {"C"}),
       make_node("Mul", {"C", "C"}, {"D"}), make_node("SequenceAt", {"S", "P"}, {"E"}),
       make_node("Add", {"E", "D"}, {"F"})},
      {tensor_value("X", DataType::kFloat, {4}), tensor_value("P", DataType::kInt64, {})},
      {tensor_value("F", DataType::kFloat, {4})});
  InferenceSession session(std::move(model));
  for (int run = 0; run < 2; ++run) {
    auto out = session.run({{"X", Tensor::from_vector<float>({4}, {1, 2, 3, 4})},
                            {"P", Tensor::scalar<int64_t>(0)}});
    // 2x + (2x^2)^2
    EXPECT_EQ(values_of(out[0].value), (std::vector<float>{6, 68, 330, 1032}));
  }
}

}  // namespace
}  // namespace onyx::testing
