// Attention and RotaryEmbedding kernels: expected values from onnx.reference.ReferenceEvaluator
// (inputs are sin(0.37 * i + seed) * 1.5, as generated there), covering GQA with past/present
// and causal masks, 3-D inputs with a short boolean mask and softcap, fully masked rows,
// nonpad_kv_seqlen, rotary variants, shape derivation and error paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "onnx_ops/attention.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

Tensor values(Shape shape, double seed) {
  std::vector<float> v(static_cast<size_t>(shape_element_count(shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<float>(std::sin(static_cast<double>(i) * 0.37 + seed) * 1.5);
  }
  return Tensor::from_vector<float>(std::move(shape), v);
}

std::vector<Tensor> run(const std::string& op, int64_t opset, const std::vector<Value>& inputs,
                        std::vector<Attribute> attributes, size_t outputs) {
  Node node;
  node.op_type = op;
  node.name = op + "_node";
  for (size_t i = 0; i < inputs.size(); ++i) {
    node.inputs.push_back(inputs[i].is_none() ? "" : "in" + std::to_string(i));
  }
  for (size_t i = 0; i < outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  node.attributes = std::move(attributes);
  std::vector<Tensor> result;
  for (const Value& value : call_node_on_cpu(node, opset, inputs)) result.push_back(value.tensor());
  return result;
}

void expect_values(const Tensor& t, const Shape& shape, const std::vector<double>& expected,
                   double tolerance = 2e-5) {
  ASSERT_EQ(t.shape(), shape);
  ASSERT_EQ(t.element_count(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    double actual = t.element_as_double(static_cast<int64_t>(i));
    if (std::isinf(expected[i])) {
      EXPECT_EQ(actual, expected[i]) << "element " << i;
    } else {
      EXPECT_NEAR(actual, expected[i], tolerance) << "element " << i;
    }
  }
}

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Attention, GroupedQueryCausalWithPastAndPresent) {
  auto out = run("Attention", 24,
                 {values({1, 4, 2, 3}, 0.1), values({1, 2, 2, 3}, 0.2), values({1, 2, 2, 2}, 0.3),
                  Value(), values({1, 2, 1, 3}, 0.4), values({1, 2, 1, 2}, 0.5)},
                 {make_attribute("is_causal", int64_t{1}),
                  make_attribute("qk_matmul_output_mode", int64_t{3})},
                 4);
  expect_values(out[0], {1, 4, 2, 2},
                {0.5959513783454895, 1.0504767894744873, 1.0558968782424927, 1.3353815078735352,
                 0.6004525423049927, 1.0539851188659668, 0.7191393375396729, 1.121871829032898,
                 1.4618911743164062, 1.2824116945266724, 1.090970516204834, 0.7457508444786072,
                 1.425790548324585, 1.4632154703140259, 1.422605037689209, 1.463293194770813});
  expect_values(out[1], {1, 2, 3, 3},
                {0.5841274857521057, 1.0442028045654297, 1.3629502058029175, 0.29800400137901306,
                 0.8094480633735657, 1.2113372087478638, 1.449277400970459, 1.4910647869110107,
                 1.3310436010360718, 1.497228741645813, 1.4288642406463623, 1.1671098470687866,
                 0.990871787071228, 0.5165901780128479, -0.027609460055828094,
                 -0.5680723190307617, -1.0316492319107056, -1.3555972576141357},
                0.0);
  expect_values(out[2], {1, 2, 3, 2},
                {0.7191383242607117, 1.1464934349060059, 0.44328030943870544, 0.9314789772033691,
                 1.2936062812805176, 1.4806501865386963, 1.4186760187149048, 1.498847484588623,
                 1.4672949314117432, 1.2553482055664062, 0.8734959959983826, 0.37342017889022827},
                0.0);
  expect_values(out[3], {1, 4, 2, 3},
                {0.5534409284591675, 0.44655904173851013, 0.0, 0.22391828894615173,
                 0.1282750368118286, 0.647806704044342, 0.5697576999664307, 0.43024230003356934,
                 0.0, 0.33192193508148193, 0.4513426721096039, 0.216735377907753,
                 0.11114431917667389, 0.8888556361198425, 0.0, 0.15625430643558502,
                 0.22278210520744324, 0.6209636330604553, 0.8536667227745056,
                 0.14633329212665558, 0.0, 0.8688988089561462, 0.12698373198509216,
                 0.004117452073842287});
}

TEST(Attention, ThreeDimensionalShortBoolMaskSoftcapAndBiasedScores) {
  Tensor mask = Tensor::from_vector<bool>({2, 2}, {true, false, true, true});
  auto out = run("Attention", 24,
                 {values({2, 2, 4}, 0.6), values({2, 3, 4}, 0.7), values({2, 3, 2}, 0.8), mask},
                 {make_attribute("q_num_heads", int64_t{2}),
                  make_attribute("kv_num_heads", int64_t{2}), make_attribute("softcap", 2.0f),
                  make_attribute("scale", 0.8f),
                  make_attribute("qk_matmul_output_mode", int64_t{2})},
                 4);
  expect_values(out[0], {2, 2, 2},
                {1.0760341882705688, 1.3811259269714355, 1.2835664749145508, 1.3950742483139038,
                 0.18193988502025604, -0.36879074573516846, 0.12944617867469788,
                 -0.5625468492507935});
  expect_values(out[3], {2, 2, 2, 3},
                {1.5049258470535278, -kInf, -kInf, 1.5313103199005127, 1.4926058053970337, -kInf,
                 1.879186987876892, -kInf, -kInf, 0.470482736825943, 0.1377042979001999, -kInf,
                 1.3037538528442383, -kInf, -kInf, 1.7005438804626465, -1.245571255683899, -kInf,
                 0.6786802411079407, -kInf, -kInf, 0.34500351548194885, -0.9253484010696411,
                 -kInf});
}

TEST(Attention, FullyMaskedRowGivesZerosNotNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> m(12, 0.0f);
  m[3] = m[4] = m[5] = -inf;  // head 0, query 1: every key masked
  m[7] = -0.5f;
  Tensor mask = Tensor::from_vector<float>({2, 2, 3}, m);
  auto out = run("Attention", 23,
                 {values({1, 2, 2, 2}, 0.9), values({1, 2, 3, 2}, 1.0), values({1, 2, 3, 2}, 1.1),
                  mask},
                 {}, 1);
  expect_values(out[0], {1, 2, 2, 2},
                {1.3222107887268066, 1.2246477603912354, 0.0, 0.0, -0.6240249276161194,
                 -0.9807442426681519, -1.0397083759307861, -1.2211661338806152});
}

TEST(Attention, NonpadLengthsShiftTheCausalFrontierPerBatch) {
  Tensor lengths = Tensor::from_vector<int64_t>({2}, {3, 1});
  auto out = run("Attention", 24,
                 {values({2, 1, 2, 2}, 1.2), values({2, 1, 4, 2}, 1.3), values({2, 1, 4, 2}, 1.4),
                  Value(), Value(), Value(), lengths},
                 {make_attribute("is_causal", int64_t{1})}, 1);
  expect_values(out[0], {2, 1, 2, 2},
                {1.4034017324447632, 1.266688346862793, 1.324424147605896, 1.147310733795166, 0.0,
                 0.0, -1.40782630443573, -1.4997674226760864});
}

TEST(Attention, HalfPrecisionMatchesFloatWithinHalfTolerance) {
  auto to_half = [](const Tensor& t) {
    std::vector<Float16> h;
    for (float x : t.values<float>()) h.push_back(Float16(x));
    return Tensor::from_vector<Float16>(t.shape(), h);
  };
  auto out = run("Attention", 24,
                 {to_half(values({1, 4, 2, 3}, 0.1)), to_half(values({1, 2, 2, 3}, 0.2)),
                  to_half(values({1, 2, 2, 2}, 0.3)), Value(), to_half(values({1, 2, 1, 3}, 0.4)),
                  to_half(values({1, 2, 1, 2}, 0.5))},
                 {make_attribute("is_causal", int64_t{1})}, 1);
  ASSERT_EQ(out[0].dtype(), DataType::kFloat16);
  expect_values(out[0], {1, 4, 2, 2},
                {0.5959513783454895, 1.0504767894744873, 1.0558968782424927, 1.3353815078735352,
                 0.6004525423049927, 1.0539851188659668, 0.7191393375396729, 1.121871829032898,
                 1.4618911743164062, 1.2824116945266724, 1.090970516204834, 0.7457508444786072,
                 1.425790548324585, 1.4632154703140259, 1.422605037689209, 1.463293194770813},
                5e-3);
}

TEST(Attention, ShapesOfThreeDimensionalGroupedInputs) {
  Shape past_k{2, 2, 5, 4}, past_v{2, 2, 5, 3};
  AttentionShape s = attention_shape({2, 7, 16}, {2, 7, 8}, {2, 7, 6}, &past_k, &past_v, 4, 2);
  EXPECT_EQ(s.y, (Shape{2, 7, 12}));
  EXPECT_EQ(s.present_key, (Shape{2, 2, 12, 4}));
  EXPECT_EQ(s.present_value, (Shape{2, 2, 12, 3}));
  EXPECT_EQ(s.qk, (Shape{2, 4, 7, 12}));
}

TEST(Attention, RejectsBadHeadCountsAndShapes) {
  // Hidden size 10 does not split into 4 heads.
  EXPECT_THROW(attention_shape({1, 2, 10}, {1, 2, 10}, {1, 2, 10}, nullptr, nullptr, 4, 2), Error);
  // 3 query heads cannot share 2 KV heads.
  EXPECT_THROW(attention_shape({1, 3, 2, 4}, {1, 2, 2, 4}, {1, 2, 2, 4}, nullptr, nullptr, 0, 0),
               Error);
  // K and V disagree on sequence length; Q and K on head size.
  EXPECT_THROW(attention_shape({1, 2, 2, 4}, {1, 2, 3, 4}, {1, 2, 2, 4}, nullptr, nullptr, 0, 0),
               Error);
  EXPECT_THROW(attention_shape({1, 2, 2, 4}, {1, 2, 3, 5}, {1, 2, 3, 4}, nullptr, nullptr, 0, 0),
               Error);
  // Mixed ranks; past_key without past_value.
  EXPECT_THROW(attention_shape({1, 2, 8}, {1, 2, 2, 4}, {1, 2, 2, 4}, nullptr, nullptr, 2, 2),
               Error);
  Shape pk{1, 2, 1, 4};
  EXPECT_THROW(attention_shape({1, 2, 2, 4}, {1, 2, 2, 4}, {1, 2, 2, 4}, &pk, nullptr, 0, 0),
               Error);
  // Through the kernel: a mask that does not broadcast over the query rows.
  Tensor mask = Tensor::from_vector<bool>({3, 2}, {true, true, true, true, true, true});
  EXPECT_THROW(run("Attention", 23,
                   {values({1, 1, 2, 2}, 0), values({1, 1, 2, 2}, 0), values({1, 1, 2, 2}, 0),
                    mask},
                   {}, 1),
               Error);
  EXPECT_THROW(run("Attention", 23,
                   {values({1, 2, 6}, 0), values({1, 2, 6}, 0), values({1, 2, 6}, 0)},
                   {make_attribute("q_num_heads", int64_t{4}),
                    make_attribute("kv_num_heads", int64_t{2})},
                   1),
               Error);
}

TEST(RotaryEmbedding, InterleavedPartialRotationWithPositionIds) {
  const double angle = 0.3;
  std::vector<float> c, s;
  for (int i = 0; i < 6; ++i) {
    c.push_back(static_cast<float>(std::cos(i * angle)));
    s.push_back(static_cast<float>(std::sin(i * angle)));
  }
  auto out = run("RotaryEmbedding", 23,
                 {values({1, 2, 8}, 1.5), Tensor::from_vector<float>({3, 2}, c),
                  Tensor::from_vector<float>({3, 2}, s),
                  Tensor::from_vector<int64_t>({1, 2}, {2, 0})},
                 {make_attribute("num_heads", int64_t{2}), make_attribute("interleaved", int64_t{1}),
                  make_attribute("rotary_embedding_dim", int64_t{4})},
                 1);
  expect_values(out[0], {1, 2, 8},
                {-0.793769896030426, 1.9139447212219238, -0.6752350926399231, 1.2273125648498535,
                 0.3767108619213104, 0.11247528344392776, 1.1576720476150513, -0.9041920900344849,
                 -1.4524779319763184, -1.4896377325057983, -0.975980281829834, -1.3291559219360352,
                 -0.5047325491905212, 0.04021722078323364, 0.24626347422599792,
                 1.1656032800674438});
}

TEST(RotaryEmbedding, HalvesWithPerBatchCachesOn4DInput) {
  auto out = run("RotaryEmbedding", 23,
                 {values({1, 1, 2, 4}, 1.6), values({1, 2, 2}, 1.7), values({1, 2, 2}, 1.8)}, {},
                 1);
  expect_values(out[0], {1, 1, 2, 4},
                {0.6560252904891968, 1.0428521633148193, 3.7932944297790527, 2.5382752418518066,
                 0.8885180950164795, 0.2252204716205597, -0.8329691290855408,
                 -0.7915544509887695});
}

TEST(RotaryEmbedding, RejectsBadHeadsCachesAndPositions) {
  Tensor cache = values({4, 2}, 0);
  // 3-D input without num_heads, and hidden size not divisible by num_heads.
  EXPECT_THROW(run("RotaryEmbedding", 23, {values({1, 2, 8}, 0), cache, cache,
                                           Tensor::from_vector<int64_t>({1, 2}, {0, 1})},
                   {}, 1),
               Error);
  EXPECT_THROW(run("RotaryEmbedding", 23, {values({1, 2, 8}, 0), cache, cache,
                                           Tensor::from_vector<int64_t>({1, 2}, {0, 1})},
                   {make_attribute("num_heads", int64_t{3})}, 1),
               Error);
  // Cache width must be rotary_dim / 2 (head size 4 -> 2; here 3).
  Tensor wide = values({4, 3}, 0);
  EXPECT_THROW(run("RotaryEmbedding", 23, {values({1, 1, 2, 4}, 0), wide, wide,
                                           Tensor::from_vector<int64_t>({1, 2}, {0, 1})},
                   {}, 1),
               Error);
  // Position beyond the cache.
  EXPECT_THROW(run("RotaryEmbedding", 23, {values({1, 1, 2, 4}, 0), cache, cache,
                                           Tensor::from_vector<int64_t>({1, 2}, {0, 4})},
                   {}, 1),
               Error);
}

Tensor halved(Tensor t) {
  for (float& x : std::span<float>(t.mutable_data<float>(), t.element_count())) x *= 0.5f;
  return t;
}

TEST(LinearAttention, GatedDeltaWithGroupedHeadsAndPastState) {
  Tensor decay = Tensor::from_vector<float>({1, 2, 1}, {-1.0131947994232178f, -0.5446497797966003f});
  Tensor beta = Tensor::from_vector<float>({1, 2, 1}, {0.7104783654212952f, 0.5992639064788818f});
  auto out = run("LinearAttention", 27,
                 {values({1, 2, 4}, 2.0), halved(values({1, 2, 2}, 2.1)), values({1, 2, 3}, 2.2),
                  values({1, 1, 2, 3}, 2.3), decay, beta},
                 {make_attribute("q_num_heads", int64_t{2}),
                  make_attribute("kv_num_heads", int64_t{1})},
                 2);
  expect_values(out[0], {1, 2, 6},
                {0.9855585098266602, 0.551552414894104, 0.042896199971437454, 0.36881589889526367,
                 0.2537010610103607, 0.104249007999897, -0.24645154178142548,
                 -0.08062922209501266, 0.09610588848590851, -0.5584422945976257,
                 -0.22003811597824097, 0.14814721047878265});
  expect_values(out[1], {1, 1, 2, 3},
                {0.4590781331062317, 0.24412375688552856, -0.0038716644048690796,
                 0.1228812113404274, -0.007727205753326416, -0.13728974759578705});
}

TEST(LinearAttention, PlainLinearRuleWithoutPastAndExplicitScale) {
  auto out = run("LinearAttention", 27,
                 {values({1, 2, 4}, 2.0), halved(values({1, 2, 2}, 2.1)), values({1, 2, 3}, 2.2)},
                 {make_attribute("q_num_heads", int64_t{2}),
                  make_attribute("kv_num_heads", int64_t{1}),
                  make_attribute("update_rule", "linear"), make_attribute("scale", 0.5f)},
                 2);
  expect_values(out[0], {1, 2, 6},
                {0.8314162492752075, 0.5563081502914429, 0.2059062421321869, 0.2435821294784546,
                 0.1629830002784729, 0.06032487377524376, -0.4640040397644043,
                 -0.29216864705085754, -0.08078953623771667, -0.9127717018127441,
                 -0.5451973676681519, -0.10383304208517075});
  expect_values(out[1], {1, 1, 2, 3},
                {0.7291280031204224, 0.35399094223976135, -0.06905725598335266,
                 0.5788468718528748, 0.41811853647232056, 0.20079976320266724});
}

TEST(LinearAttention, RejectsMissingGatesAndBadHeads) {
  // gated_delta (the default) needs decay and beta.
  EXPECT_THROW(run("LinearAttention", 27,
                   {values({1, 2, 4}, 0), values({1, 2, 2}, 0), values({1, 2, 3}, 0)},
                   {make_attribute("q_num_heads", int64_t{2}),
                    make_attribute("kv_num_heads", int64_t{1})},
                   2),
               Error);
  EXPECT_THROW(run("LinearAttention", 27,
                   {values({1, 2, 4}, 0), values({1, 2, 2}, 0), values({1, 2, 3}, 0)},
                   {make_attribute("q_num_heads", int64_t{3}),
                    make_attribute("kv_num_heads", int64_t{2}),
                    make_attribute("update_rule", "linear")},
                   2),
               Error);
}

TEST(CausalConvWithState, SiluWithBiasAndPastState) {
  auto out = run("CausalConvWithState", 27,
                 {values({1, 2, 4}, 2.6), values({2, 1, 3}, 2.7), values({2}, 2.8),
                  values({1, 2, 2}, 2.9)},
                 {make_attribute("activation", "silu")}, 2);
  expect_values(out[0], {1, 2, 4},
                {0.21947553753852844, 0.20488665997982025, 0.8793167471885681, 0.7227509021759033,
                 3.817028284072876, 4.68846321105957, 5.132532596588135, 5.174930095672607});
  expect_values(out[1], {1, 2, 2},
                {-0.2956622540950775, -0.8074357509613037, -1.4913232326507568,
                 -1.3321433067321777},
                0.0);
}

TEST(CausalConvWithState, RejectsMismatchedWeightAndState) {
  EXPECT_THROW(run("CausalConvWithState", 27, {values({1, 2, 4}, 0), values({3, 1, 3}, 0)}, {}, 2),
               Error);
  EXPECT_THROW(run("CausalConvWithState", 27,
                   {values({1, 2, 4}, 0), values({2, 1, 3}, 0), Value(), values({1, 2, 3}, 0)},
                   {}, 2),
               Error);
}

// Plain causal GQA attention with a KV cache, written as directly as possible, to check the
// kernel's row-blocked path (more than one 64-row block, keys cut per block) on more threads.
std::vector<double> naive_causal_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                           const Tensor& past_k, const Tensor& past_v) {
  const int64_t QH = q.dim(1), SQ = q.dim(2), D = q.dim(3), KH = k.dim(1), SK = k.dim(2);
  const int64_t P = past_k.dim(2), group = QH / KH;
  auto key = [&](int64_t h, int64_t j, int64_t d) {
    return j < P ? past_k.data<float>()[(h * P + j) * D + d]
                 : k.data<float>()[(h * SK + j - P) * D + d];
  };
  auto value = [&](int64_t h, int64_t j, int64_t d) {
    return j < P ? past_v.data<float>()[(h * P + j) * D + d]
                 : v.data<float>()[(h * SK + j - P) * D + d];
  };
  std::vector<double> y(static_cast<size_t>(QH * SQ * D), 0.0);
  for (int64_t h = 0; h < QH; ++h) {
    for (int64_t i = 0; i < SQ; ++i) {
      std::vector<double> w;
      for (int64_t j = 0; j <= P + i; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < D; ++d) dot += q.data<float>()[(h * SQ + i) * D + d] * key(h / group, j, d);
        w.push_back(dot / std::sqrt(static_cast<double>(D)));
      }
      double m = *std::max_element(w.begin(), w.end()), sum = 0;
      for (double& x : w) sum += (x = std::exp(x - m));
      for (int64_t j = 0; j < static_cast<int64_t>(w.size()); ++j) {
        for (int64_t d = 0; d < D; ++d) y[(h * SQ + i) * D + d] += w[j] / sum * value(h / group, j, d);
      }
    }
  }
  return y;
}

TEST(Attention, RowBlocksMatchNaiveCausalAttentionOnTwoThreads) {
  Tensor q = values({1, 4, 150, 8}, 0.3), k = values({1, 2, 150, 8}, 0.5),
         v = values({1, 2, 150, 8}, 0.7), pk = values({1, 2, 5, 8}, 0.9),
         pv = values({1, 2, 5, 8}, 1.1);
  Node node;
  node.op_type = "Attention";
  node.inputs = {"q", "k", "v", "", "pk", "pv"};
  node.outputs = {"y"};
  node.attributes = {make_attribute("is_causal", int64_t{1})};
  auto out = call_node_on_cpu(node, 23, {q, k, v, Value(), pk, pv}, 2);
  expect_values(out[0].tensor(), {1, 4, 150, 8}, naive_causal_attention(q, k, v, pk, pv), 1e-4);
}

TEST(FlexAttention, GroupedHeadsWithExplicitScale) {
  Node node;
  node.op_type = "FlexAttention";
  node.domain = "ai.onnx.preview";
  node.inputs = {"q", "k", "v"};
  node.outputs = {"y"};
  node.attributes = {make_attribute("scale", 0.7f)};
  auto out = call_node_on_cpu(
      node, 1, {values({1, 2, 2, 3}, 3.0), values({1, 1, 3, 3}, 3.1), values({1, 1, 3, 2}, 3.2)});
  expect_values(out[0].tensor(), {1, 2, 2, 2},
                {-0.8332201838493347, -1.1353696584701538, -1.073385238647461, -1.3438029289245605,
                 -1.109775424003601, -1.3292688131332397, -0.9129844307899475,
                 -1.1180065870285034});
  // Three query heads cannot share two KV heads.
  EXPECT_THROW(call_node_on_cpu(node, 1, {values({1, 3, 2, 3}, 0), values({1, 2, 3, 3}, 0),
                                          values({1, 2, 3, 2}, 0)}),
               Error);
}

}  // namespace
}  // namespace onyx
