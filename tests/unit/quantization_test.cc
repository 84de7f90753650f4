// Quantization ops: QuantizeLinear/DequantizeLinear (per tensor, per axis, blocked, int4 and
// float16 outputs), DynamicQuantizeLinear, and the integer matmul/conv family. Expected values
// worked out by hand or with NumPy as the ONNX reference computes them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "onnx_ops/op_schema.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

std::vector<Value> run(const std::string& op, std::vector<Value> inputs, int64_t opset,
                       std::vector<Attribute> attributes = {}, size_t outputs = 1, int threads = 1) {
  Node node;
  node.op_type = op;
  node.name = "n";
  for (size_t i = 0; i < inputs.size(); ++i) {
    node.inputs.push_back(inputs[i].is_none() ? "" : "in" + std::to_string(i));
  }
  for (size_t i = 0; i < outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  node.attributes = std::move(attributes);
  return call_node_on_cpu(node, opset, inputs, threads);
}

template <typename T>
std::vector<T> values_of(const Value& v) {
  auto s = v.tensor().values<T>();
  return {s.begin(), s.end()};
}

TEST(QuantizeLinear, RoundsHalfToEvenAndSaturates) {
  Tensor x = Tensor::from_vector<float>({5}, {1, 3, 5, -3, 1000});
  auto y = run("QuantizeLinear", {x, Tensor::scalar<float>(2), Tensor::scalar<uint8_t>(128)}, 13);
  EXPECT_EQ(values_of<uint8_t>(y[0]), (std::vector<uint8_t>{128, 130, 130, 126, 255}));
  // Without a zero point the output is uint8 with zero point 0.
  auto z = run("QuantizeLinear", {x, Tensor::scalar<float>(2)}, 13);
  EXPECT_EQ(values_of<uint8_t>(z[0]), (std::vector<uint8_t>{0, 2, 2, 0, 255}));
}

// One scale, float to int8 and uint8 over a length that is not a multiple of the 16-wide
// vector loop, on 2 threads: halves round to even, out-of-range values, infinities and NaN
// saturate (NaN to the low end), exactly as the element formula says.
TEST(QuantizeLinear, PerTensorVectorLoopMatchesTheFormula) {
  const int64_t n = 1003;
  std::vector<float> xs(n);
  for (int64_t i = 0; i < n; ++i) xs[i] = (static_cast<float>(i % 301) - 150.f) * 0.25f;  // many exact halves
  xs[7] = std::numeric_limits<float>::quiet_NaN();
  xs[8] = std::numeric_limits<float>::infinity();
  xs[9] = -std::numeric_limits<float>::infinity();
  xs[1000] = 1e30f;
  const float scale = 0.5f;
  for (DataType type : {DataType::kInt8, DataType::kUInt8}) {
    const bool is_signed = type == DataType::kInt8;
    const float zero = is_signed ? -3.f : 131.f, lo = is_signed ? -128.f : 0.f, hi = is_signed ? 127.f : 255.f;
    Value zp = is_signed ? Value(Tensor::scalar<int8_t>(-3)) : Value(Tensor::scalar<uint8_t>(131));
    auto y = run("QuantizeLinear", {Tensor::from_vector<float>({n}, xs), Tensor::scalar<float>(scale), zp}, 13, {}, 1, 2);
    for (int64_t i = 0; i < n; ++i) {
      const float v = std::nearbyint(xs[i] / scale) + zero;
      const float expected = v >= lo ? std::min(v, hi) : lo;
      const float actual = is_signed ? y[0].tensor().data<int8_t>()[i] : y[0].tensor().data<uint8_t>()[i];
      ASSERT_EQ(actual, expected) << dtype_name(type) << " at " << i << " (x " << xs[i] << ")";
    }
  }
}

TEST(QuantizeLinear, ThreadedChunksSplitRowsCorrectly) {
  // Rows of 20000 elements with per-row scales, on 4 threads: chunk edges fall inside rows.
  const int64_t cols = 20000;
  std::vector<float> xs(3 * cols);
  for (int64_t i = 0; i < 3 * cols; ++i) xs[i] = static_cast<float>(i % 200) - 100.0f + 0.5f;
  const float scales[3] = {1.0f, 2.0f, 4.0f};
  auto y = run("QuantizeLinear",
               {Tensor::from_vector<float>({3, cols}, xs), Tensor::from_vector<float>({3}, {1, 2, 4}),
                Tensor::from_vector<int8_t>({3}, {0, 0, 0})},
               13, {make_attribute("axis", int64_t{0})}, 1, 4);
  auto q = values_of<int8_t>(y[0]);
  auto d = run("DequantizeLinear",
               {y[0], Tensor::from_vector<float>({3}, {1, 2, 4}), Tensor::from_vector<int8_t>({3}, {0, 0, 0})},
               13, {make_attribute("axis", int64_t{0})}, 1, 4);
  auto back = values_of<float>(d[0]);
  for (int64_t i = 0; i < 3 * cols; ++i) {
    const float s = scales[i / cols];
    const float expected = std::nearbyint(xs[i] / s);  // |x / s| <= 100: never saturates
    ASSERT_EQ(q[i], static_cast<int8_t>(expected)) << i;
    ASSERT_EQ(back[i], expected * s) << i;
  }
}

TEST(QuantizeLinear, PrecisionFloat16RoundsOperandsAndQuotient) {
  // NumPy: rint(float16(100.04) / float16(0.3)) = 334, while float32 gives rint(333.47) = 333.
  Tensor x = Tensor::from_vector<float>({1}, {100.04f});
  auto h = run("QuantizeLinear", {x, Tensor::scalar<float>(0.3f), Tensor::scalar<uint16_t>(0)}, 23,
               {make_attribute("precision", int64_t{10})});
  EXPECT_EQ(values_of<uint16_t>(h[0]), (std::vector<uint16_t>{334}));
  auto f = run("QuantizeLinear", {x, Tensor::scalar<float>(0.3f), Tensor::scalar<uint16_t>(0)}, 23);
  EXPECT_EQ(values_of<uint16_t>(f[0]), (std::vector<uint16_t>{333}));
}

TEST(QuantizeLinear, PerAxisInt8) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  auto y = run("QuantizeLinear",
               {x, Tensor::from_vector<float>({2}, {1, 2}), Tensor::from_vector<int8_t>({2}, {0, -1})},
               13, {make_attribute("axis", int64_t{0})});
  EXPECT_EQ(values_of<int8_t>(y[0]), (std::vector<int8_t>{1, 2, 1, 1}));
}

