// build_gradient_graph as a whole: fan-out sums, pruning, frozen and default trainable values,
// training-mode Dropout and BatchNormalization, dynamic shapes, and its errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "runtime/common/error.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"
#include "tests/training/gradient_check.h"
#include "training/gradient_builder.h"

namespace onyx::testing {
namespace {

using training::build_gradient_graph;

std::vector<Dim> dims(std::vector<int64_t> values) {
  std::vector<Dim> result;
  for (int64_t v : values) result.push_back(v >= 0 ? Dim::known(v) : Dim::named(v == -1 ? "N" : "K"));
  return result;
}
ValueInfo value(std::string name, std::vector<int64_t> shape, DataType type = DataType::kDouble) {
  return {std::move(name), TypeInfo::tensor(type, dims(std::move(shape))), ""};
}
InputSpec in(std::string name, Shape shape) { return {std::move(name), std::move(shape)}; }

size_t count_ops(const Model& model, const std::string& op) {
  return static_cast<size_t>(std::count_if(model.graph.nodes.begin(), model.graph.nodes.end(),
                                           [&](const Node& n) { return n.op_type == op; }));
}

std::map<std::string, Tensor> run_named(const Model& model, const std::map<std::string, Value>& feeds) {
  InferenceSession session(model);
  std::map<std::string, Tensor> out;
  for (auto& named : session.run(feeds)) out[named.name] = named.value.tensor();
  return out;
}

// x fans out into three consumers (one of them twice): its gradient is their sum.
TEST(GradientBuilder, FanOutGradientsAreSummed) {
  Model model = make_model({make_node("Mul", {"x", "x"}, {"sq"}), make_node("Sin", {"x"}, {"s"}),
                            make_node("Add", {"sq", "s"}, {"t"}), make_node("MatMul", {"t", "x"}, {"y"})},
                           {value("x", {3, 3})}, {{"y", TypeInfo{}, ""}}, 18);
  check_graph_gradient({.model = model, .inputs = {in("x", {3, 3})}});
}

// A two-layer MLP with a symbolic batch: the bias gradient sums over the batch statically,
// and a [K, 4] operand whose K may be 1 is un-broadcast with run-time axes.
TEST(GradientBuilder, MlpWithSymbolicDims) {
  Model model = make_model({make_node("MatMul", {"x", "w1"}, {"h"}), make_node("Add", {"h", "b1"}, {"hb"}),
                            make_node("Relu", {"hb"}, {"r"}), make_node("Mul", {"r", "k"}, {"rk"}),
                            make_node("Gemm", {"rk", "w2"}, {"z"}, {make_attribute("transB", int64_t{1})}),
                            make_node("LogSoftmax", {"z"}, {"y"})},
                           {value("x", {-1, 3}), value("w1", {3, 4}), value("b1", {4}), value("k", {-2, 4}),
                            value("w2", {2, 4})},
                           {{"y", TypeInfo{}, ""}}, 17);
  for (int64_t k : {1, 5}) {
    SCOPED_TRACE(k);
    check_graph_gradient({.model = model,
                          .inputs = {in("x", {5, 3}), in("w1", {3, 4}), in("b1", {4}), in("k", {k, 4}),
                                     in("w2", {2, 4})}});
  }
}

TEST(GradientBuilder, PrunesBranchesNoTrainableValueNeedsAndHonoursFrozen) {
  Model model = make_model({make_node("Mul", {"x", "w1"}, {"a"}), make_node("Cos", {"w2"}, {"b"}),
                            make_node("Add", {"a", "b"}, {"c"}), make_node("TopK", {"x", "k"}, {"top", "idx"}),
                            make_node("ReduceSum", {"c"}, {"s"}, {make_attribute("keepdims", int64_t{0})}),
                            make_node("ReduceSum", {"top"}, {"s2"}, {make_attribute("keepdims", int64_t{0})}),
                            make_node("Add", {"s", "s2"}, {"loss"})},
                           {value("x", {4})}, {{"loss", TypeInfo{}, ""}}, 18);
  model.graph.set_initializer("w1", Tensor::from_vector<double>({4}, {1, 2, 3, 4}));
  model.graph.set_initializer("w2", Tensor::from_vector<double>({4}, {1, 2, 3, 4}));
  model.graph.set_initializer("k", Tensor::from_vector<int64_t>({1}, {2}));
  // w2 frozen although listed: no Sin (Cos's derivative) is built; TopK (no rule) is off the path.
  auto result = build_gradient_graph(model, {.loss = "loss", .trainable = {"w1", "w2"}, .frozen = {"w2"}});
  ASSERT_EQ(result.gradients.size(), 1u);
  EXPECT_EQ(result.gradients[0].first, "w1");
  EXPECT_EQ(count_ops(result.model, "Sin"), 0u);
  auto out = run_named(result.model, {{"x", Tensor::from_vector<double>({4}, {0.5, -1, 2, 3})}});
  const Tensor& g = out.at(result.gradients[0].second);
  EXPECT_EQ(g.values<double>()[1], -1.0);  // d/dw1 sum(x * w1) = x
  EXPECT_EQ(g.values<double>()[3], 3.0);
}

TEST(GradientBuilder, DefaultTrainableSetIsTheFloatInitializersWithAGradientPath) {
  Model model = make_model({make_node("Conv", {"x", "w"}, {"c"}),
                            make_node("BatchNormalization", {"c", "scale", "bias", "mean", "var"}, {"bn"}),
                            make_node("Reshape", {"bn", "shape"}, {"flat"}),
                            make_node("ReduceMean", {"flat"}, {"loss"}, {make_attribute("keepdims", int64_t{0})})},
                           {value("x", {2, 1, 3, 3}, DataType::kFloat)}, {{"loss", TypeInfo{}, ""}}, 17);
  model.graph.set_initializer("w", random_tensor(DataType::kFloat, {2, 1, 2, 2}, -1, 1, 3));
  for (const char* name : {"scale", "bias", "mean"}) {
    model.graph.set_initializer(name, random_tensor(DataType::kFloat, {2}, -1, 1, 4));
  }
  model.graph.set_initializer("var", random_tensor(DataType::kFloat, {2}, 0.5, 1, 5));
  model.graph.set_initializer("shape", Tensor::from_vector<int64_t>({1}, {-1}));
  auto result = build_gradient_graph(model, {.loss = "loss"});
  std::vector<std::string> trained;
  for (const auto& [name, gradient] : result.gradients) trained.push_back(name);
  // Training mode: the running statistics are not trained but updated.
  EXPECT_EQ(trained, (std::vector<std::string>{"w", "scale", "bias"}));
  ASSERT_EQ(result.state_updates.size(), 2u);
  EXPECT_EQ(result.state_updates[0].first, "mean");
  EXPECT_EQ(result.state_updates[1].first, "var");
}

TEST(GradientBuilder, BatchNormTrainingModeUpdatesRunningStatistics) {
  Model model = make_model({make_node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"},
                                      {make_attribute("momentum", 0.8f)}),
                            make_node("ReduceSum", {"y"}, {"loss"}, {make_attribute("keepdims", int64_t{0})})},
                           {value("x", {2, 1, 2})}, {{"loss", TypeInfo{}, ""}}, 15);
  model.graph.set_initializer("scale", Tensor::from_vector<double>({1}, {1.0}));
  model.graph.set_initializer("bias", Tensor::from_vector<double>({1}, {0.0}));
  model.graph.set_initializer("mean", Tensor::from_vector<double>({1}, {10.0}));
  model.graph.set_initializer("var", Tensor::from_vector<double>({1}, {4.0}));
  auto result = build_gradient_graph(model, {.loss = "loss", .trainable = {"scale"}});
  auto out = run_named(result.model, {{"x", Tensor::from_vector<double>({2, 1, 2}, {1, 2, 3, 6})}});
  // Batch mean 3; running mean = 0.8 * 10 + 0.2 * 3 (ONNX's momentum convention).
  EXPECT_NEAR(out.at(result.state_updates[0].second).values<double>()[0], 8.6, 1e-6);  // momentum is a float
}

// Dropout in training mode cannot be checked by finite differences (its mask is random): the
// gradient must be the weights where the mask kept an element, scaled by 1 / (1 - ratio).
TEST(GradientBuilder, DropoutTrainingGradientUsesTheMask) {
  Model model = make_model({make_node("Dropout", {"x", "ratio"}, {"y", "mask"}), make_node("Mul", {"y", "w"}, {"p"}),
                            make_node("ReduceSum", {"p"}, {"loss"}, {make_attribute("keepdims", int64_t{0})})},
                           {value("x", {64})}, {{"loss", TypeInfo{}, ""}, {"mask", TypeInfo{}, ""}}, 13);
  model.graph.set_initializer("ratio", Tensor::scalar<double>(0.25));
  Tensor w = random_tensor(DataType::kDouble, {64}, -1, 1, 9);
  model.graph.set_initializer("w", w);
  auto result = build_gradient_graph(model, {.loss = "loss", .trainable = {"x"}});
  auto out = run_named(result.model, {{"x", random_tensor(DataType::kDouble, {64}, -1, 1, 10)}});
  const Tensor& mask = out.at("mask");
  const Tensor& g = out.at(result.gradients[0].second);
  int dropped = 0;
  for (int64_t i = 0; i < 64; ++i) {
    bool kept = mask.values<bool>()[static_cast<size_t>(i)];
    dropped += kept ? 0 : 1;
    EXPECT_NEAR(g.values<double>()[static_cast<size_t>(i)], kept ? w.values<double>()[static_cast<size_t>(i)] / 0.75 : 0.0, 1e-12);
  }
  EXPECT_GT(dropped, 0);  // training mode really drew a mask
}

TEST(GradientBuilder, MissingRuleOnThePathIsAnErrorNamingTheOp) {
  Model model = make_model({make_node("Hardmax", {"x"}, {"h"}, {}, "argmax_node"),
                            make_node("ReduceSum", {"h"}, {"loss"}, {make_attribute("keepdims", int64_t{0})})},
                           {value("x", {2, 3})}, {{"loss", TypeInfo{}, ""}}, 18);
  try {
    build_gradient_graph(model, {.loss = "loss", .trainable = {"x"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no gradient rule for op Hardmax"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("argmax_node"), std::string::npos) << e.what();
  }
}

TEST(GradientBuilder, BadRequestsAreErrors) {
  Model model = make_model({make_node("Sin", {"x"}, {"y"})}, {value("x", {2, 3})}, {{"y", TypeInfo{}, ""}}, 18);
  EXPECT_THROW(build_gradient_graph(model, {.loss = "y", .trainable = {"x"}}), Error);        // not one element
  EXPECT_THROW(build_gradient_graph(model, {.loss = "nope", .trainable = {"x"}}), Error);     // unknown loss
  EXPECT_THROW(build_gradient_graph(model, {.loss = "", .trainable = {"x"}}), Error);         // no loss
  Model old = make_model({make_node("ReduceSum", {"x"}, {"s"}, {make_attribute("keepdims", int64_t{0})})},
                         {value("x", {2, 3})}, {{"s", TypeInfo{}, ""}}, 9);
  try {
    build_gradient_graph(old, {.loss = "s", .trainable = {"x"}});
    ADD_FAILURE() << "expected an error for opset 9";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("opset 11 or newer"), std::string::npos) << e.what();
  }
  Model scalar = make_model({make_node("ReduceSum", {"x"}, {"s"}, {make_attribute("keepdims", int64_t{0})})},
                            {value("x", {2, 3})}, {{"s", TypeInfo{}, ""}}, 18);
  EXPECT_THROW(build_gradient_graph(scalar, {.loss = "s", .trainable = {"missing"}}), Error);
}

// A trainable value the loss does not depend on gets zeros (what an optimizer expects).
TEST(GradientBuilder, UnusedTrainableValueGetsZeros) {
  Model model = make_model({make_node("ReduceSum", {"x"}, {"s"}, {make_attribute("keepdims", int64_t{0})})},
                           {value("x", {2}), value("unused", {3})}, {{"s", TypeInfo{}, ""}}, 18);
  auto result = build_gradient_graph(model, {.loss = "s", .trainable = {"x", "unused"}});
  auto out = run_named(result.model, {{"x", Tensor::from_vector<double>({2}, {1, 2})},
                                      {"unused", Tensor::from_vector<double>({3}, {1, 2, 3})}});
  const Tensor& g = out.at(result.gradients[1].second);
  ASSERT_EQ(g.shape(), Shape({3}));
  for (double v : g.values<double>()) EXPECT_EQ(v, 0.0);
}


// A BERT-style block as exporters write it: embedding Gather with repeated ids, multi-head
// attention through Reshape/Transpose/MatMul/Softmax with a Where mask, a residual fan-out,
// LayerNorm spelled out with ReduceMean/Pow/Sqrt, and Gelu spelled out with Erf.
TEST(GradientBuilder, TransformerBlockAsExported) {
  auto n = [](std::string op, std::vector<std::string> in, std::string out, std::vector<Attribute> attrs = {}) {
    return make_node(std::move(op), std::move(in), {std::move(out)}, std::move(attrs));
  };
  Attribute perm_q = make_attribute("perm", std::vector<int64_t>{0, 2, 1, 3});
  Attribute perm_k = make_attribute("perm", std::vector<int64_t>{0, 2, 3, 1});
  std::vector<Node> nodes = {
      n("Gather", {"E", "ids"}, "tok"), n("Add", {"tok", "pos"}, "x"),
      n("MatMul", {"x", "Wq"}, "q0"), n("Reshape", {"q0", "heads"}, "q1"), n("Transpose", {"q1"}, "q", {perm_q}),
      n("MatMul", {"x", "Wk"}, "k0"), n("Reshape", {"k0", "heads"}, "k1"), n("Transpose", {"k1"}, "k", {perm_k}),
      n("MatMul", {"x", "Wv"}, "v0"), n("Reshape", {"v0", "heads"}, "v1"), n("Transpose", {"v1"}, "v", {perm_q}),
      n("MatMul", {"q", "k"}, "s0"), n("Div", {"s0", "scale"}, "s1"), n("Where", {"causal", "s1", "minus"}, "s2"),
      n("Softmax", {"s2"}, "p", {make_attribute("axis", int64_t{-1})}), n("MatMul", {"p", "v"}, "c0"),
      n("Transpose", {"c0"}, "c1", {perm_q}), n("Reshape", {"c1", "merged"}, "c2"), n("Add", {"c2", "x"}, "res"),
      n("ReduceMean", {"res", "last"}, "mu"), n("Sub", {"res", "mu"}, "d"), n("Pow", {"d", "two"}, "d2"),
      n("ReduceMean", {"d2", "last"}, "var"), n("Add", {"var", "eps"}, "ve"), n("Sqrt", {"ve"}, "sd"),
      n("Div", {"d", "sd"}, "xn"), n("Mul", {"xn", "gamma"}, "xg"), n("Add", {"xg", "beta"}, "h"),
      n("Div", {"h", "sqrt2"}, "hs"), n("Erf", {"hs"}, "erf"), n("Add", {"erf", "one"}, "e1"),
      n("Mul", {"h", "e1"}, "he"), n("Mul", {"he", "half"}, "y")};
  Model model = make_model(nodes, {}, {{"y", TypeInfo{}, ""}}, 18);
  model.graph.inputs = {tensor_value("E", DataType::kDouble, {10, 8}), tensor_value("pos", DataType::kDouble, {4, 8}),
                        tensor_value("Wq", DataType::kDouble, {8, 8}), tensor_value("Wk", DataType::kDouble, {8, 8}),
                        tensor_value("Wv", DataType::kDouble, {8, 8}), tensor_value("gamma", DataType::kDouble, {8}),
                        tensor_value("beta", DataType::kDouble, {8})};
  Graph& g = model.graph;
  g.set_initializer("ids", Tensor::from_vector<int64_t>({2, 4}, {1, 3, 3, 7, 0, 1, 9, 1}));
  g.set_initializer("heads", Tensor::from_vector<int64_t>({4}, {2, 4, 2, 4}));
  g.set_initializer("merged", Tensor::from_vector<int64_t>({3}, {2, 4, 8}));
  g.set_initializer("last", Tensor::from_vector<int64_t>({1}, {-1}));
  std::vector<bool> causal;
  for (int i = 0; i < 4; ++i) for (int j = 0; j < 4; ++j) causal.push_back(j <= i);
  g.set_initializer("causal", Tensor::from_vector<bool>({4, 4}, causal));
  for (auto [name, v] : std::vector<std::pair<const char*, double>>{
           {"scale", 2.0}, {"minus", -1e4}, {"two", 2.0}, {"eps", 1e-5}, {"sqrt2", std::sqrt(2.0)}, {"one", 1.0}, {"half", 0.5}}) {
    g.set_initializer(name, Tensor::scalar<double>(v));
  }
  check_graph_gradient({.model = model,
                        .inputs = {in("E", {10, 8}), in("pos", {4, 8}), in("Wq", {8, 8}), in("Wk", {8, 8}),
                                   in("Wv", {8, 8}), in("gamma", {8}), in("beta", {8})}});
}


// Opset 14 (PyTorch 1.13's default export) has no ScatterElements reduction, which overlapping
// MaxPool windows need: the gradient model is declared at 16, where no op of the model changed.
TEST(GradientBuilder, Opset14ModelsAreDeclaredAt16ForScatterAdd) {
  Model model = make_model({make_node("MaxPool", {"x"}, {"m"}, {make_attribute("kernel_shape", std::vector<int64_t>{3}),
                                                                make_attribute("strides", std::vector<int64_t>{1})}),
                            make_node("ReduceSum", {"m"}, {"loss"}, {make_attribute("keepdims", int64_t{0})})},
                           {value("x", {1, 1, 6})}, {{"loss", TypeInfo{}, ""}}, 14);
  auto result = build_gradient_graph(model, {.loss = "loss", .trainable = {"x"}});
  EXPECT_EQ(result.model.opsets.at(""), 16);
  auto out = run_named(result.model, {{"x", Tensor::from_vector<double>({1, 1, 6}, {0, 5, 1, 2, 4, 3})}});
  // Windows [0,5,1] [5,1,2] [1,2,4] [2,4,3]: 5 wins twice, 4 twice.
  const auto g = out.at(result.gradients[0].second).values<double>();
  EXPECT_EQ(std::vector<double>(g.begin(), g.end()), (std::vector<double>{0, 2, 0, 0, 2, 0}));
  // Before 14 the opset stays and per-offset masks replace the scatter-add; ties go to the first
  // maximum in both forms, as the kernel's Indices do.
  for (int64_t opset : {13, 16}) {
    SCOPED_TRACE(opset);
    model.opsets[""] = opset;
    auto tied = build_gradient_graph(model, {.loss = "loss", .trainable = {"x"}});
    EXPECT_EQ(tied.model.opsets.at(""), opset);
    auto values = run_named(tied.model, {{"x", Tensor::from_vector<double>({1, 1, 6}, {1, 3, 3, 2, 3, 3})}});
    // Windows [1,3,3] [3,3,2] [3,2,3] [2,3,3]: the first 3 of each (positions 1, 1, 2, 4).
    const auto t = values.at(tied.gradients[0].second).values<double>();
    EXPECT_EQ(std::vector<double>(t.begin(), t.end()), (std::vector<double>{0, 2, 1, 0, 1, 0}));
  }
}


// BatchNormalization 11-13 has no training switch: it is rewritten into primitive ops with the
// same meaning as opset 14's training mode, so both give the same gradients and statistics.
TEST(GradientBuilder, BatchNormBeforeOpset14TrainsLikeOpset14) {
  auto build = [](int64_t opset) {
    Model model = make_model({make_node("Conv", {"x", "w"}, {"c"}),
                              make_node("BatchNormalization", {"c", "scale", "bias", "mean", "var"}, {"n"},
                                        {make_attribute("momentum", 0.75f), make_attribute("epsilon", 1e-3f)}),
                              make_node("Tanh", {"n"}, {"t"}), make_node("Mul", {"t", "t"}, {"sq"}),
                              make_node("ReduceSum", {"sq"}, {"loss"}, {make_attribute("keepdims", int64_t{0})})},
                             {value("x", {3, 2, 4, 4})}, {{"loss", TypeInfo{}, ""}}, opset);
    model.graph.set_initializer("w", random_tensor(DataType::kDouble, {3, 2, 3, 3}, -1, 1, 21));
    model.graph.set_initializer("scale", random_tensor(DataType::kDouble, {3}, 0.5, 1.5, 22));
    model.graph.set_initializer("bias", random_tensor(DataType::kDouble, {3}, -1, 1, 23));
    model.graph.set_initializer("mean", random_tensor(DataType::kDouble, {3}, -1, 1, 24));
    model.graph.set_initializer("var", random_tensor(DataType::kDouble, {3}, 0.5, 1.5, 25));
    auto result = build_gradient_graph(model, {.loss = "loss"});
    auto out = run_named(result.model, {{"x", random_tensor(DataType::kDouble, {3, 2, 4, 4}, -1, 1, 26)}});
    std::map<std::string, Tensor> named;
    for (const auto& [value, output] : result.gradients) named["grad:" + value] = out.at(output);
    for (const auto& [value, output] : result.state_updates) named["state:" + value] = out.at(output);
    named["loss"] = out.at("loss");
    return named;
  };
  auto old_form = build(12), new_form = build(15);
  // loss, w, scale, bias, running mean and var (the rewrite's own constants are not parameters)
  ASSERT_EQ(old_form.size(), 6u);
  for (const auto& [name, tensor] : new_form) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(old_form.count(name));
    const auto a = old_form.at(name).values<double>(), b = tensor.values<double>();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-9 * (1 + std::abs(b[i])));
  }
}

// Dropout 11 has no training switch either: it becomes a RandomUniformLike mask.
TEST(GradientBuilder, DropoutBeforeOpset12TrainsWithAMask) {
  Model model = make_model({make_node("Dropout", {"x"}, {"y", "mask"}, {make_attribute("ratio", 0.5f)}),
                            make_node("Mul", {"y", "w"}, {"p"}),
                            make_node("ReduceSum", {"p"}, {"loss"}, {make_attribute("keepdims", int64_t{0})})},
                           {value("x", {200})}, {{"loss", TypeInfo{}, ""}, {"mask", TypeInfo{}, ""}}, 11);
  Tensor w = random_tensor(DataType::kDouble, {200}, -1, 1, 9);
  model.graph.set_initializer("w", w);
  auto result = build_gradient_graph(model, {.loss = "loss", .trainable = {"x"}});
  Tensor x = random_tensor(DataType::kDouble, {200}, -1, 1, 10);
  auto out = run_named(result.model, {{"x", x}});
  const auto mask = out.at("mask").values<bool>();
  const auto g = out.at(result.gradients[0].second).values<double>();
  double loss = 0;
  int kept = 0;
  for (size_t i = 0; i < 200; ++i) {
    kept += mask[i] ? 1 : 0;
    EXPECT_NEAR(g[i], mask[i] ? w.values<double>()[i] * 2.0 : 0.0, 1e-12);
    loss += mask[i] ? x.values<double>()[i] * 2.0 * w.values<double>()[i] : 0.0;
  }
  EXPECT_NEAR(out.at("loss").values<double>()[0], loss, 1e-9);
  EXPECT_GT(kept, 60);
  EXPECT_LT(kept, 140);
}

}  // namespace
}  // namespace onyx::testing
