// Optimizer update graphs against torch.optim trajectories (tests/training/torch_reference.py):
// the same initial W [4,3] and b [3], the same gradient sequence, parameters compared after
// every step.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "tests/training/torch_reference.h"
#include "tests/training/training_test_util.h"
#include "providers/cpu/training_ops/onyx_training_ops.h"
#include "training/optimizer.h"

namespace onyx::training {
namespace {

using onyx::testing::slice_first;
using onyx::testing::tensors_close;
using onyx::testing::torch_reference;

constexpr int64_t kSteps = 8;

std::vector<OptimizerParameter> w_and_b() { return {{"W", DataType::kFloat, {4, 3}}, {"b", DataType::kFloat, {3}}}; }

// Runs `config` over the recorded gradients and compares with the case's recorded trajectory,
// with the fused update nodes and with the standard-op composition.
void expect_trajectory_of_form(const std::string& name, OptimizerConfig config, double gradient_scale) {
  SCOPED_TRACE(name + (config.fused ? " (fused)" : " (composed)"));
  Optimizer optimizer(w_and_b(), std::move(config));
  std::map<std::string, Tensor> params{{"W", torch_reference("optim/W0")}, {"b", torch_reference("optim/b0")}};
  const Tensor grad_w = torch_reference("optim/grad_W"), grad_b = torch_reference("optim/grad_b");
  const Tensor expected_w = torch_reference("optim/" + name + "/W"), expected_b = torch_reference("optim/" + name + "/b");
  const Tensor expected_lr = torch_reference("optim/" + name + "/lr");
  for (int64_t t = 0; t < kSteps; ++t) {
    SCOPED_TRACE("step " + std::to_string(t));
    EXPECT_NEAR(optimizer.learning_rate(0), expected_lr.element_as_double(t), 1e-9);
    std::map<std::string, Tensor> grads{{"W", slice_first(grad_w, t)}, {"b", slice_first(grad_b, t)}};
    if (gradient_scale != 1.0) {
      for (auto& [param, grad] : grads) {
        for (float& g : std::span(grad.mutable_data<float>(), grad.element_count())) g *= static_cast<float>(gradient_scale);
      }
    }
    optimizer.step(params, grads);
    EXPECT_TRUE(tensors_close(params["W"], slice_first(expected_w, t), 1e-5, 1e-6));
    EXPECT_TRUE(tensors_close(params["b"], slice_first(expected_b, t), 1e-5, 1e-6));
    if (optimizer.config().max_grad_norm) {
      EXPECT_NEAR(*optimizer.last_gradient_norm(), torch_reference("optim/" + name + "/grad_norm").element_as_double(t),
                  1e-4);
    }
  }
  EXPECT_EQ(optimizer.step_count(), kSteps);
}

void expect_trajectory(const std::string& name, OptimizerConfig config, double gradient_scale = 1.0) {
  for (bool fused : {true, false}) {
    config.fused = fused;
    expect_trajectory_of_form(name, config, gradient_scale);
  }
}

TEST(OptimizerMatchesTorch, Sgd) { expect_trajectory("sgd", sgd(0.1)); }
TEST(OptimizerMatchesTorch, SgdWeightDecay) { expect_trajectory("sgd_weight_decay", sgd(0.1, 0, 0, 0.05)); }
TEST(OptimizerMatchesTorch, SgdMomentumWithDampening) {
  expect_trajectory("sgd_momentum_dampening", sgd(0.1, 0.9, 0.1));
}
TEST(OptimizerMatchesTorch, SgdNesterovWithWeightDecay) {
  expect_trajectory("sgd_nesterov", sgd(0.1, 0.9, 0.0, 0.01, true));
}
TEST(OptimizerMatchesTorch, SgdMaximize) {
  OptimizerConfig config = sgd(0.1, 0.5);
  config.maximize = true;
  expect_trajectory("sgd_maximize", config);
}
TEST(OptimizerMatchesTorch, Adam) { expect_trajectory("adam", adam(0.01)); }
TEST(OptimizerMatchesTorch, AdamWeightDecayAmsgrad) {
  expect_trajectory("adam_weight_decay_amsgrad", adam(0.01, 0.9, 0.999, 1e-8, 0.1, true));
}
TEST(OptimizerMatchesTorch, AdamW) { expect_trajectory("adamw", adamw(0.01, 0.9, 0.999, 1e-8, 0.1)); }

TEST(OptimizerMatchesTorch, SgdPerGroupHyperparameters) {
  OptimizerConfig config = sgd(0.05, 0.9);
  config.groups = {{{"W"}, {{"lr", 0.1}, {"weight_decay", 0.01}}}, {{"b"}, {{"lr", 0.01}, {"momentum", 0.5}}}};
  expect_trajectory("sgd_groups", config);
}
TEST(OptimizerMatchesTorch, AdamWPerGroupHyperparameters) {
  OptimizerConfig config = adamw(0.01, 0.9, 0.999, 1e-8, 0.2);
  config.groups = {{{"W"}, {{"lr", 0.02}, {"weight_decay", 0.0}}}, {{"b"}, {{"beta1", 0.8}, {"beta2", 0.99}}}};
  expect_trajectory("adamw_groups", config);
}

TEST(OptimizerMatchesTorch, SgdStepSchedule) {
  OptimizerConfig config = sgd(0.5, 0.9);
  config.schedules = {{"lr", step_schedule(3, 0.5), std::nullopt}};
  expect_trajectory("sgd_step_schedule", config);
}
TEST(OptimizerMatchesTorch, AdamCosineSchedule) {
  OptimizerConfig config = adam(0.05);
  config.schedules = {{"lr", cosine_schedule(6, 0.001), std::nullopt}};
  expect_trajectory("adam_cosine_schedule", config);
}
TEST(OptimizerMatchesTorch, AdamWLinearWarmup) {
  OptimizerConfig config = adamw(0.05);
  config.schedules = {{"lr", linear_warmup(4, 0.25), std::nullopt}};
  expect_trajectory("adamw_warmup_schedule", config);
}

TEST(OptimizerMatchesTorch, SgdGradientClipping) {
  OptimizerConfig config = sgd(0.1, 0.9);
  config.max_grad_norm = 0.5;
  expect_trajectory("sgd_clip", config, 3.0);
}
TEST(OptimizerMatchesTorch, AdamGradientClipping) {
  OptimizerConfig config = adam(0.01);
  config.max_grad_norm = 2.0;
  expect_trajectory("adam_clip", config, 3.0);
}

TEST(Optimizer, AnyHyperparameterCanFollowASchedule) {
  // Momentum decays 0.9 -> 0.45 at step 2: the update must use the scheduled value, which a
  // hand-computed heavy-ball step checks (g = 1 every step, lr 1).
  OptimizerConfig config = sgd(1.0, 0.9);
  config.schedules = {{"momentum", step_schedule(2, 0.5), std::nullopt}};
  Optimizer optimizer({{"p", DataType::kFloat, {1}}}, config);
  std::map<std::string, Tensor> params{{"p", Tensor::from_vector<float>({1}, {0})}};
  double buffer = 0, p = 0;
  for (int step = 0; step < 4; ++step) {
    const double momentum = step < 2 ? 0.9 : 0.45;
    EXPECT_DOUBLE_EQ(optimizer.hyperparameter("momentum"), momentum);
    buffer = step == 0 ? 1.0 : momentum * buffer + 1.0;
    p -= buffer;
    optimizer.step(params, {{"p", Tensor::from_vector<float>({1}, {1})}});
    EXPECT_NEAR(params["p"].values<float>()[0], p, 1e-5);
  }
}

TEST(Optimizer, LearningRateCanBeSetPerGroupWithoutRebuilding) {
  OptimizerConfig config = sgd(0.1);
  config.groups = {{{"a"}, {}}};
  Optimizer optimizer({{"a", DataType::kFloat, {1}}, {"b", DataType::kFloat, {1}}}, config);
  ASSERT_EQ(optimizer.group_count(), 2u);
  optimizer.set_learning_rate(0.5, 1);
  std::map<std::string, Tensor> params{{"a", Tensor::from_vector<float>({1}, {1})},
                                       {"b", Tensor::from_vector<float>({1}, {1})}};
  optimizer.step(params, {{"a", Tensor::from_vector<float>({1}, {1})}, {"b", Tensor::from_vector<float>({1}, {1})}});
  EXPECT_FLOAT_EQ(params["a"].values<float>()[0], 0.9f);
  EXPECT_FLOAT_EQ(params["b"].values<float>()[0], 0.5f);
  EXPECT_DOUBLE_EQ(optimizer.learning_rate(0), 0.1);
}

TEST(Optimizer, LeavesOutUnusedPartsAndAddsThemWhenAValueNeedsThem) {
  OptimizerConfig config = sgd(1.0, 0.5);
  config.fused = false;
  Optimizer optimizer({{"p", DataType::kFloat, {1}}}, config);
  auto count = [&](const std::string& op) {
    return std::count_if(optimizer.graph().model.graph.nodes.begin(), optimizer.graph().model.graph.nodes.end(),
                         [&](const Node& node) { return node.op_type == op; });
  };
  // buf = 0.5 buf + g; p -= 1 * buf: two Mul, one Add, one Sub, no copies.
  EXPECT_EQ(optimizer.graph().model.graph.nodes.size(), 4u);
  EXPECT_EQ(count("Identity"), 0);
  std::map<std::string, Tensor> params{{"p", Tensor::from_vector<float>({1}, {1})}};
  optimizer.step(params, {{"p", Tensor::from_vector<float>({1}, {1})}});
  EXPECT_FLOAT_EQ(params["p"].values<float>()[0], 0.0f);
  optimizer.set_hyperparameter("weight_decay", 1.0);
  optimizer.set_hyperparameter("dampening", 0.5);
  // d = g + p = 1 + 0; buf = 0.5 * 1 + 0.5 * d = 1; p = 0 - 1.
  optimizer.step(params, {{"p", Tensor::from_vector<float>({1}, {1})}});
  EXPECT_FLOAT_EQ(params["p"].values<float>()[0], -1.0f);
  EXPECT_TRUE(optimizer.graph().features.weight_decay);
  EXPECT_TRUE(optimizer.graph().features.dampening);
}

TEST(Optimizer, DoubleParametersAreUpdatedInDouble) {
  Optimizer optimizer({{"p", DataType::kDouble, {2}}}, adam(0.1));
  std::map<std::string, Tensor> params{{"p", Tensor::from_vector<double>({2}, {1, -1})}};
  optimizer.step(params, {{"p", Tensor::from_vector<double>({2}, {2, -3})}});
  // Adam's first step moves every element by lr against the gradient's sign.
  EXPECT_NEAR(params["p"].values<double>()[0], 0.9, 1e-6);
  EXPECT_NEAR(params["p"].values<double>()[1], -0.9, 1e-6);
}

Tensor as_double(const Tensor& tensor) {
  Tensor values(DataType::kDouble, tensor.shape());
  for (int64_t i = 0; i < tensor.element_count(); ++i) values.mutable_data<double>()[i] = tensor.element_as_double(i);
  return values;
}

// The fused nodes against the composition on tensors large enough to split over two threads
// (and a small one), in float, double and float16 (against float), for every option of both kinds: 5 steps with
// a fresh random gradient each, parameters and state compared after every step.
TEST(Optimizer, FusedUpdatesMatchTheComposition) {
  std::vector<std::pair<std::string, OptimizerConfig>> configs{
      {"sgd", sgd(0.1)}, {"sgd momentum dampening weight decay", sgd(0.1, 0.9, 0.3, 0.01)},
      {"sgd nesterov", sgd(0.05, 0.8, 0.0, 0.02, true)}, {"adam", adam(0.01)},
      {"adam l2 amsgrad", adam(0.01, 0.8, 0.99, 1e-6, 0.1, true)}, {"adamw", adamw(0.02, 0.9, 0.999, 1e-8, 0.1)},
      {"adamw amsgrad", adamw(0.02, 0.9, 0.999, 1e-8, 0.1, true)}};
  OptimizerConfig maximized = adam(0.01);
  maximized.maximize = true;
  configs.emplace_back("adam maximize", maximized);
  OptimizerConfig maximized_sgd = sgd(0.1, 0.5);
  maximized_sgd.maximize = true;
  configs.emplace_back("sgd maximize", maximized_sgd);
  OptimizerConfig clipped = adamw(0.01);
  clipped.max_grad_norm = 1.0;
  configs.emplace_back("adamw clipped", clipped);
  for (DataType dtype : {DataType::kFloat, DataType::kDouble, DataType::kFloat16}) {
    const std::vector<OptimizerParameter> params{{"big", dtype, {300, 200}}, {"small", dtype, {7}}};
    // The float16 composition is no reference: eps 1e-8 and small second moments underflow in
    // it (0/0). The fused float16 node, which computes in float, is checked against the float
    // composition on the same values.
    const DataType reference_type = dtype == DataType::kFloat16 ? DataType::kFloat : dtype;
    std::vector<OptimizerParameter> reference_params = params;
    for (auto& p : reference_params) p.dtype = reference_type;
    for (auto [name, config] : configs) {
      SCOPED_TRACE(name + " " + std::string(dtype_name(dtype)));
      // Clipping is the same nodes in both forms; in float16 its squared norm (~6e4 here)
      // loses the precision the float reference keeps.
      if (dtype == DataType::kFloat16 && config.max_grad_norm) continue;
      SessionOptions two_threads;
      two_threads.intra_op_threads = 2;
      config.fused = true;
      Optimizer fused(params, config, two_threads);
      config.fused = false;
      Optimizer composed(reference_params, config, two_threads);
      std::mt19937 generator(7);
      std::normal_distribution<double> normal(0.0, 1.0);
      auto random = [&](const OptimizerParameter& p) {
        Tensor values(dtype, p.shape);
        for (int64_t i = 0; i < values.element_count(); ++i) {
          double v = normal(generator);
          // float16 state cannot hold the second moment of tiny gradients: keep |v| in [0.5, 1.5].
          if (dtype == DataType::kFloat16) v = (v < 0 ? -1 : 1) * (0.5 + std::min(std::abs(v), 1.0));
          if (dtype == DataType::kFloat) values.mutable_data<float>()[i] = static_cast<float>(v);
          if (dtype == DataType::kDouble) values.mutable_data<double>()[i] = v;
          if (dtype == DataType::kFloat16) values.mutable_data<Float16>()[i] = Float16(static_cast<float>(v));
        }
        return values;
      };
      auto widened = [&](const Tensor& values) {
        if (reference_type == dtype) return values;
        Tensor wide(reference_type, values.shape());
        for (int64_t i = 0; i < values.element_count(); ++i) {
          wide.mutable_data<float>()[i] = static_cast<float>(values.element_as_double(i));
        }
        return wide;
      };
      std::map<std::string, Tensor> fused_params, composed_params;
      for (const auto& p : params) {
        fused_params[p.name] = random(p);
        composed_params[p.name] = widened(fused_params[p.name]);
      }
      for (int step = 0; step < 5; ++step) {
        SCOPED_TRACE("step " + std::to_string(step));
        std::map<std::string, Tensor> grads, reference_grads;
        for (const auto& p : params) {
          grads[p.name] = random(p);
          reference_grads[p.name] = widened(grads[p.name]);
        }
        fused.step(fused_params, grads);
        composed.step(composed_params, reference_grads);
        // float16 keeps its state rounded to float16; the composition computes bias
        // corrections in float also for double parameters.
        const double tolerance = dtype == DataType::kFloat16 ? 1e-2 : 1e-6;
        for (const auto& p : params) {
          EXPECT_TRUE(tensors_close(as_double(fused_params[p.name]),
                                    as_double(composed_params[p.name]), tolerance, tolerance))
              << p.name;
        }
        for (const auto& [state, value] : composed.state()) {
          EXPECT_TRUE(tensors_close(as_double(fused.state().at(state)),
                                    as_double(value), tolerance, tolerance))
              << state;
        }
      }
      // One node per parameter (plus the clipping nodes), none of the standard update ops.
      size_t fused_nodes = 0;
      for (const Node& node : fused.graph().model.graph.nodes) fused_nodes += node.domain == kTrainingDomain;
      EXPECT_EQ(fused_nodes, params.size());
    }
  }
}

TEST(Optimizer, FusedUpdateNodesRejectMismatchedState) {
  using onyx::testing::error_message;
  OptimizerGraph graph = build_optimizer_graph({{"p", DataType::kFloat, {4}}}, adam(0.1));
  // Let the state input take any shape, so the kernel's own check is what answers.
  for (ValueInfo& input : graph.model.graph.inputs) {
    if (input.name == state_value_name("exp_avg", "p")) {
      input.type = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::named("n")});
    }
  }
  InferenceSession session(graph.model);
  std::map<std::string, Value> feeds{{"p", Tensor::from_vector<float>({4}, {1, 2, 3, 4})},
                                     {gradient_input_name("p"), Tensor::from_vector<float>({4}, {1, 1, 1, 1})},
                                     {state_value_name("exp_avg", "p"), Tensor::from_vector<float>({3}, {0, 0, 0})},
                                     {state_value_name("exp_avg_sq", "p"), Tensor::from_vector<float>({4}, {0, 0, 0, 0})},
                                     {kStepInput, Tensor::scalar<float>(1)}};
  for (const std::string& name : hyperparameter_names(OptimizerKind::kAdam)) {
    feeds[hyperparameter_input_name(name, 0)] = Tensor::scalar<float>(0.1f);
  }
  EXPECT_NE(error_message([&] { session.run(feeds); }).find("AdamUpdate: input 2 is float[3], expected float[4] like the parameter"),
            std::string::npos)
      << error_message([&] { session.run(feeds); });
}

