// Broadcasting helpers and the elementwise math kernels: shapes, dtypes, legacy forms, errors.
// Expected values are worked by hand or with NumPy.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "onnx_ops/broadcast.h"
#include "onnx_ops/op_schema.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

Node make_node(const std::string& op, size_t inputs, std::vector<Attribute> attributes = {}) {
  Node node;
  node.op_type = op;
  node.name = op + "_node";
  for (size_t i = 0; i < inputs; ++i) node.inputs.push_back("in" + std::to_string(i));
  node.outputs = {"out"};
  node.attributes = std::move(attributes);
  return node;
}

Tensor run(const std::string& op, int64_t opset, std::vector<Value> inputs,
           std::vector<Attribute> attributes = {}) {
  Node node = make_node(op, inputs.size(), std::move(attributes));
  return call_node_on_cpu(node, opset, inputs)[0].tensor();
}

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  auto v = t.values<T>();
  return {v.begin(), v.end()};
}

TEST(Broadcast, ShapesFollowNumPy) {
  EXPECT_EQ(broadcast_shapes(Shape{2, 3, 1}, Shape{1, 4}), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcast_shapes(Shape{}, Shape{5}), (Shape{5}));
  EXPECT_EQ(broadcast_shapes(Shape{0, 1}, Shape{3}), (Shape{0, 3}));
  EXPECT_THROW(broadcast_shapes(Shape{2, 3}, Shape{4}), Error);
}

TEST(Broadcast, SymbolicDimsSurviveWherePossible) {
  std::vector<std::vector<Dim>> shapes = {{Dim::named("batch"), Dim::known(3)},
                                          {Dim::known(1), Dim::known(3)}};
  auto out = broadcast_dims(shapes);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].symbol, "batch");
  EXPECT_EQ(out[1].value, 3);
  // An unknown dim against a known 5 must be 1 or 5: the output is 5.
  shapes = {{Dim::named("n"), Dim::known(1)}, {Dim::known(5)}};
  out = broadcast_dims(shapes);
  EXPECT_EQ(out[0].symbol, "n");
  EXPECT_EQ(out[1].value, 5);
  shapes = {{Dim::known(2)}, {Dim::known(3)}};
  EXPECT_THROW(broadcast_dims(shapes), Error);
}

TEST(Broadcast, PlanMergesDimsIntoLongRuns) {
  const Shape shapes[2] = {{2, 3, 4}, {3, 4}};
  BroadcastPlan plan(std::span<const Shape>(shapes, 2), Shape{2, 3, 4});
  EXPECT_EQ(plan.run_length(), 12);
  EXPECT_EQ(plan.run_count(), 2);
  EXPECT_EQ(plan.inner_stride(1), 1);
}

