// Custom training loops over modules: tapes through the layers, the eager optimizer (the same
// update graph TrainingSession runs, node by node), the traced training step, losses, metrics.
#include <cmath>

#include <gtest/gtest.h>

#include "runtime/common/error.h"
#include "runtime/common/portable_random.h"
#include "training/nn/nn.h"
#include "training/nn/train_step.h"

namespace onyx::nn {
namespace {

Tensor random_tensor(Shape shape, uint64_t seed, double scale = 1.0) {
  portable_random::Engine engine(seed);
  Tensor tensor(DataType::kFloat, shape);
  float* out = tensor.mutable_data<float>();
  for (int64_t i = 0; i < tensor.element_count(); ++i) out[i] = static_cast<float>(portable_random::normal(engine, 0, scale));
  return tensor;
}

Tensor labels_of(const Tensor& x, int64_t classes) {  // a learnable rule: the argmax of the first features
  std::vector<int64_t> labels;
  auto values = x.values<float>();
  const int64_t width = x.dim(1);
  for (int64_t i = 0; i < x.dim(0); ++i) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c) {
      if (values[i * width + c] > values[i * width + best]) best = c;
    }
    labels.push_back(best);
  }
  return Tensor::from_vector<int64_t>({x.dim(0)}, labels);
}

std::shared_ptr<Sequential> classifier(uint64_t seed) {
  manual_seed(seed);
  auto model = std::make_shared<Sequential>();
  model->emplace<Linear>(6, 16).emplace<Tanh>().emplace<Dropout>(0.1).emplace<BatchNorm>(16).emplace<Linear>(16, 3);
  return model;
}

LossFunction cross_entropy_on_first() {
  return [](const std::vector<Tensor>& outputs, const std::vector<Tensor>& targets) {
    return cross_entropy_loss(outputs[0], targets[0]);
  };
}

TEST(NnTraining, EagerLoopLowersTheLossAndLearnsTheRule) {
  auto model = classifier(1);
  Optimizer optimizer(*model, training::adam(0.02));
  Tensor x = random_tensor({64, 6}, 11);
  Tensor y = labels_of(x, 3);
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    StepResult result = eager_train_step(*model, optimizer, cross_entropy_on_first(), {x}, {y});
    (step == 0 ? first : last) = result.loss.element_as_double(0);
  }
  EXPECT_LT(last, 0.5 * first);
  model->eval();
  BuiltinMetric accuracy("accuracy");
  accuracy.update_state((*model)(x), y);
  EXPECT_GT(accuracy.result(), 0.9);
  EXPECT_EQ(optimizer.step_count(), 60);
}

TEST(NnTraining, EagerOptimizerMatchesTheCompiledUpdateOfTheTrainingModule) {
  for (const training::OptimizerConfig& config :
       {training::sgd(0.1, 0.9, 0.1, 0.01, false), training::adam(0.01, 0.9, 0.99, 1e-8, 0.1, true),
        training::adamw(0.01)}) {
    Linear layer(3, 2);
    Optimizer optimizer(layer, config);
    std::map<std::string, Tensor> params{{"weight", layer.weight().value}, {"bias", layer.bias()->value}};
    training::Optimizer compiled({{"weight", DataType::kFloat, {2, 3}}, {"bias", DataType::kFloat, {2}}}, config);
    for (int step = 0; step < 4; ++step) {
      Tensor gw = random_tensor({2, 3}, 100 + step), gb = random_tensor({2}, 200 + step);
      optimizer.apply_gradients({gb, gw}, {layer.bias(), &layer.weight()});  // any order
      compiled.step(params, {{"weight", gw}, {"bias", gb}});
    }
    auto eager = to_vector<float>(layer.weight().value);
    auto graph = to_vector<float>(params.at("weight"));
    for (size_t i = 0; i < eager.size(); ++i) EXPECT_NEAR(eager[i], graph[i], 1e-6) << i;
  }
}

TEST(NnTraining, ApplyGradientsRefusesWrongInput) {
  Linear layer(3, 2);
  Optimizer optimizer(layer, training::sgd(0.1));
  EXPECT_THROW(optimizer.apply_gradients({zeros(DataType::kFloat, {2, 3})}), Error);
  try {
    optimizer.apply_gradients({zeros(DataType::kFloat, {3, 2}), zeros(DataType::kFloat, {2})});
    FAIL() << "a mis-shaped gradient was applied";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("the gradient of 'weight' is float[3,2]"), std::string::npos)
        << error.what();
  }
  Linear other(3, 2);
  EXPECT_THROW(optimizer.apply_gradients({zeros(DataType::kFloat, {2, 3}), zeros(DataType::kFloat, {2})},
                                         {&other.weight(), other.bias()}),
               Error);
}

TEST(NnTraining, SchedulesAndClippingComeFromTheTrainingOptimizer) {
  Linear layer(3, 2);
  training::OptimizerConfig config = training::sgd(1.0);
  config.max_grad_norm = 0.5;
  config.schedules.push_back({"lr", training::step_schedule(1, 0.5), std::nullopt});
  Optimizer optimizer(layer, config);
  Tensor before = layer.weight().value.clone();
  Tensor gw = full(DataType::kFloat, {2, 3}, 1.0), gb = zeros(DataType::kFloat, {2});
  optimizer.apply_gradients({gw, gb});
  EXPECT_NEAR(*optimizer.core().last_gradient_norm(), std::sqrt(6.0), 1e-5);
  // clipped to norm 0.5: each element 0.5 / sqrt(6) (minus clip_grad_norm_'s 1e-6 epsilon), lr 1.
  const double clipped = 0.5 / (std::sqrt(6.0) + 1e-6);
  EXPECT_NEAR(before.values<float>()[0] - layer.weight().value.values<float>()[0], clipped, 1e-6);
  EXPECT_DOUBLE_EQ(optimizer.learning_rate(), 0.5);
}