TEST(QuantizeLinear, BlockedInt4PacksLowNibbleFirst) {
  Tensor x = Tensor::from_vector<float>({1, 4}, {1, 2, 3, -20});
  auto y = run("QuantizeLinear", {x, Tensor::from_vector<float>({1, 2}, {1, 2})}, 21,
               {make_attribute("axis", int64_t{1}), make_attribute("block_size", int64_t{2}),
                make_attribute("output_dtype", int64_t{22})});
  const Tensor& t = y[0].tensor();
  ASSERT_EQ(t.dtype(), DataType::kInt4);
  const auto* bytes = static_cast<const uint8_t*>(t.raw_data());
  // [1, 2, rint(1.5) = 2, -10 saturated to -8 = 0x8]
  EXPECT_EQ(bytes[0], 0x21);
  EXPECT_EQ(bytes[1], 0x82);
}

TEST(QuantizeLinear, RejectsBadScaleShapeAndTypeMismatch) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(run("QuantizeLinear", {x, Tensor::from_vector<float>({2}, {1, 2})}, 13), Error);
  EXPECT_THROW(run("QuantizeLinear", {x, Tensor::scalar<float>(1), Tensor::scalar<int8_t>(0)}, 21,
                   {make_attribute("output_dtype", int64_t{2})}),
               Error);
  EXPECT_THROW(run("QuantizeLinear", {x, Tensor::from_vector<float>({2, 1}, {1, 2})}, 21,
                   {make_attribute("axis", int64_t{1}), make_attribute("block_size", int64_t{2})}),
               Error);
}

