// Unit tests of the tensor-op shape rules: constant inputs resolve shapes, symbolic dims pass
// through, unknown inputs give unknown dims instead of errors.
#include "onnx_ops/attribute_checks.h"
#include "onnx_ops/op_schema.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

// Runs the rule of `node` and returns the output types.
std::vector<TypeInfo> infer(const Node& node, int64_t opset, const std::vector<TypeInfo>& types,
                            const std::vector<const Tensor*>& constants = {}) {
  const ShapeRule* rule = ShapeRuleRegistry::global().find("", node.op_type);
  if (rule == nullptr) throw std::runtime_error("no rule for " + node.op_type);
  std::vector<const TypeInfo*> type_ptrs;
  for (const TypeInfo& t : types) type_ptrs.push_back(&t);
  std::vector<const Tensor*> consts = constants;
  consts.resize(types.size(), nullptr);
  InferenceContext ctx(node, opset, type_ptrs, consts);
  (*rule)(ctx);
  return ctx.output_types();
}

TypeInfo ftype(std::vector<Dim> dims) { return TypeInfo::tensor(DataType::kFloat, std::move(dims)); }
Dim k(int64_t v) { return Dim::known(v); }
Dim sym(const char* s) { return Dim::named(s); }

TEST(ShapeRules, ReshapeKeepsSymbolsAndInfersMinusOne) {
  Tensor target = ints({0, -1, 4});
  auto out = infer(make_node("Reshape", 2, 1), 14,
                   {ftype({sym("batch"), k(3), k(8)}), TypeInfo::tensor(DataType::kInt64, {{k(3)}})},
                   {nullptr, &target});
  ASSERT_TRUE(out[0].shape);
  EXPECT_EQ(out[0].to_string(), "float[batch,6,4]");
}

TEST(ShapeRules, ReshapeWithUnknownTargetKnowsOnlyTheRank) {
  auto out = infer(make_node("Reshape", 2, 1), 14,
                   {ftype({k(2), k(3)}), TypeInfo::tensor(DataType::kInt64, {{k(3)}})});
  EXPECT_EQ(out[0].to_string(), "float[?,?,?]");
}

// Fuzz regressions (model_mutate/reshape-huge-declared-shape-length,
// constantofshape-huge-declared-shape-length, flatten-huge-declared-dims): a shape input declared
// 2^37 long made the rule allocate 2^37 unknown dims (gigabytes), and Flatten multiplied declared
// dims of 2^62 into an overflow. A length that is no plausible rank gives an unknown rank, an
// overflowing product an unknown dim.
TEST(ShapeRules, HugeDeclaredShapeLengthsAndDimsGiveUnknownsNotGigabytesOrOverflow) {
  const TypeInfo huge_shape = TypeInfo::tensor(DataType::kInt64, {{k(int64_t{1} << 37)}});
  EXPECT_FALSE(infer(make_node("Reshape", 2, 1), 14, {ftype({k(2), k(3)}), huge_shape})[0].shape);
  EXPECT_FALSE(infer(make_node("Expand", 2, 1), 13, {ftype({k(2), k(3)}), huge_shape})[0].shape);
  EXPECT_FALSE(infer(make_node("ConstantOfShape", 1, 1), 20, {huge_shape})[0].shape);
  const TypeInfo plausible_shape = TypeInfo::tensor(DataType::kInt64, {{k(5)}});
  EXPECT_EQ(infer(make_node("Reshape", 2, 1), 14, {ftype({k(2), k(3)}), plausible_shape})[0].to_string(),
            "float[?,?,?,?,?]");
  // A declared input whose element count overflows int64 cannot exist: refused, not wrapped.
  expect_error([&] { infer(make_node("Flatten", 1, 1, {make_attribute("axis", int64_t{2})}), 13,
                           {ftype({k(int64_t{1} << 62), k(3), k(5)})}); },
               {"overflows int64", "4611686018427387904 * 3"});
}