TEST(Optimizer, BadConfigurationsGiveClearErrors) {
  using onyx::testing::error_message;
  auto params = w_and_b();
  OptimizerConfig twice = sgd(0.1);
  twice.groups = {{{"W"}, {}}, {{"W"}, {}}};
  EXPECT_NE(error_message([&] { Optimizer(params, twice); }).find("'W' is in two parameter groups"), std::string::npos);
  OptimizerConfig unknown = sgd(0.1);
  unknown.groups = {{{"V"}, {}}};
  EXPECT_NE(error_message([&] { Optimizer(params, unknown); }).find("lists 'V'"), std::string::npos);
  OptimizerConfig bad_name = adam();
  bad_name.groups = {{{"W"}, {{"momentum", 0.9}}}};
  EXPECT_NE(error_message([&] { Optimizer(params, bad_name); }).find("unknown hyper-parameter 'momentum'"),
            std::string::npos);
  EXPECT_NE(error_message([&] { Optimizer(params, sgd(0.1, 0.0, 0.0, 0.0, true)); }).find("nesterov"), std::string::npos);
  Optimizer plain(params, sgd(0.1));
  EXPECT_NE(error_message([&] { plain.set_hyperparameter("momentum", 0.9); }).find("no momentum buffers"),
            std::string::npos);
  EXPECT_NE(error_message([&] { plain.set_learning_rate(0.1, 3); }).find("group 3 does not exist"), std::string::npos);
  std::map<std::string, Tensor> values{{"W", Tensor(DataType::kFloat, {4, 3})}, {"b", Tensor(DataType::kFloat, {3})}};
  EXPECT_NE(error_message([&] { plain.step(values, {{"W", Tensor(DataType::kFloat, {4, 3})}}); }).find("no gradient for 'b'"),
            std::string::npos);
  EXPECT_NE(error_message([&] { optimizer_from_name("lion", 0.1); }).find("unknown optimizer 'lion'"), std::string::npos);
  OptimizerConfig from_cli = optimizer_from_name("adam", 0.1);
  set_default_hyperparameter(from_cli, "weight_decay", 0.01);
  EXPECT_EQ(from_cli.defaults.at("weight_decay"), 0.01);
  EXPECT_NE(error_message([&] { set_default_hyperparameter(from_cli, "momentum", 0.9); })
                .find("has no hyper-parameter 'momentum' (it has lr, beta1, beta2, eps, weight_decay)"),
            std::string::npos);
  EXPECT_EQ(optimizer_from_name("momentum", 0.1).defaults.at("momentum"), 0.9);
}