TEST(DequantizeLinear, PerAxisWithZeroPoint) {
  Tensor x = Tensor::from_vector<uint8_t>({2, 2}, {130, 120, 128, 100});
  auto y = run("DequantizeLinear",
               {x, Tensor::from_vector<float>({2}, {0.5f, 2.0f}), Tensor::from_vector<uint8_t>({2}, {128, 100})},
               13, {make_attribute("axis", int64_t{1})});
  EXPECT_EQ(values_of<float>(y[0]), (std::vector<float>{1.0f, 40.0f, 0.0f, 0.0f}));
}

TEST(DequantizeLinear, Float16ScaleGivesFloat16Output) {
  Tensor x = Tensor::from_vector<int8_t>({2}, {3, -4});
  auto y = run("DequantizeLinear", {x, Tensor::scalar<Float16>(Float16(0.5f))}, 19);
  ASSERT_EQ(y[0].tensor().dtype(), DataType::kFloat16);
  EXPECT_EQ(static_cast<float>(y[0].tensor().data<Float16>()[0]), 1.5f);
  EXPECT_EQ(static_cast<float>(y[0].tensor().data<Float16>()[1]), -2.0f);
}

TEST(DequantizeLinear, RejectsZeroPointOfOtherType) {
  Tensor x = Tensor::from_vector<int8_t>({2}, {3, -4});
  EXPECT_THROW(run("DequantizeLinear", {x, Tensor::scalar<float>(1), Tensor::scalar<uint8_t>(0)}, 13),
               Error);
}

TEST(DynamicQuantizeLinear, RangeIncludesZero) {
  Tensor x = Tensor::from_vector<float>({4}, {-1.0f, 0.5f, 2.0f, 3.0f});
  auto y = run("DynamicQuantizeLinear", {x}, 11, {}, 3);
  EXPECT_EQ(values_of<uint8_t>(y[0]), (std::vector<uint8_t>{0, 96, 191, 255}));
  EXPECT_FLOAT_EQ(y[1].tensor().data<float>()[0], 0.015686275f);
  EXPECT_EQ(y[2].tensor().data<uint8_t>()[0], 64);
}

TEST(MatMulInteger, PerTensorAndPerColumnZeroPoints) {
  Tensor a = Tensor::from_vector<uint8_t>({2, 3}, {11, 7, 3, 10, 6, 2});
  Tensor b = Tensor::from_vector<uint8_t>({3, 2}, {1, 4, 2, 5, 3, 6});
  auto y = run("MatMulInteger", {a, b, Tensor::scalar<uint8_t>(12), Tensor::from_vector<uint8_t>({2}, {0, 1})}, 10);
  EXPECT_EQ(values_of<int32_t>(y[0]), (std::vector<int32_t>{-38, -68, -44, -80}));
  EXPECT_THROW(run("MatMulInteger", {a, a}, 10), Error);  // inner dims 3 vs 2
  EXPECT_THROW(run("MatMulInteger", {a, b, Tensor::scalar<int8_t>(1)}, 10), Error);  // zp type
}

TEST(MatMulInteger, ColumnBlocksAndBatchBroadcastOnThreads) {
  // A [2, 1, 3] (int8) times B [3, 600] (uint8, broadcast over the batch), checked against a
  // naive triple loop; 600 columns span several column blocks.
  const std::vector<int8_t> av = {-5, 7, 3, 100, -128, 127};
  std::vector<uint8_t> bv(3 * 600);
  for (size_t i = 0; i < bv.size(); ++i) bv[i] = static_cast<uint8_t>((i * 37) % 256);
  auto y = run("MatMulInteger",
               {Tensor::from_vector<int8_t>({2, 1, 3}, av), Tensor::from_vector<uint8_t>({3, 600}, bv),
                Tensor::scalar<int8_t>(-3), Tensor::scalar<uint8_t>(200)},
               10, {}, 1, 4);
  ASSERT_EQ(y[0].tensor().shape(), (Shape{2, 1, 600}));
  auto out = values_of<int32_t>(y[0]);
  for (int b = 0; b < 2; ++b) {
    for (int j = 0; j < 600; ++j) {
      int32_t expected = 0;
      for (int k = 0; k < 3; ++k) expected += (av[b * 3 + k] + 3) * (bv[k * 600 + j] - 200);
      ASSERT_EQ(out[b * 600 + j], expected) << b << "," << j;
    }
  }
}