TEST(BinaryMath, AddBroadcastsRowAndScalar) {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<float>({3}, {10, 20, 30});
  EXPECT_EQ(values_of<float>(run("Add", 14, {a, b})), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  Tensor s = Tensor::scalar<float>(1.5f);
  EXPECT_EQ(values_of<float>(run("Mul", 14, {s, a})), (std::vector<float>{1.5, 3, 4.5, 6, 7.5, 9}));
}

TEST(BinaryMath, SubBroadcastsBothWays) {
  // [2,1,3] - [1,2,1] -> [2,2,3]
  Tensor a = Tensor::from_vector<int32_t>({2, 1, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<int32_t>({1, 2, 1}, {10, 20});
  Tensor y = run("Sub", 14, {a, b});
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(values_of<int32_t>(y),
            (std::vector<int32_t>{-9, -8, -7, -19, -18, -17, -6, -5, -4, -16, -15, -14}));
}

TEST(BinaryMath, SmallIntegersWrap) {
  Tensor a = Tensor::from_vector<uint8_t>({2}, {250, 3});
  Tensor b = Tensor::from_vector<uint8_t>({2}, {10, 5});
  EXPECT_EQ(values_of<uint8_t>(run("Add", 14, {a, b})), (std::vector<uint8_t>{4, 8}));
  EXPECT_EQ(values_of<uint8_t>(run("Sub", 14, {a, b})), (std::vector<uint8_t>{240, 254}));
}

TEST(BinaryMath, IntegerDivisionTruncatesAndNeverTraps) {
  Tensor a = Tensor::from_vector<int32_t>({4}, {-7, 7, 5, std::numeric_limits<int32_t>::min()});
  Tensor b = Tensor::from_vector<int32_t>({4}, {2, -2, 0, -1});
  EXPECT_EQ(values_of<int32_t>(run("Div", 14, {a, b})),
            (std::vector<int32_t>{-3, -3, 0, std::numeric_limits<int32_t>::min()}));
}

TEST(BinaryMath, Float16ComputesInFloat) {
  Tensor a = Tensor::from_vector<Float16>({2}, {Float16(1.5f), Float16(-2.0f)});
  Tensor b = Tensor::from_vector<Float16>({2}, {Float16(0.25f), Float16(4.0f)});
  Tensor y = run("Div", 14, {a, b});
  EXPECT_EQ(static_cast<float>(y.data<Float16>()[0]), 6.0f);
  EXPECT_EQ(static_cast<float>(y.data<Float16>()[1]), -0.5f);
}

TEST(BinaryMath, ModFollowsDivisorSignUnlessFmod) {
  Tensor a = Tensor::from_vector<int64_t>({4}, {-7, 7, -7, 7});
  Tensor b = Tensor::from_vector<int64_t>({4}, {3, -3, -3, 3});
  EXPECT_EQ(values_of<int64_t>(run("Mod", 13, {a, b})), (std::vector<int64_t>{2, -2, -1, 1}));
  EXPECT_EQ(values_of<int64_t>(run("Mod", 13, {a, b}, {make_attribute("fmod", int64_t{1})})),
            (std::vector<int64_t>{-1, 1, -1, 1}));
  Tensor fa = Tensor::from_vector<float>({2}, {-4.5f, 4.5f});
  Tensor fb = Tensor::from_vector<float>({2}, {2.0f, -2.0f});
  EXPECT_EQ(values_of<float>(run("Mod", 13, {fa, fb})), (std::vector<float>{1.5f, -1.5f}));
}

TEST(BinaryMath, PowMixesBaseAndExponentTypes) {
  Tensor base = Tensor::from_vector<int32_t>({3}, {2, 3, 5});
  Tensor e = Tensor::from_vector<float>({3}, {2.0f, 0.5f, 3.0f});
  Tensor y = run("Pow", 15, {base, e});
  EXPECT_EQ(y.dtype(), DataType::kInt32);
  EXPECT_EQ(values_of<int32_t>(y), (std::vector<int32_t>{4, 1, 125}));  // 3^0.5 truncates
  Tensor fb = Tensor::from_vector<float>({3}, {1.5f, -2.0f, 4.0f});
  Tensor ie = Tensor::from_vector<int64_t>({1}, {3});
  EXPECT_EQ(values_of<float>(run("Pow", 15, {fb, ie})), (std::vector<float>{3.375f, -8.0f, 64.0f}));
  Tensor two = Tensor::scalar<float>(2.0f);
  EXPECT_EQ(values_of<float>(run("Pow", 15, {fb, two})), (std::vector<float>{2.25f, 4.0f, 16.0f}));
}

// A power of an integer base that has no value of the base's type (overflow, NaN from a negative
// base's root, 0^-1 = inf) was an undefined float-to-int cast (UBSan, fuzz regression
// model_mutate/pow-int-base-inf); it gives the type's minimum, as the ONNX reference does on x86.
TEST(BinaryMath, PowOfAnIntegerBaseOutsideItsRangeGivesTheMinimumLikeTheReference) {
  Tensor base = Tensor::from_vector<int32_t>({5}, {2, 10, -1, 0, 3});
  Tensor e = Tensor::from_vector<float>({5}, {1e30f, 20.0f, 0.5f, -1.0f, 2.0f});
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(values_of<int32_t>(run("Pow", 15, {base, e})), (std::vector<int32_t>{kMin, kMin, kMin, kMin, 9}));
  Tensor base64 = Tensor::from_vector<int64_t>({2}, {10, -4});
  Tensor inf = Tensor::from_vector<double>({2}, {std::numeric_limits<double>::infinity(), 3.0});
  EXPECT_EQ(values_of<int64_t>(run("Pow", 15, {base64, inf})),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -64}));
}

// Integer bases with integer exponents of other types stay exact integer powers (the kernel
// widens the exponent to int64/uint64); negative exponents truncate like 1/a^|b|.
TEST(BinaryMath, PowIntegerExponentsOfOtherTypesStayExact) {
  Tensor base = Tensor::from_vector<int64_t>({4}, {3, -2, 1, 7});
  Tensor e8 = Tensor::from_vector<int8_t>({4}, {39, 5, -3, -1});
  EXPECT_EQ(values_of<int64_t>(run("Pow", 15, {base, e8})),
            (std::vector<int64_t>{4052555153018976267LL, -32, 1, 0}));  // 3^39 needs all 64 bits
  Tensor e64 = Tensor::from_vector<uint64_t>({4}, {2, 3, 0, 1});
  EXPECT_EQ(values_of<int64_t>(run("Pow", 15, {base, e64})), (std::vector<int64_t>{9, -8, 1, 7}));
  Tensor base32 = Tensor::from_vector<int32_t>({2}, {2, -3});
  Tensor e16 = Tensor::from_vector<Float16>({2}, {Float16(10.0f), Float16(3.0f)});
  EXPECT_EQ(values_of<int32_t>(run("Pow", 15, {base32, e16})), (std::vector<int32_t>{1024, -27}));
}

TEST(BinaryMath, BitShiftHandlesWideAndNegativeShifts) {
  Tensor a = Tensor::from_vector<int8_t>({4}, {-16, 16, 1, -1});
  Tensor b = Tensor::from_vector<int8_t>({4}, {2, 9, -1, 8});
  EXPECT_EQ(values_of<int8_t>(run("BitShift", 11, {a, b}, {make_attribute("direction", "RIGHT")})),
            (std::vector<int8_t>{-4, 0, 0, -1}));
  Tensor u = Tensor::from_vector<uint8_t>({2}, {1, 255});
  Tensor s = Tensor::from_vector<uint8_t>({2}, {7, 1});
  EXPECT_EQ(values_of<uint8_t>(run("BitShift", 11, {u, s}, {make_attribute("direction", "LEFT")})),
            (std::vector<uint8_t>{128, 254}));
}

TEST(BinaryMath, LegacyBroadcastUsesAxis) {
  // Opset 6: B of shape [3] lines up with A's axis 1 of [2,3,2].
  Tensor a = Tensor::from_vector<float>({2, 3, 2}, std::vector<float>(12, 1.0f));
  Tensor b = Tensor::from_vector<float>({3}, {10, 20, 30});
  Tensor y = run("Add", 6, {a, b},
                 {make_attribute("broadcast", int64_t{1}), make_attribute("axis", int64_t{1})});
  EXPECT_EQ(values_of<float>(y),
            (std::vector<float>{11, 11, 21, 21, 31, 31, 11, 11, 21, 21, 31, 31}));
  EXPECT_THROW(run("Add", 6, {a, b}), Error);  // broadcast=0 needs equal shapes
}

TEST(BinaryMath, ErrorsNameTheProblem) {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<float>({2}, {1, 2});
  try {
    run("Add", 14, {a, b});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2,3]"), std::string::npos) << e.what();
  }
  Tensor i = Tensor::from_vector<int32_t>({2}, {1, 2});
  EXPECT_THROW(run("Add", 14, {b, i}), Error);  // mixed types
  try {
    run("Sqrt", 13, {i});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotImplemented);
    EXPECT_NE(std::string(e.what()).find("int32"), std::string::npos) << e.what();
  }
}