TEST(ScheduleMatchesTorch, StepCosineLinearAndSequential) {
  struct Case {
    std::string name;
    std::shared_ptr<Schedule> schedule;
  };
  const std::vector<Case> cases{
      {"step", step_schedule(4, 0.3)},
      {"cosine", cosine_schedule(10, 0.01)},
      {"linear", linear_schedule(0.1, 1.0, 5)},
      {"warmup_cosine", sequential_schedule({linear_warmup(3, 0.2), cosine_schedule(8)}, {3})},
  };
  for (const Case& c : cases) {
    const Tensor expected = torch_reference("schedule/" + c.name);
    for (int64_t step = 0; step < expected.element_count(); ++step) {
      EXPECT_NEAR(c.schedule->value(step, 0.5), expected.element_as_double(step), 1e-9) << c.name << " step " << step;
    }
  }
}

}  // namespace
}  // namespace onyx::training

namespace onyx::training {
namespace {

TEST(Schedule, ParsesTheCliSyntax) {
  EXPECT_DOUBLE_EQ(parse_schedule("step:2:0.5")->value(5, 1.0), 0.25);
  EXPECT_DOUBLE_EQ(parse_schedule("cosine:10")->value(5, 1.0), 0.5);
  EXPECT_DOUBLE_EQ(parse_schedule("cosine:10:0.2")->value(10, 1.0), 0.2);
  EXPECT_DOUBLE_EQ(parse_schedule("linear:1:0:4")->value(1, 2.0), 1.5);
  EXPECT_DOUBLE_EQ(parse_schedule("warmup:4")->value(1, 2.0), 0.5);
  // Warmup for 4 steps from 0.5, then cosine over 10 steps counted from step 4.
  auto chained = parse_schedule("warmup:4:0.5,cosine:10");
  EXPECT_DOUBLE_EQ(chained->value(0, 1.0), 0.5);
  EXPECT_DOUBLE_EQ(chained->value(4, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(chained->value(9, 1.0), 0.5);
  using onyx::testing::error_message;
  EXPECT_NE(error_message([] { parse_schedule("exp:3"); }).find("unknown schedule 'exp'"), std::string::npos);
  EXPECT_NE(error_message([] { parse_schedule("step:x:0.5"); }).find("'x' is not a number"), std::string::npos);
  EXPECT_NE(error_message([] { parse_schedule("cosine"); }).find("takes from 1 to 2 values"), std::string::npos);
  EXPECT_NE(error_message([] { parse_schedule("step:2:0.5,cosine:3"); }).find("must come last"), std::string::npos);
  EXPECT_NE(error_message([] { parse_schedule("cosine:0"); }).find("must be positive"), std::string::npos);
}

}  // namespace
}  // namespace onyx::training