TEST(QLinearMatMul, RequantizesWithRoundingAndSaturation) {
  Tensor a = Tensor::from_vector<uint8_t>({2, 2}, {208, 236, 0, 238});
  Tensor b = Tensor::from_vector<uint8_t>({2, 2}, {152, 51, 244, 60});
  auto y = run("QLinearMatMul",
               {a, Tensor::scalar<float>(0.0066f), Tensor::scalar<uint8_t>(113), b,
                Tensor::scalar<float>(0.00705f), Tensor::scalar<uint8_t>(114),
                Tensor::scalar<float>(0.0107f), Tensor::scalar<uint8_t>(118)},
               10);
  EXPECT_EQ(values_of<uint8_t>(y[0]), (std::vector<uint8_t>{203, 63, 170, 120}));
}

Tensor float8(Shape shape, std::vector<uint8_t> codes) {
  Tensor t(DataType::kFloat8E4M3FN, std::move(shape));
  std::memcpy(t.mutable_raw_data(), codes.data(), codes.size());
  return t;
}

TEST(QLinearMatMul, Float8OperandsAndOutput) {
  // E4M3FN codes: 1.0 = 0x38, 2.0 = 0x40, 0.5 = 0x30, 3.0 = 0x44, 448 (max) = 0x7E.
  auto y = run("QLinearMatMul",
               {float8({1, 2}, {0x38, 0x40}), Tensor::scalar<float>(1), Value(), float8({2, 2}, {0x40, 0x40, 0x30, 0x40}),
                Tensor::from_vector<float>({2}, {1, 1000}), Value(), Tensor::scalar<float>(1), float8({}, {0x00})},
               21);
  ASSERT_EQ(y[0].tensor().dtype(), DataType::kFloat8E4M3FN);
  const auto* codes = static_cast<const uint8_t*>(y[0].tensor().raw_data());
  EXPECT_EQ(codes[0], 0x44);  // 1*2 + 2*0.5 = 3
  EXPECT_EQ(codes[1], 0x7E);  // (2 + 4) * 1000 saturates to 448
}

TEST(ConvInteger, SubtractsInputZeroPoint) {
  std::vector<uint8_t> xs(9);
  for (int i = 0; i < 9; ++i) xs[i] = static_cast<uint8_t>(i + 2);
  Tensor x = Tensor::from_vector<uint8_t>({1, 1, 3, 3}, xs);
  Tensor w = Tensor::from_vector<uint8_t>({1, 1, 2, 2}, {1, 1, 1, 1});
  auto y = run("ConvInteger", {x, w, Tensor::scalar<uint8_t>(1)}, 10);
  EXPECT_EQ(y[0].tensor().shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values_of<int32_t>(y[0]), (std::vector<int32_t>{12, 16, 24, 28}));
  EXPECT_THROW(run("ConvInteger", {x, Tensor::from_vector<uint8_t>({1, 2, 1, 1}, {1, 1})}, 10), Error);
}

TEST(ConvInteger, GroupsStridesAndPaddingMatchReference) {
  // x[i] = i % 251, w[i] = (7 i) % 256 (the reference's inputs; expected from its ConvInteger).
  std::vector<uint8_t> xs(128), ws(72);
  for (int i = 0; i < 128; ++i) xs[i] = static_cast<uint8_t>(i % 251);
  for (int i = 0; i < 72; ++i) ws[i] = static_cast<uint8_t>((i * 7) % 256);
  auto y = run("ConvInteger",
               {Tensor::from_vector<uint8_t>({2, 4, 4, 4}, xs), Tensor::from_vector<uint8_t>({4, 2, 3, 3}, ws),
                Tensor::scalar<uint8_t>(3), Tensor::scalar<uint8_t>(128)},
               10,
               {make_attribute("group", int64_t{2}), make_attribute("strides", std::vector<int64_t>{2, 2}),
                make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})});
  EXPECT_EQ(y[0].tensor().shape(), (Shape{2, 4, 2, 2}));
  EXPECT_EQ(values_of<int32_t>(y[0]),
            (std::vector<int32_t>{-1072, -2932, -6813, -12867, 6488, 10676, 13599, 21153, -16288,
                                  -27172, -33957, -47003, 23528, 34820, 34839, 50889, -28976,
                                  -47476, -56733, -91779, 43096, 62900, 60447, 87393, -46240,
                                  -74788, -86949, -114139, 58088, 83972, 78615, 112521}));
}

