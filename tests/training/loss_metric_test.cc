// Loss and metric graphs against PyTorch (tests/training/torch_reference.py): each is appended
// to an identity model, run by the inference session and compared with torch.nn.functional.
#include <gtest/gtest.h>

#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"
#include "tests/training/torch_reference.h"
#include "tests/training/training_test_util.h"
#include "training/gradient_builder.h"
#include "training/losses.h"
#include "tests/training/gradient_check.h"
#include "training/metrics.h"

namespace onyx::training {
namespace {

using onyx::testing::error_message;
using onyx::testing::make_model;
using onyx::testing::make_node;
using onyx::testing::tensor_value;
using onyx::testing::tensors_close;
using onyx::testing::torch_reference;

// x -> Identity -> prediction, with x of the given shape.
Model identity_model(const Shape& shape, int64_t opset = 17) {
  return make_model({make_node("Identity", {"x"}, {"prediction"})}, {tensor_value("x", DataType::kFloat, shape)},
                    {tensor_value("prediction", DataType::kFloat, shape)}, opset);
}

struct LossCase {
  std::string reference;  // file stem in loss/
  LossKind kind;
  std::string input, target;
  std::optional<int64_t> ignore_index;
  float huber_delta = 1.0f;
  bool class_weights = false;  // loss/class_weights
  float label_smoothing = 0.0f;
};

std::vector<LossCase> every_loss_case() {
  return {
      {"mse", LossKind::kMse, "regression_x", "regression_y", std::nullopt},
      {"l1", LossKind::kL1, "regression_x", "regression_y", std::nullopt},
      {"huber", LossKind::kHuber, "regression_x", "regression_y", std::nullopt, 0.7f},
      {"bce_with_logits", LossKind::kBceWithLogits, "regression_x", "binary_y", std::nullopt},
      {"cross_entropy", LossKind::kCrossEntropy, "logits", "labels", std::nullopt},
      {"cross_entropy_ignore", LossKind::kCrossEntropy, "logits", "labels", 1},
      {"cross_entropy_3d", LossKind::kCrossEntropy, "logits_3d", "labels_3d", std::nullopt},
      {"cross_entropy_weighted", LossKind::kCrossEntropy, "logits", "labels", 2, 1.0f, true},
      {"cross_entropy_smoothing", LossKind::kCrossEntropy, "logits", "labels", std::nullopt, 1.0f, false, 0.2f},
      {"cross_entropy_smoothing_ignore_3d", LossKind::kCrossEntropy, "logits_3d", "labels_3d", 2, 1.0f, false, 0.1f},
      {"nll", LossKind::kNll, "log_probs", "labels", 3},
      {"nll_weighted", LossKind::kNll, "log_probs", "labels", std::nullopt, 1.0f, true},
  };
}

LossSpec spec_of(const LossCase& c, const char* reduction) {
  LossSpec spec;
  spec.kind = c.kind;
  spec.reduction = parse_reduction(reduction);
  spec.ignore_index = c.ignore_index;
  spec.huber_delta = c.huber_delta;
  if (c.class_weights) spec.class_weights = torch_reference("loss/class_weights");
  spec.label_smoothing = c.label_smoothing;
  return spec;
}

TEST(LossMatchesTorch, EveryLossAndReduction) {
  for (const LossCase& c : every_loss_case()) {
    for (const char* reduction : {"mean", "sum", "none"}) {
      SCOPED_TRACE(c.reference + " " + reduction);
      const Tensor x = torch_reference("loss/" + c.input);
      const Tensor target = torch_reference("loss/" + c.target);
      Model model = identity_model(x.shape());
      const LossSpec spec = spec_of(c, reduction);
      AppendedLoss appended = append_loss(model, spec);
      ASSERT_EQ(appended.targets, std::vector<std::string>{"target"});
      InferenceSession session(std::move(model));
      auto outputs = session.run({{"x", x}, {"target", target}});
      ASSERT_EQ(outputs.back().name, "loss");
      EXPECT_TRUE(tensors_close(outputs.back().value.tensor(),
                                torch_reference("loss/" + c.reference + "_" + reduction), 1e-5, 1e-6));
    }
  }
}

// d(loss)/d(prediction) through the gradient builder (the loss ops' rules included) against
// torch's autograd; reduction 'none' is summed first, as the reference's value.sum() is.
TEST(LossGradientMatchesTorch, EveryLossAndReduction) {
  for (const LossCase& c : every_loss_case()) {
    for (const char* reduction : {"mean", "sum", "none"}) {
      SCOPED_TRACE(c.reference + " " + reduction);
      const Tensor x = torch_reference("loss/" + c.input);
      Model model = identity_model(x.shape());
      const LossSpec spec = spec_of(c, reduction);
      std::string loss = append_loss(model, spec).loss;
      if (spec.reduction == Reduction::kNone) {
        model.graph.nodes.push_back(make_node("ReduceSum", {loss}, {"total"}, {make_attribute("keepdims", int64_t{0})}));
        model.graph.outputs.push_back(tensor_value("total", DataType::kFloat, {}));
        loss = "total";
      }
      GradientGraph gradient = build_gradient_graph(model, {loss, {"x"}, {}});
      InferenceSession session(std::move(gradient.model));
      auto outputs = session.run({{"x", x}, {"target", torch_reference("loss/" + c.target)}});
      const Tensor* dx = nullptr;
      for (const auto& output : outputs) {
        if (output.name == gradient.gradients.at(0).second) dx = &output.value.tensor();
      }
      ASSERT_NE(dx, nullptr);
      EXPECT_TRUE(tensors_close(*dx, torch_reference("loss/" + c.reference + "_" + reduction + "_grad"), 1e-5, 1e-6));
    }
  }
}

// Class weights are not in the torch cases: finite differences check them.
TEST(LossGradient, ClassWeightsAndIgnoreIndexByFiniteDifferences) {
  for (const char* op : {"SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"}) {
    for (const char* reduction : {"mean", "sum", "none"}) {
      SCOPED_TRACE(std::string(op) + " " + reduction);
      onyx::testing::OpGradientCase c;
      c.op = op;
      c.opset = 13;
      c.inputs = {{"scores", {3, 4, 2}},
                  {"labels", {3, 2}, false, onyx::testing::int64_tensor({3, 2}, {0, 3, 2, 2, 1, 0})},
                  {"weights", {4}, false, Tensor::from_vector<double>({4}, {0.5, 2.0, 1.0, 3.0})}};
      c.attributes = {make_attribute("reduction", std::string(reduction)), make_attribute("ignore_index", int64_t{2})};
      onyx::testing::check_op_gradient(c);
    }
  }
}

TEST(Loss, UserLossGraphIsSplicedWithBindings) {
  // loss = ReduceMean(|prediction - y|^3) given as its own model whose input "p" is bound to the
  // forward output and whose input "y" becomes a new graph input.
  Model user = make_model({make_node("Sub", {"p", "y"}, {"d"}), make_node("Abs", {"d"}, {"a"}),
                           make_node("Mul", {"a", "a"}, {"a2"}), make_node("Mul", {"a2", "a"}, {"a3"}),
                           make_node("ReduceMean", {"a3"}, {"out"}, {make_attribute("keepdims", int64_t{0})})},
                          {tensor_value("p", DataType::kFloat, {2}), tensor_value("y", DataType::kFloat, {2})},
                          {tensor_value("out", DataType::kFloat, {})});
  Model model = identity_model({2});
  AppendedLoss appended = append_loss_graph(model, user, {{"p", "prediction"}});
  EXPECT_EQ(appended.targets, std::vector<std::string>{"y"});
  InferenceSession session(std::move(model));
  auto outputs = session.run({{"x", Tensor::from_vector<float>({2}, {1, 4})}, {"y", Tensor::from_vector<float>({2}, {3, 3})}});
  EXPECT_FLOAT_EQ(outputs.back().value.tensor().values<float>()[0], (8.0f + 1.0f) / 2.0f);
}

TEST(Loss, BadSpecsGiveClearErrors) {
  Model model = identity_model({2, 3});
  EXPECT_NE(error_message([&] { parse_loss_kind("hinge"); }).find("unknown loss 'hinge'"), std::string::npos);
  EXPECT_NE(error_message([&] { parse_reduction("avg"); }).find("unknown reduction 'avg'"), std::string::npos);
  LossSpec missing;
  missing.prediction = "nothing";
  EXPECT_NE(error_message([&] { append_loss(model, missing); }).find("no value 'nothing'"), std::string::npos);
  LossSpec clash;
  clash.target = "x";
  EXPECT_NE(error_message([&] { append_loss(model, clash); }).find("'x' is already used"), std::string::npos);
  LossSpec weighted;
  weighted.class_weights = Tensor::from_vector<float>({2}, {1, 2});
  EXPECT_NE(error_message([&] { append_loss(model, weighted); }).find("class weights apply to cross_entropy"),
            std::string::npos);
  LossSpec smoothing;
  smoothing.label_smoothing = 0.1f;
  EXPECT_NE(error_message([&] { append_loss(model, smoothing); }).find("label_smoothing"), std::string::npos);
  LossSpec ignore;
  ignore.ignore_index = 0;
  EXPECT_NE(error_message([&] { append_loss(model, ignore); }).find("ignore_index applies to cross_entropy"),
            std::string::npos);
  Model old = identity_model({2, 3}, 11);
  LossSpec cross_entropy;
  cross_entropy.kind = LossKind::kCrossEntropy;
  EXPECT_NE(error_message([&] { append_loss(old, cross_entropy); }).find("opset 13 or newer"), std::string::npos);
  // A loss graph of another opset joins only when its ops mean the same at both: Neg has not
  // changed since opset 13, ReduceMean took its axes as an input from opset 18 on.
  Model same_meaning = make_model({make_node("Neg", {"p"}, {"out"})}, {tensor_value("p", DataType::kFloat, {2})},
                                  {tensor_value("out", DataType::kFloat, {2})}, 18);
  EXPECT_EQ(error_message([&] { append_loss_graph(model, same_meaning, {{"p", "prediction"}}); }), "(no error)");
  Model changed = make_model({make_node("ReduceMean", {"p"}, {"out"})}, {tensor_value("p", DataType::kFloat, {2})},
                             {tensor_value("out", DataType::kFloat, {})}, 18);
  Model host = identity_model({2, 3});
  const std::string message = error_message([&] { append_loss_graph(host, changed, {{"p", "prediction"}}); });
  EXPECT_NE(message.find("opset 18"), std::string::npos) << message;
  EXPECT_NE(message.find("ReduceMean means something else"), std::string::npos) << message;
}

TEST(MetricMatchesTorch, AccuracyTopKMaeMse) {
  const Tensor logits = torch_reference("loss/logits"), labels = torch_reference("loss/labels");
  for (const char* name : {"accuracy", "top2_accuracy"}) {
    Model model = identity_model(logits.shape());
    model.graph.inputs.push_back(tensor_value("labels", DataType::kInt64, {logits.dim(0)}));
    const std::string output = append_metric(model, parse_metric(name), "prediction", "labels");
    EXPECT_EQ(output, std::string("metric/") + name);
    InferenceSession session(std::move(model));
    auto outputs = session.run({{"x", logits}, {"labels", labels}});
    EXPECT_TRUE(tensors_close(outputs.back().value.tensor(), torch_reference(std::string("metric/") + name), 1e-6, 0))
        << name;
  }
  const Tensor x = torch_reference("loss/regression_x"), y = torch_reference("loss/regression_y");
  for (const char* name : {"mae", "mse"}) {
    Model model = identity_model(x.shape());
    model.graph.inputs.push_back(tensor_value("y", DataType::kFloat, x.shape()));
    append_metric(model, parse_metric(name), "prediction", "y");
    InferenceSession session(std::move(model));
    auto outputs = session.run({{"x", x}, {"y", y}});
    EXPECT_TRUE(tensors_close(outputs.back().value.tensor(), torch_reference(std::string("metric/") + name), 1e-5, 1e-6))
        << name;
  }
}

TEST(Metric, UserMetricGraphAndAveraging) {
  Model metric = make_model({make_node("ReduceMax", {"p"}, {"m"}, {make_attribute("keepdims", int64_t{0})})},
                            {tensor_value("p", DataType::kFloat, {3})}, {tensor_value("m", DataType::kFloat, {})});
  Model model = identity_model({3});
  EXPECT_EQ(append_metric_graph(model, metric, "max", {{"p", "prediction"}}), "metric/max");
  InferenceSession session(std::move(model));
  auto outputs = session.run({{"x", Tensor::from_vector<float>({3}, {1, 7, 2})}});
  EXPECT_EQ(outputs.back().value.tensor().values<float>()[0], 7.0f);

  MetricAverage average;
  average.add(1.0, 3);
  average.add(0.0, 1);
  EXPECT_DOUBLE_EQ(average.value(), 0.75);
  EXPECT_EQ(parse_metric("top5_accuracy").k, 5);
  EXPECT_NE(error_message([] { parse_metric("top0_accuracy"); }).find("unknown metric"), std::string::npos);
  EXPECT_NE(error_message([] { parse_metric("f1"); }).find("unknown metric 'f1'"), std::string::npos);
}

}  // namespace
}  // namespace onyx::training
