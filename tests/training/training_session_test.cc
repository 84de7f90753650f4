// TrainingSession end to end: models exported from PyTorch (tests/training/torch_reference.py)
// trained by onyx with the same initial weights and batches must follow PyTorch's loss curve;
// checkpoints resume bit for bit; the custom-loop pieces compose to train_step.
#include <gtest/gtest.h>

#include <unistd.h>

#include "runtime/ir/model_loader.h"
#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"
#include "tests/training/torch_reference.h"
#include "tests/training/training_test_util.h"
#include "tests/training/gradient_check.h"
#include "training/seeded_dropout.h"
#include "training/training_session.h"

namespace onyx::training {
namespace {

using onyx::testing::error_message;
using onyx::testing::make_model;
using onyx::testing::make_node;
using onyx::testing::slice_first;
using onyx::testing::tensor_value;
using onyx::testing::tensors_close;
using onyx::testing::torch_reference;
using onyx::testing::torch_reference_dir;

std::filesystem::path temporary_dir() {
  return onyx::testing::scratch_folder("onyx_training_test_");
}

TrainingOptions options_with(LossKind loss, OptimizerConfig optimizer) {
  TrainingOptions options;
  options.loss = LossSpec{};
  options.loss->kind = loss;
  options.optimizer = std::move(optimizer);
  options.session.intra_op_threads = 1;
  return options;
}

Feeds batch(const std::string& model, int64_t step) {
  return {{"input", slice_first(torch_reference(model + "/x"), step)},
          {"target", slice_first(torch_reference(model + "/y"), step)}};
}

// Trains the exported model for the recorded steps and compares every step's loss and the
// final parameters with PyTorch's.
void expect_torch_curve(const std::string& name, LossKind loss, OptimizerConfig optimizer, double rtol) {
  TrainingSession session(torch_reference_dir() / (name + ".onnx"), options_with(loss, std::move(optimizer)));
  const Tensor expected = torch_reference(name + "/losses");
  for (int64_t step = 0; step < expected.element_count(); ++step) {
    const double value = session.train_step(batch(name, step));
    EXPECT_NEAR(value, expected.element_as_double(step), rtol * std::abs(expected.element_as_double(step)) + 1e-6)
        << name << " step " << step;
  }
  for (const auto& [param, tensor] : session.parameters()) {
    EXPECT_TRUE(tensors_close(tensor, torch_reference(name + "/final/" + param), 1e-4, 1e-5)) << name << " " << param;
  }
}

TEST(TrainingSessionMatchesTorch, ElementwiseModelMseAdam) {
  expect_torch_curve("elementwise_adam_mse", LossKind::kMse, adam(0.05), 1e-5);
}
TEST(TrainingSessionMatchesTorch, MlpCrossEntropySgdMomentum) {
  expect_torch_curve("mlp_sgd", LossKind::kCrossEntropy, sgd(0.1, 0.9), 1e-5);
}
TEST(TrainingSessionMatchesTorch, MlpMseAdamW) {
  expect_torch_curve("mlp_adamw_mse", LossKind::kMse, adamw(0.01), 1e-5);
}
TEST(TrainingSessionMatchesTorch, SmallCnnCrossEntropyAdam) {
  expect_torch_curve("cnn_adam", LossKind::kCrossEntropy, adam(0.01), 1e-4);
}

// Conv + BatchNorm trained in train mode: batch statistics in the loss, running statistics
// updated every step. torch keeps the unbiased batch variance in running_var where ONNX's
// BatchNormalization keeps the population variance, hence the looser check of running_var.
TEST(TrainingSessionMatchesTorch, CnnWithBatchNormSgdMomentum) {
  const std::string name = "cnn_batchnorm_sgd";
  expect_torch_curve(name, LossKind::kCrossEntropy, sgd(0.05, 0.9), 1e-4);
  TrainingSession session(torch_reference_dir() / (name + ".onnx"), options_with(LossKind::kCrossEntropy, sgd(0.05, 0.9)));
  ASSERT_EQ(session.buffers().size(), 2u);
  for (int64_t step = 0; step < 10; ++step) session.train_step(batch(name, step));
  EXPECT_TRUE(tensors_close(session.buffers().at("1.running_mean"), torch_reference(name + "/final_buffer/1.running_mean"),
                            1e-4, 1e-5));
  EXPECT_TRUE(tensors_close(session.buffers().at("1.running_var"), torch_reference(name + "/final_buffer/1.running_var"),
                            1e-2, 1e-4));
}

TEST(TrainingSession, EvalStepAccuracyAgreesWithItsOutputs) {
  const std::string name = "mlp_sgd";
  TrainingOptions options = options_with(LossKind::kCrossEntropy, sgd(0.1, 0.9));
  options.metrics = {parse_metric("accuracy"), parse_metric("top2_accuracy")};
  TrainingSession session(torch_reference_dir() / (name + ".onnx"), options);
  for (int64_t step = 0; step < 10; ++step) session.train_step(batch(name, step));
  const Feeds feeds = batch(name, 0);
  EvalResult result = session.eval_step(feeds);
  const Tensor& logits = result.outputs.at(0).value.tensor();  // [8, 4]
  const auto labels = feeds.at("target").tensor().to_int64_vector();
  double top1 = 0, top2 = 0;
  for (int64_t i = 0; i < 8; ++i) {
    const auto row = logits.values<float>().subspan(static_cast<size_t>(i * 4), 4);
    int64_t better = 0;  // classes scoring above the label
    for (float v : row) better += v > row[static_cast<size_t>(labels[i])];
    top1 += better == 0;
    top2 += better <= 1;
  }
  EXPECT_DOUBLE_EQ(result.metrics.at("accuracy"), top1 / 8);
  EXPECT_DOUBLE_EQ(result.metrics.at("top2_accuracy"), top2 / 8);
  EXPECT_EQ(result.batch_size, 8);
}

TEST(TrainingSession, BatchNormUsesBatchStatisticsInTrainingModeOnly) {
  const std::string name = "cnn_batchnorm_sgd";
  TrainingSession session(torch_reference_dir() / (name + ".onnx"), options_with(LossKind::kCrossEntropy, sgd(0.05)));
  const Feeds feeds = batch(name, 0);
  session.train();
  const double training_loss = session.compute_loss(feeds);
  session.eval();
  const double eval_loss = session.compute_loss(feeds);
  EXPECT_EQ(eval_loss, session.eval_step(feeds).loss);
  EXPECT_NE(training_loss, eval_loss);  // fresh running statistics (0, 1) differ from the batch's
  EXPECT_EQ(session.train_step(feeds), training_loss);  // train_step always runs in training mode
  EXPECT_NEAR(training_loss, torch_reference(name + "/losses").element_as_double(0), 1e-5);
}

// y = tanh(x * w + b) with w, b initializers and a batch input x [N, 3].
Model elementwise_model(int64_t opset = 14) {
  Model model = make_model({make_node("Mul", {"x", "w"}, {"xw"}), make_node("Add", {"xw", "b"}, {"z"}),
                            make_node("Tanh", {"z"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {-1, 3})}, {tensor_value("y", DataType::kFloat, {-1, 3})},
                           opset);
  model.graph.set_initializer("w", Tensor::from_vector<float>({3}, {0.5f, -1.0f, 2.0f}));
  model.graph.set_initializer("b", Tensor::from_vector<float>({3}, {0.1f, 0.2f, -0.3f}));
  return model;
}

Feeds elementwise_batch(int step) {
  std::vector<float> x(12), y(12);
  for (int i = 0; i < 12; ++i) {
    x[i] = std::sin(0.7f * static_cast<float>(i + 3 * step));
    y[i] = std::cos(0.3f * static_cast<float>(i * step + 1));
  }
  return {{"x", Tensor::from_vector<float>({4, 3}, x)}, {"target", Tensor::from_vector<float>({4, 3}, y)}};
}

TEST(TrainingSession, ResumingFromACheckpointReproducesTheNextLossesBitForBit) {
  OptimizerConfig optimizer = adamw(0.05);
  optimizer.schedules = {{"lr", cosine_schedule(20), std::nullopt}};
  optimizer.max_grad_norm = 1.0;
  TrainingOptions options = options_with(LossKind::kHuber, optimizer);
  options.seed = 42;
  TrainingSession original(elementwise_model(), options);
  for (int step = 0; step < 3; ++step) original.train_step(elementwise_batch(step));
  const auto path = temporary_dir() / "resume.onnx";
  original.save_checkpoint(path);
  const uint64_t next_random = std::mt19937_64(original.rng())();
  const double next_lr = original.learning_rate();
  const double loss3 = original.train_step(elementwise_batch(3));
  const double loss4 = original.train_step(elementwise_batch(4));

  TrainingSession resumed(elementwise_model(), options);
  resumed.load_checkpoint(path);
  EXPECT_EQ(resumed.step(), 3);
  EXPECT_EQ(resumed.learning_rate(), next_lr);  // the schedule continues where it was
  EXPECT_NE(resumed.learning_rate(), 0.05);
  EXPECT_EQ(resumed.rng()(), next_random);
  // The second step also depends on the restored optimizer state, schedule position and step.
  EXPECT_EQ(resumed.train_step(elementwise_batch(3)), loss3);
  EXPECT_EQ(resumed.train_step(elementwise_batch(4)), loss4);
  for (const auto& [name, value] : original.parameters()) {
    EXPECT_EQ(std::memcmp(value.raw_data(), resumed.parameters().at(name).raw_data(), value.byte_size()), 0) << name;
  }
}

TEST(TrainingSession, CheckpointOfAnotherSetupIsRejected) {
  TrainingSession adam_session(elementwise_model(), options_with(LossKind::kMse, adam()));
  const auto path = temporary_dir() / "adam.onnx";
  adam_session.save_checkpoint(path);
  TrainingSession sgd_session(elementwise_model(), options_with(LossKind::kMse, sgd(0.1)));
  EXPECT_NE(error_message([&] { sgd_session.load_checkpoint(path); }).find("optimizer 'adam'"), std::string::npos);
  TrainingOptions only_w = options_with(LossKind::kMse, adam());
  only_w.trainable = {"w"};
  TrainingSession w_session(elementwise_model(), only_w);
  EXPECT_NE(error_message([&] { w_session.load_checkpoint(path); }).find("2 parameters and buffers"), std::string::npos);
}

TEST(TrainingSession, CustomLoopPiecesComposeToTrainStep) {
  TrainingSession whole(elementwise_model(), options_with(LossKind::kMse, sgd(0.1, 0.9)));
  TrainingSession pieces(elementwise_model(), options_with(LossKind::kMse, sgd(0.1, 0.9)));
  for (int step = 0; step < 3; ++step) {
    const double expected = whole.train_step(elementwise_batch(step));
    pieces.zero_grad();
    EXPECT_TRUE(pieces.gradients().empty());
    EXPECT_EQ(pieces.compute_loss(elementwise_batch(step)), expected);
    EXPECT_EQ(pieces.backward(elementwise_batch(step)), expected);
    pieces.optimizer_step();
  }
  for (const auto& [name, value] : whole.parameters()) {
    EXPECT_TRUE(tensors_close(pieces.parameters().at(name), value, 0, 0)) << name;
  }
}

TEST(TrainingSession, BackwardAccumulatesGradientsUntilZeroGrad) {
  TrainingSession session(elementwise_model(), options_with(LossKind::kMse, sgd(0.1)));
  session.backward(elementwise_batch(0));
  const Tensor once = session.gradients().at("w").clone();
  session.backward(elementwise_batch(0));
  const auto twice = session.gradients().at("w").values<float>();
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(twice[i], 2 * once.values<float>()[i]);
  // Plain SGD: the update is exactly -lr * accumulated gradient.
  const Tensor before = session.parameters().at("w").clone();
  session.optimizer_step();
  for (int i = 0; i < 3; ++i) {
    EXPECT_FLOAT_EQ(session.parameters().at("w").values<float>()[i], before.values<float>()[i] - 0.1f * twice[i]);
  }
  session.zero_grad();
  EXPECT_TRUE(session.gradients().empty());
  EXPECT_NE(error_message([&] { session.optimizer_step(); }).find("no gradients"), std::string::npos);
}

TEST(TrainingSession, FrozenParametersAndLearningRateControl) {
  TrainingOptions options = options_with(LossKind::kMse, sgd(0.1));
  options.frozen = {"b"};
  TrainingSession session(elementwise_model(), options);
  EXPECT_EQ(session.trainable_names(), std::vector<std::string>{"w"});
  session.set_learning_rate(0.0);
  EXPECT_EQ(session.learning_rate(), 0.0);
  const Tensor before = session.parameters().at("w").clone();
  session.train_step(elementwise_batch(0));
  EXPECT_TRUE(tensors_close(session.parameters().at("w"), before, 0, 0));
  session.set_parameter("w", Tensor::from_vector<float>({3}, {1, 1, 1}));
  EXPECT_EQ(session.parameters().at("w").values<float>()[2], 1.0f);
}

TEST(TrainingSession, TrainableAndFrozenTakePatterns) {
  const std::string name = "mlp_sgd";  // 0.weight, 0.bias, 2.weight, 2.bias
  TrainingOptions biases = options_with(LossKind::kCrossEntropy, sgd(0.1));
  biases.trainable = {"*.bias"};
  EXPECT_EQ(TrainingSession(torch_reference_dir() / (name + ".onnx"), biases).trainable_names(),
            (std::vector<std::string>{"0.bias", "2.bias"}));
  TrainingOptions first_layer_frozen = options_with(LossKind::kCrossEntropy, sgd(0.1));
  first_layer_frozen.frozen = {"0.*"};
  TrainingSession session(torch_reference_dir() / (name + ".onnx"), first_layer_frozen);
  EXPECT_EQ(session.trainable_names(), (std::vector<std::string>{"2.weight", "2.bias"}));
  TrainingOptions no_match = options_with(LossKind::kCrossEntropy, sgd(0.1));
  no_match.frozen = {"encoder.*"};
  EXPECT_NE(error_message([&] { TrainingSession(torch_reference_dir() / (name + ".onnx"), no_match); })
                .find("frozen pattern 'encoder.*' matches no initializer"),
            std::string::npos);
}

TEST(TrainingSession, ExportedInferenceModelRunsWithTrainedWeights) {
  TrainingSession session(elementwise_model(), options_with(LossKind::kMse, adam(0.1)));
  for (int step = 0; step < 3; ++step) session.train_step(elementwise_batch(step));
  const auto path = temporary_dir() / "trained.onnx";
  session.export_inference_model(path);
  InferenceSession exported(path);
  ASSERT_EQ(exported.inputs().size(), 1u);  // only x: no target, no parameters as inputs
  Feeds feeds = elementwise_batch(7);
  auto expected = session.forward(feeds);  // forward ignores the batch's target
  auto actual = exported.run({{"x", feeds.at("x")}});
  EXPECT_TRUE(tensors_close(actual[0].value.tensor(), expected[0].value.tensor(), 0, 0));
}

TEST(TrainingSession, EvalStepReportsLossMetricsAndOutputs) {
  // logits = x * w + b over 3 classes; target class indices.
  Model model = make_model({make_node("Mul", {"x", "w"}, {"xw"}), make_node("Add", {"xw", "b"}, {"logits"})},
                           {tensor_value("x", DataType::kFloat, {-1, 3})},
                           {tensor_value("logits", DataType::kFloat, {-1, 3})}, 14);
  model.graph.set_initializer("w", Tensor::from_vector<float>({3}, {1, 1, 1}));
  model.graph.set_initializer("b", Tensor::from_vector<float>({3}, {0, 0, 0}));
  TrainingOptions options = options_with(LossKind::kMse, sgd(0.1));  // replaced below
  options.loss->kind = LossKind::kBceWithLogits;
  options.metrics = {parse_metric("mae")};
  TrainingSession session(std::move(model), options);
  const Tensor x = Tensor::from_vector<float>({2, 3}, {1, -2, 3, 0, 0, 0});
  const Tensor y = Tensor::from_vector<float>({2, 3}, {1, 0, 1, 0, 1, 0});
  EvalResult result = session.eval_step({{"x", x}, {"target", y}});
  ASSERT_EQ(result.outputs.size(), 1u);
  EXPECT_EQ(result.outputs[0].name, "logits");
  EXPECT_EQ(result.batch_size, 2);
  double mae = 0, bce = 0;
  for (int i = 0; i < 6; ++i) {
    const double logit = x.values<float>()[i], target = y.values<float>()[i];
    mae += std::abs(logit - target) / 6;
    bce += (std::max(logit, 0.0) - logit * target + std::log1p(std::exp(-std::abs(logit)))) / 6;
  }
  EXPECT_NEAR(result.metrics.at("mae"), mae, 1e-6);
  EXPECT_NEAR(result.loss, bce, 1e-6);
  EXPECT_EQ(session.step(), 0);  // evaluation never updates
}

TEST(TrainingSession, DropoutFollowsTrainAndEvalMode) {
  Model model = make_model({make_node("Mul", {"x", "w"}, {"xw"}), make_node("Dropout", {"xw", "ratio"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {-1, 3})}, {tensor_value("y", DataType::kFloat, {-1, 3})},
                           14);
  model.graph.set_initializer("w", Tensor::from_vector<float>({3}, {1, 1, 1}));
  model.graph.set_initializer("ratio", Tensor::scalar<float>(0.5f));
  TrainingSession session(std::move(model), options_with(LossKind::kMse, sgd(0.1)));
  std::vector<float> ones(3000, 1.0f);
  Feeds feeds{{"x", Tensor::from_vector<float>({1000, 3}, ones)}};
  session.eval();
  for (float v : session.forward(feeds)[0].value.tensor().values<float>()) ASSERT_EQ(v, 1.0f);
  session.train();
  int zeros = 0;
  for (float v : session.forward(feeds)[0].value.tensor().values<float>()) {
    ASSERT_TRUE(v == 0.0f || v == 2.0f);
    zeros += v == 0.0f;
  }
  EXPECT_GT(zeros, 1200);
  EXPECT_LT(zeros, 1800);
}

// x * w -> Dropout(0.5) -> tanh, trained with MSE: the loss depends on the masks.
Model dropout_model() {
  Model model = make_model({make_node("Mul", {"x", "w"}, {"xw"}), make_node("Dropout", {"xw", "ratio"}, {"dropped"}),
                            make_node("Tanh", {"dropped"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {-1, 3})}, {tensor_value("y", DataType::kFloat, {-1, 3})},
                           14);
  model.graph.set_initializer("w", Tensor::from_vector<float>({3}, {0.5f, -1.0f, 2.0f}));
  model.graph.set_initializer("ratio", Tensor::scalar<float>(0.5f));
  return model;
}

TEST(TrainingSession, DropoutMasksFollowTheSessionSeed) {
  TrainingOptions options = options_with(LossKind::kMse, sgd(0.1));
  options.seed = 7;
  TrainingSession a(dropout_model(), options), b(dropout_model(), options);
  options.seed = 8;
  TrainingSession c(dropout_model(), options);
  bool differs_from_other_seed = false, differs_between_steps = false;
  double previous = -1;
  for (int step = 0; step < 5; ++step) {
    const double loss_a = a.train_step(elementwise_batch(0));  // same batch: only masks and weights change
    EXPECT_EQ(loss_a, b.train_step(elementwise_batch(0)));
    differs_from_other_seed |= loss_a != c.train_step(elementwise_batch(0));
    differs_between_steps |= previous >= 0 && loss_a != previous;
    previous = loss_a;
  }
  EXPECT_TRUE(differs_from_other_seed);
  EXPECT_TRUE(differs_between_steps);
}

TEST(TrainingSession, ResumingAModelWithDropoutReproducesTheNextLossesBitForBit) {
  TrainingOptions options = options_with(LossKind::kMse, adam(0.05));
  options.seed = 3;
  TrainingSession original(dropout_model(), options);
  for (int step = 0; step < 3; ++step) original.train_step(elementwise_batch(step));
  const auto path = temporary_dir() / "dropout.onnx";
  original.save_checkpoint(path);
  const double loss3 = original.train_step(elementwise_batch(3));
  const double loss4 = original.train_step(elementwise_batch(4));
  options.seed = 99;  // the checkpoint's generator state replaces the seed
  TrainingSession resumed(dropout_model(), options);
  resumed.load_checkpoint(path);
  EXPECT_EQ(resumed.train_step(elementwise_batch(3)), loss3);
  EXPECT_EQ(resumed.train_step(elementwise_batch(4)), loss4);
}

TEST(SeededDropout, GradientByFiniteDifferences) {
  onyx::testing::OpGradientCase c;
  c.op = "SeededDropout";
  c.domain = kTrainingDomain;
  c.inputs = {{"x", {4, 5}},
              {"ratio", {}, false, Tensor::scalar<double>(0.3)},
              {"seed", {}, false, Tensor::scalar<int64_t>(11)}};
  onyx::testing::check_op_gradient(c);
}

TEST(TrainingSession, OneBatchFeedsEveryGraph) {
  // A user metric reads an extra input "sample_weight"; train_step, forward and eval_step all
  // take the same batch and use what they need.
  Model metric = make_model({make_node("Mul", {"p", "sample_weight"}, {"weighted"}),
                             make_node("ReduceSum", {"weighted"}, {"m"}, {make_attribute("keepdims", int64_t{0})})},
                            {tensor_value("p", DataType::kFloat, {-1, 3}), tensor_value("sample_weight", DataType::kFloat, {-1, 3})},
                            {tensor_value("m", DataType::kFloat, {})}, 14);
  TrainingOptions options = options_with(LossKind::kMse, sgd(0.1));
  options.metric_graphs = {{"weighted_sum", metric, {{"p", "y"}}}};
  TrainingSession session(elementwise_model(), options);
  Feeds feeds = elementwise_batch(0);
  feeds["sample_weight"] = Tensor::from_vector<float>({4, 3}, std::vector<float>(12, 1.0f));
  session.train_step(feeds);
  const auto outputs = session.forward(feeds);
  EvalResult result = session.eval_step(feeds);
  double sum = 0;
  for (float v : outputs[0].value.tensor().values<float>()) sum += v;
  EXPECT_NEAR(result.metrics.at("weighted_sum"), sum, 1e-4);
  feeds["typo"] = feeds.at("x");
  EXPECT_NE(error_message([&] { session.train_step(feeds); }).find("typo"), std::string::npos);
}

TEST(TrainingSession, MisuseGivesClearErrors) {
  TrainingOptions none;
  EXPECT_NE(error_message([&] { TrainingSession(elementwise_model(), none); }).find("exactly one loss"),
            std::string::npos);
  TrainingOptions unknown = options_with(LossKind::kMse, sgd(0.1));
  unknown.trainable = {"nope"};
  EXPECT_NE(error_message([&] { TrainingSession(elementwise_model(), unknown); }).find("'nope' is not an initializer"),
            std::string::npos);
  TrainingOptions per_sample = options_with(LossKind::kMse, sgd(0.1));
  per_sample.loss->reduction = Reduction::kNone;
  EXPECT_NE(error_message([&] { TrainingSession(elementwise_model(), per_sample); }).find("scalar loss"),
            std::string::npos);
  TrainingSession session(elementwise_model(), options_with(LossKind::kMse, sgd(0.1)));
  Feeds with_param = elementwise_batch(0);
  with_param["w"] = Tensor::from_vector<float>({3}, {0, 0, 0});
  EXPECT_NE(error_message([&] { session.train_step(with_param); }).find("'w' is a parameter the session feeds"),
            std::string::npos);
  EXPECT_NE(error_message([&] { session.set_parameter("w", Tensor::from_vector<float>({2}, {0, 0})); })
                .find("'w' is float[3], got float[2]"),
            std::string::npos);
  EXPECT_NE(error_message([&] { session.train_step({{"x", Tensor::from_vector<float>({1, 3}, {1, 2, 3})}}); })
                .find("target"),
            std::string::npos);
}

}  // namespace
}  // namespace onyx::training