// Fuzz regressions (model_mutate/spacetodepth-huge-blocksize, convtranspose-huge-group): the
// rules multiplied these attributes unchecked (signed overflow); they are refused, naming the node.
TEST(ShapeRules, HugeBlocksizeAndGroupAreRefusedNotOverflowed) {
  auto x = ftype({k(1), k(2), k(4), k(6)});
  // The attribute check, which runs before these rules, refuses them.
  Node s2d = make_node("SpaceToDepth", 1, 1, {make_attribute("blocksize", int64_t{1} << 62)});
  expect_error([&] { check_node_attributes(s2d, 13, {&x}); },
               {"attribute blocksize must be in [1, 2147483647], got 4611686018427387904"});
  Node d2s = make_node("DepthToSpace", 1, 1, {make_attribute("blocksize", int64_t{0})});
  expect_error([&] { check_node_attributes(d2s, 13, {&x}); }, {"attribute blocksize must be in [1, 2147483647], got 0"});
  Node convt = make_node("ConvTranspose", 2, 1, {make_attribute("group", int64_t{1} << 62)});
  TypeInfo cx = ftype({k(1), k(2), k(3), k(3)}), cw = ftype({k(2), k(2), k(3), k(3)});
  expect_error([&] { check_node_attributes(convt, 11, {&cx, &cw}); },
               {"attribute group must be in [1, 2147483647], got 4611686018427387904"});
  // A group in range whose product with a huge declared W dim overflows: the rule refuses it.
  Node convt2 = make_node("ConvTranspose", 2, 1, {make_attribute("group", int64_t{4})});
  expect_error([&] { infer(convt2, 11, {ftype({k(1), k(4), k(3), k(3)}), ftype({k(4), k(int64_t{1} << 62), k(3), k(3)})}); },
               {"ConvTranspose", "group 4"});
}

TEST(ShapeRules, UnsqueezeSqueezeAndFlatten) {
  Tensor axes = ints({0, -1});
  auto u = infer(make_node("Unsqueeze", 2, 1), 13,
                 {ftype({sym("n"), k(3)}), TypeInfo::tensor(DataType::kInt64, {{k(2)}})},
                 {nullptr, &axes});
  EXPECT_EQ(u[0].to_string(), "float[1,n,3,1]");
  auto s = infer(make_node("Squeeze", 1, 1, {make_attribute("axes", std::vector<int64_t>{0})}),
                 11, {ftype({k(1), sym("n")})});
  EXPECT_EQ(s[0].to_string(), "float[n]");
  auto f = infer(make_node("Flatten", 1, 1), 13, {ftype({sym("n"), k(1), k(3), k(4)})});
  EXPECT_EQ(f[0].to_string(), "float[n,12]");
}

TEST(ShapeRules, TransposeConcatSplit) {
  auto t = infer(make_node("Transpose", 1, 1, {make_attribute("perm", std::vector<int64_t>{1, 0})}),
                 13, {ftype({sym("n"), k(3)})});
  EXPECT_EQ(t[0].to_string(), "float[3,n]");
  auto c = infer(make_node("Concat", 2, 1, {make_attribute("axis", int64_t{-1})}), 13,
                 {ftype({sym("n"), k(3)}), ftype({sym("n"), k(2)})});
  EXPECT_EQ(c[0].to_string(), "float[n,5]");
  auto s = infer(make_node("Split", 1, 3, {make_attribute("axis", int64_t{1}),
                                           make_attribute("num_outputs", int64_t{3})}),
                 18, {ftype({sym("n"), k(7)})});
  EXPECT_EQ(s[0].to_string(), "float[n,3]");
  EXPECT_EQ(s[2].to_string(), "float[n,1]");
}