TEST(QLinearConv, PerChannelWeightScalesAndBias) {
  std::vector<uint8_t> xs(18);
  for (int i = 0; i < 18; ++i) xs[i] = static_cast<uint8_t>(i * 10);
  std::vector<int8_t> ws(16);
  for (int i = 0; i < 16; ++i) ws[i] = static_cast<int8_t>(i + 1);
  auto y = run("QLinearConv",
               {Tensor::from_vector<uint8_t>({1, 2, 3, 3}, xs), Tensor::scalar<float>(0.05f),
                Tensor::scalar<uint8_t>(20), Tensor::from_vector<int8_t>({2, 2, 2, 2}, ws),
                Tensor::from_vector<float>({2}, {0.1f, 0.02f}), Tensor::from_vector<int8_t>({2}, {0, 1}),
                Tensor::scalar<float>(0.5f), Tensor::scalar<uint8_t>(100),
                Tensor::from_vector<int32_t>({2}, {10, -20})},
               10);
  EXPECT_EQ(values_of<uint8_t>(y[0]), (std::vector<uint8_t>{125, 129, 136, 139, 110, 112, 115, 117}));
}

std::vector<TypeInfo> infer(const std::string& op, size_t outputs, const std::vector<TypeInfo>& types,
                            std::vector<Attribute> attributes = {}) {
  Node node;
  node.op_type = op;
  node.name = "n";
  for (size_t i = 0; i < types.size(); ++i) node.inputs.push_back("in" + std::to_string(i));
  for (size_t i = 0; i < outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  node.attributes = std::move(attributes);
  const ShapeRule* rule = ShapeRuleRegistry::global().find("", op);
  EXPECT_NE(rule, nullptr);
  std::vector<const TypeInfo*> ptrs;
  for (const TypeInfo& t : types) ptrs.push_back(&t);
  InferenceContext ctx(node, 25, ptrs, std::vector<const Tensor*>(types.size(), nullptr));
  (*rule)(ctx);
  return ctx.output_types();
}

TypeInfo typed(DataType t, std::vector<int64_t> dims) {
  std::vector<Dim> d;
  for (int64_t v : dims) d.push_back(Dim::known(v));
  return TypeInfo::tensor(t, d);
}

TEST(QuantizationShapeRules, OutputTypesFollowZeroPointOrAttributes) {
  auto q = infer("QuantizeLinear", 1, {typed(DataType::kFloat, {2, 3}), typed(DataType::kFloat, {})});
  EXPECT_EQ(q[0].to_string(), typed(DataType::kUInt8, {2, 3}).to_string());
  auto q4 = infer("QuantizeLinear", 1, {typed(DataType::kFloat, {2, 3}), typed(DataType::kFloat, {})},
                  {make_attribute("output_dtype", int64_t{22})});
  EXPECT_EQ(q4[0].elem_type, DataType::kInt4);
  auto d = infer("DequantizeLinear", 1, {typed(DataType::kInt8, {4}), typed(DataType::kFloat16, {})});
  EXPECT_EQ(d[0].to_string(), typed(DataType::kFloat16, {4}).to_string());
  auto m = infer("MatMulInteger", 1, {typed(DataType::kUInt8, {5, 2, 3}), typed(DataType::kInt8, {3, 4})});
  EXPECT_EQ(m[0].to_string(), typed(DataType::kInt32, {5, 2, 4}).to_string());
  auto c = infer("ConvInteger", 1, {typed(DataType::kUInt8, {1, 2, 5, 5}), typed(DataType::kUInt8, {3, 2, 3, 3})},
                 {make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})});
  EXPECT_EQ(c[0].to_string(), typed(DataType::kInt32, {1, 3, 5, 5}).to_string());
  auto dq = infer("DynamicQuantizeLinear", 3, {typed(DataType::kFloat, {7})});
  EXPECT_EQ(dq[0].to_string(), typed(DataType::kUInt8, {7}).to_string());
  EXPECT_EQ(dq[1].to_string(), typed(DataType::kFloat, {}).to_string());
}

}  // namespace
}  // namespace onyx