TEST(Compare, EqualOnStringsBroadcasts) {
  Tensor a = Tensor::from_vector<std::string>({2, 2}, {"a", "b", "c", "b"});
  Tensor b = Tensor::from_vector<std::string>({2}, {"c", "b"});
  Tensor y = run("Equal", 19, {a, b});
  EXPECT_EQ(y.dtype(), DataType::kBool);
  EXPECT_EQ(values_of<bool>(y), (std::vector<bool>{false, true, true, true}));
}

TEST(Compare, OrderingsAndLogic) {
  Tensor a = Tensor::from_vector<uint64_t>({3}, {1, 5, 9});
  Tensor b = Tensor::scalar<uint64_t>(5);
  EXPECT_EQ(values_of<bool>(run("Less", 13, {a, b})), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(values_of<bool>(run("GreaterOrEqual", 16, {a, b})), (std::vector<bool>{false, true, true}));
  Tensor p = Tensor::from_vector<bool>({2, 2}, {true, true, false, false});
  Tensor q = Tensor::from_vector<bool>({2}, {true, false});
  EXPECT_EQ(values_of<bool>(run("Xor", 7, {p, q})), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(values_of<bool>(run("And", 7, {p, q})), (std::vector<bool>{true, false, false, false}));
}

TEST(Variadic, MaxBroadcastsThreeInputsAndPropagatesNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor a = Tensor::from_vector<float>({2, 1}, {1, nan});
  Tensor b = Tensor::from_vector<float>({3}, {0, 2, 4});
  Tensor c = Tensor::scalar<float>(3.0f);
  Tensor y = run("Max", 13, {a, b, c});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  auto v = values_of<float>(y);
  EXPECT_EQ(v[0], 3.0f);
  EXPECT_EQ(v[2], 4.0f);
  EXPECT_TRUE(std::isnan(v[3]) && std::isnan(v[5]));
  Tensor i = Tensor::from_vector<int16_t>({3}, {-1, 7, 2});
  Tensor j = Tensor::from_vector<int16_t>({3}, {4, -9, 2});
  EXPECT_EQ(values_of<int16_t>(run("Min", 13, {i, j})), (std::vector<int16_t>{-1, -9, 2}));
  Tensor m = run("Mean", 13, {Tensor::from_vector<double>({2}, {1, 2}),
                             Tensor::from_vector<double>({2}, {2, 2}),
                             Tensor::from_vector<double>({2}, {3, 5})});
  EXPECT_EQ(values_of<double>(m), (std::vector<double>{2, 3}));
  EXPECT_EQ(values_of<int16_t>(run("Sum", 13, {i})), (std::vector<int16_t>{-1, 7, 2}));
}

TEST(Unary, RoundsHalfToEvenAndHandlesSpecialValues) {
  Tensor x = Tensor::from_vector<float>({6}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f});
  EXPECT_EQ(values_of<float>(run("Round", 22, {x})),
            (std::vector<float>{0, 2, 2, -0.0f, -2, 2}));
  Tensor s = Tensor::from_vector<int32_t>({3}, {-5, 0, 7});
  EXPECT_EQ(values_of<int32_t>(run("Sign", 13, {s})), (std::vector<int32_t>{-1, 0, 1}));
  EXPECT_EQ(values_of<int32_t>(run("Abs", 13, {s})), (std::vector<int32_t>{5, 0, 7}));
  const float inf = std::numeric_limits<float>::infinity();
  Tensor f = Tensor::from_vector<float>({3}, {-inf, 1.0f, inf});
  EXPECT_EQ(values_of<bool>(run("IsInf", 20, {f}, {make_attribute("detect_negative", int64_t{0})})),
            (std::vector<bool>{false, false, true}));
  Tensor e = Tensor::from_vector<double>({2}, {0.0, 1.0});
  auto ev = values_of<double>(run("Exp", 13, {e}));
  EXPECT_DOUBLE_EQ(ev[1], 2.718281828459045);
  auto erf = values_of<float>(run("Erf", 13, {Tensor::from_vector<float>({1}, {0.5f})}));
  EXPECT_NEAR(erf[0], 0.5204998778130465f, 1e-6f);
}

TEST(ClipWhere, ClipReadsAttributesOrInputsByOpset) {
  Tensor x = Tensor::from_vector<float>({4}, {-3, -1, 1, 3});
  EXPECT_EQ(values_of<float>(run("Clip", 6, {x}, {make_attribute("min", -2.0f),
                                                  make_attribute("max", 2.0f)})),
            (std::vector<float>{-2, -1, 1, 2}));
  Tensor i = Tensor::from_vector<int8_t>({4}, {-100, -1, 1, 100});
  Node node = make_node("Clip", 3);
  node.inputs[1] = "";  // no min
  auto out = call_node_on_cpu(node, 13, {i, Value(), Tensor::scalar<int8_t>(5)});
  EXPECT_EQ(values_of<int8_t>(out[0].tensor()), (std::vector<int8_t>{-100, -1, 1, 5}));
}

TEST(ClipWhere, WhereBroadcastsThreeInputs) {
  Tensor c = Tensor::from_vector<bool>({2, 1}, {true, false});
  Tensor x = Tensor::from_vector<int64_t>({3}, {1, 2, 3});
  Tensor y = Tensor::scalar<int64_t>(-1);
  Tensor out = run("Where", 16, {c, x, y});
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<int64_t>(out), (std::vector<int64_t>{1, 2, 3, -1, -1, -1}));
}