TEST(NnTraining, TracedStepGivesTheEagerStepsParameters) {
  auto eager_model = classifier(5);
  auto traced_model = classifier(5);
  Optimizer eager_optimizer(*eager_model, training::adamw(0.01));
  Optimizer traced_optimizer(*traced_model, training::adamw(0.01));
  TracedTrainStep traced_step(*traced_model, traced_optimizer, cross_entropy_on_first());
  Tensor x = random_tensor({16, 6}, 21);
  Tensor y = labels_of(x, 3);
  for (int step = 0; step < 5; ++step) {
    StepResult eager = eager_train_step(*eager_model, eager_optimizer, cross_entropy_on_first(), {x}, {y});
    StepResult traced = traced_step({x}, {y});
    EXPECT_NEAR(eager.loss.element_as_double(0), traced.loss.element_as_double(0), 1e-5) << step;
  }
  EXPECT_EQ(traced_step.trace_count(), 1u);
  EXPECT_EQ(traced_optimizer.step_count(), 5);
  auto eager_state = eager_model->state_dict();
  for (auto& [name, tensor] : traced_model->state_dict()) {
    auto a = to_vector<float>(tensor), b = to_vector<float>(eager_state.at(name));
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5) << name << "[" << i << "]";
  }
  // One graph: forward, loss, backward and the fused updates.
  size_t updates = 0;
  for (const Node& node : traced_step.graph().graph.nodes) updates += node.op_type == "AdamUpdate";
  EXPECT_EQ(updates, traced_optimizer.parameters().size());
  // A new batch size traces again.
  traced_step({random_tensor({8, 6}, 3)}, {labels_of(random_tensor({8, 6}, 3), 3)});
  EXPECT_EQ(traced_step.trace_count(), 2u);
}

TEST(NnTraining, ApplyGradientsInsideOnyxFunctionSaysWhatToUse) {
  Linear layer(2, 1);
  Optimizer optimizer(layer, training::sgd(0.1));
  auto traced = onyx::function([&](const Tensor& x) {
    optimizer.apply_gradients({x, zeros(DataType::kFloat, {1})});
    return x;
  });
  try {
    traced(zeros(DataType::kFloat, {1, 2}));
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("TracedTrainStep"), std::string::npos) << error.what();
  }
}

TEST(NnLosses, BuiltinLossesGiveTorchsValues) {
  // Values worked out by hand from torch's definitions.
  Tensor p = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor t = Tensor::from_vector<float>({2, 2}, {1, 0, 5, 4});
  EXPECT_NEAR(mse_loss(p, t).element_as_double(0), (0 + 4 + 4 + 0) / 4.0, 1e-6);
  EXPECT_NEAR(l1_loss(p, t, Reduction::kSum).element_as_double(0), 4.0, 1e-6);
  EXPECT_NEAR(huber_loss(p, t, 1.0f).element_as_double(0), (0 + 1.5 + 1.5 + 0) / 4.0, 1e-6);
  Tensor logits = Tensor::from_vector<float>({1, 3}, {0, 0, std::log(2.0f)});
  Tensor label = Tensor::from_vector<int64_t>({1}, {2});
  EXPECT_NEAR(cross_entropy_loss(logits, label).element_as_double(0), -std::log(0.5), 1e-6);
  Tensor one_logit = Tensor::from_vector<float>({1}, {0});
  EXPECT_NEAR(bce_with_logits_loss(one_logit, Tensor::from_vector<float>({1}, {1})).element_as_double(0),
              std::log(2.0), 1e-6);
}

TEST(NnLosses, LossesAreDifferentiableOnATape) {
  Tensor p = Tensor::from_vector<float>({2}, {1, 3});
  Tensor t = Tensor::from_vector<float>({2}, {0, 0});
  GradientTape tape;
  tape.watch(p);
  Tensor loss = mse_loss(p, t);
  auto grads = tape.gradient(loss, {p});
  EXPECT_EQ(to_vector<float>(grads[0]), (std::vector<float>{1.0f, 3.0f}));  // 2 (p - t) / n
}

TEST(NnMetrics, StreamingMetricsWeighBatchesBySize) {
  BuiltinMetric accuracy("accuracy");
  accuracy.update_state(Tensor::from_vector<float>({2, 2}, {1, 0, 0, 1}), Tensor::from_vector<int64_t>({2}, {0, 1}));
  accuracy.update_state(Tensor::from_vector<float>({1, 2}, {1, 0}), Tensor::from_vector<int64_t>({1}, {1}));
  EXPECT_NEAR(accuracy.result(), 2.0 / 3.0, 1e-9);
  accuracy.reset();
  EXPECT_EQ(accuracy.count(), 0);
  BuiltinMetric mae("mae");
  mae.update_state(Tensor::from_vector<float>({2}, {1, 2}), Tensor::from_vector<float>({2}, {0, 0}));
  EXPECT_NEAR(mae.result(), 1.5, 1e-6);
}

}  // namespace
}  // namespace onyx::nn