TEST(ShapeRules, SliceWithConstantsAndWithout) {
  Tensor starts = ints({1}), ends = ints({-1}), axes = ints({1});
  auto a = infer(make_node("Slice", 4, 1), 13,
                 {ftype({sym("n"), k(10)}), TypeInfo::tensor(DataType::kInt64, {{k(1)}}),
                  TypeInfo::tensor(DataType::kInt64, {{k(1)}}),
                  TypeInfo::tensor(DataType::kInt64, {{k(1)}})},
                 {nullptr, &starts, &ends, &axes});
  EXPECT_EQ(a[0].to_string(), "float[n,8]");
  auto b = infer(make_node("Slice", 4, 1), 13,
                 {ftype({sym("n"), k(10)}), TypeInfo::tensor(DataType::kInt64, {{k(1)}}),
                  TypeInfo::tensor(DataType::kInt64, {{k(1)}}),
                  TypeInfo::tensor(DataType::kInt64, {{k(1)}})},
                 {nullptr, nullptr, nullptr, &axes});
  EXPECT_EQ(b[0].to_string(), "float[n,?]");
}

TEST(ShapeRules, GatherPadExpandTileShape) {
  auto g = infer(make_node("Gather", 2, 1, {make_attribute("axis", int64_t{1})}), 13,
                 {ftype({sym("n"), k(10), k(4)}), TypeInfo::tensor(DataType::kInt64, {{k(2), k(3)}})});
  EXPECT_EQ(g[0].to_string(), "float[n,2,3,4]");
  Tensor pads = ints({0, 1, 0, 2});
  auto p = infer(make_node("Pad", 2, 1), 13,
                 {ftype({sym("n"), k(3)}), TypeInfo::tensor(DataType::kInt64, {{k(4)}})},
                 {nullptr, &pads});
  EXPECT_EQ(p[0].to_string(), "float[n,6]");
  Tensor shape = ints({2, 1, 3});
  auto e = infer(make_node("Expand", 2, 1), 13,
                 {ftype({sym("n"), k(1)}), TypeInfo::tensor(DataType::kInt64, {{k(3)}})},
                 {nullptr, &shape});
  EXPECT_EQ(e[0].to_string(), "float[2,n,3]");
  Tensor repeats = ints({1, 2});
  auto t = infer(make_node("Tile", 2, 1), 13,
                 {ftype({sym("n"), k(3)}), TypeInfo::tensor(DataType::kInt64, {{k(2)}})},
                 {nullptr, &repeats});
  EXPECT_EQ(t[0].to_string(), "float[n,6]");
  auto s = infer(make_node("Shape", 1, 1, {make_attribute("start", int64_t{1})}), 15,
                 {ftype({sym("n"), k(3), k(4)})});
  EXPECT_EQ(s[0].to_string(), "int64[2]");
}

TEST(ShapeRules, ConstantsAndGenerators) {
  auto c = infer(make_node("Constant", 0, 1, {make_attribute("value_ints", std::vector<int64_t>{1, 2, 3})}),
                 13, {});
  EXPECT_EQ(c[0].to_string(), "int64[3]");
  Tensor shape = ints({2, 5});
  auto z = infer(make_node("ConstantOfShape", 1, 1), 9,
                 {TypeInfo::tensor(DataType::kInt64, {{k(2)}})}, {&shape});
  EXPECT_EQ(z[0].to_string(), "float[2,5]");
  Tensor s = Tensor::scalar<int64_t>(0), l = Tensor::scalar<int64_t>(10), d = Tensor::scalar<int64_t>(3);
  TypeInfo scalar = TypeInfo::tensor(DataType::kInt64, std::vector<Dim>{});
  auto r = infer(make_node("Range", 3, 1), 11, {scalar, scalar, scalar}, {&s, &l, &d});
  EXPECT_EQ(r[0].to_string(), "int64[4]");
}

TEST(ShapeRules, BadAxisIsAnError) {
  EXPECT_THROW(infer(make_node("Gather", 2, 1, {make_attribute("axis", int64_t{3})}), 13,
                     {ftype({k(2), k(3)}), TypeInfo::tensor(DataType::kInt64, {{k(1)}})}),
               Error);
}

}  // namespace
}  // namespace onyx::tensor_test