TEST(ShapeRules, BroadcastKeepsSymbolsAndComparisonsGiveBool) {
  Node node = make_node("Add", 2);
  TypeInfo a = TypeInfo::tensor(DataType::kFloat,
                                std::vector<Dim>{Dim::named("N"), Dim::known(1), Dim::known(4)});
  TypeInfo b = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::known(3), Dim::known(1)});
  for (const char* op : {"Add", "Equal"}) {
    const ShapeRule* rule = ShapeRuleRegistry::global().find("", op);
    ASSERT_NE(rule, nullptr) << op;
    node.op_type = op;
    InferenceContext ctx(node, 14, {&a, &b}, {nullptr, nullptr});
    (*rule)(ctx);
    const TypeInfo& out = ctx.output_types()[0];
    EXPECT_EQ(out.elem_type, std::string(op) == "Add" ? DataType::kFloat : DataType::kBool);
    ASSERT_TRUE(out.shape.has_value());
    EXPECT_EQ(*out.shape, (std::vector<Dim>{Dim::named("N"), Dim::known(3), Dim::known(4)}));
  }
  TypeInfo bad = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::known(5)});
  node.op_type = "Add";
  InferenceContext ctx(node, 14, {&a, &bad}, {nullptr, nullptr});
  EXPECT_THROW((*ShapeRuleRegistry::global().find("", "Add"))(ctx), Error);
}

TEST(ShapeRules, CastReadsTypeCodesAndOpset1Names) {
  Node node = make_node("Cast", 1, {make_attribute("to", "INT32")});
  TypeInfo x = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::named("B")});
  InferenceContext ctx(node, 1, {&x}, {nullptr});
  (*ShapeRuleRegistry::global().find("", "Cast"))(ctx);
  EXPECT_EQ(ctx.output_types()[0].elem_type, DataType::kInt32);
  Tensor y = run("Cast", 1, {Tensor::from_vector<float>({2}, {2.7f, -1.2f})},
                 {make_attribute("to", "INT32")});
  EXPECT_EQ(values_of<int32_t>(y), (std::vector<int32_t>{2, -1}));
  EXPECT_THROW(run("Cast", 1, {Tensor::from_vector<float>({1}, {1.0f})},
                   {make_attribute("to", "QUATERNION")}),
               Error);
}

}  // namespace
}  // namespace onyx
