// onyx::nn's custom components in one short program (Keras' "custom models and training"
// story in C++): a custom loss (a plain function of eager tensors), a custom streaming metric
// (Huber, with update_state / result / reset), a custom layer with its own weights, a custom
// model with two inputs, two outputs and a skip connection (wide & deep, lazily built), and a
// custom training loop with a GradientTape and apply_gradients. Prints the loss as it falls
// and the final metrics; exports the trained model and the metric's graph
// (build/onyx_nn_custom_components [MODEL.onnx [HUBER_METRIC.onnx]]).
#include <cmath>
#include <cstdio>
#include <iostream>

#include "runtime/common/error.h"
#include "runtime/common/portable_random.h"
#include "training/nn/export.h"
#include "training/nn/nn.h"

namespace {

using namespace onyx;

// Custom loss: mean squared error plus a penalty on predictions below zero (targets are >= 0).
Tensor penalized_mse(const Tensor& prediction, const Tensor& target) {
  Tensor below_zero = ops::relu(-prediction);
  return nn::mse_loss(prediction, target) + ops::reduce_mean(below_zero * below_zero) * 0.1;
}

// Custom streaming metric: the mean Huber loss over every sample seen since reset(), a
// MeanMetric of a per-batch function of eager tensors; the same definition exports as a graph
// that `onyx train --metric-graph huber=FILE` evaluates.
class HuberMetric : public nn::MeanMetric {
 public:
  explicit HuberMetric(double delta = 1.0)
      : MeanMetric("huber", [delta](const Tensor& prediction, const Tensor& target) {
          Tensor error = ops::abs(prediction - target);
          Tensor quadratic = ops::min({error, scalar_like(delta, error)});
          return ops::reduce_mean(quadratic * quadratic * 0.5 + (error - quadratic) * delta, {.keepdims = 0});
        }) {}
};

// Custom layer with its own weights: a dense layer whose output is added to its input
// (a residual block), so its width is the input's, known at the first call.
class ResidualDense : public nn::Layer {
 public:
  ResidualDense() : Layer("ResidualDense") { set_built(false); }

 protected:
  void build(const Tensor& x) override {
    const int64_t width = x.dim(x.rank() - 1);
    const Shape shape{width, width};
    kernel_ = &register_parameter("kernel", nn::glorot_uniform()(shape, nn::fans_of(shape)));
    bias_ = &register_parameter("bias", zeros(DataType::kFloat, {width}));
  }
  Tensor forward(const Tensor& x) override { return x + ops::relu(ops::matmul(x, kernel_->value) + bias_->value); }

 private:
  nn::Parameter* kernel_ = nullptr;
  nn::Parameter* bias_ = nullptr;
};

// Custom model: wide & deep regression. The wide input goes straight to the output layer
// beside the deep path (the skip connection); a second head predicts from the deep path alone.
class WideAndDeep : public nn::Module {
 public:
  WideAndDeep() : Module("WideAndDeep") {
    deep_ = register_module("deep", std::make_shared<nn::Sequential>());
    deep_->emplace<nn::Linear>(16).emplace<nn::ReLU>().emplace<ResidualDense>();
    main_head_ = register_module("main_head", std::make_shared<nn::Linear>(1));
    aux_head_ = register_module("aux_head", std::make_shared<nn::Linear>(1));
  }
  // (wide [batch, 5], deep [batch, 6]) -> (main [batch, 1], aux [batch, 1])
  std::vector<Tensor> call(const std::vector<Tensor>& inputs) override {
    ONYX_CHECK(inputs.size() == 2, ErrorCode::kInvalidArgument, "WideAndDeep takes (wide, deep)");
    Tensor deep = (*deep_)(inputs[1]);
    Tensor main = (*main_head_)(ops::concat({inputs[0], deep}, {.axis = 1}));
    return {main, (*aux_head_)(deep)};
  }

 private:
  std::shared_ptr<nn::Sequential> deep_;
  std::shared_ptr<nn::Linear> main_head_, aux_head_;
};

Tensor random_features(int64_t rows, int64_t columns, portable_random::Engine& engine) {
  Tensor x(DataType::kFloat, {rows, columns});
  for (float& v : std::span(x.mutable_data<float>(), x.element_count())) v = static_cast<float>(portable_random::normal(engine, 0, 1));
  return x;
}

int run(int argc, char** argv) {
  nn::manual_seed(42);
  portable_random::Engine engine(7);
  Tensor wide = random_features(256, 5, engine), deep = random_features(256, 6, engine);
  // target = |sum of wide| + (first deep feature)^2: non-negative, partly linear, partly not.
  Tensor target = ops::abs(ops::reduce_sum(wide, Tensor::from_vector<int64_t>({1}, {1}))) +
                  ops::slice(deep, Tensor::from_vector<int64_t>({1}, {0}), Tensor::from_vector<int64_t>({1}, {1}),
                             Tensor::from_vector<int64_t>({1}, {1})) *
                      ops::slice(deep, Tensor::from_vector<int64_t>({1}, {0}), Tensor::from_vector<int64_t>({1}, {1}),
                                 Tensor::from_vector<int64_t>({1}, {1}));

  WideAndDeep model;
  model.call({wide, deep});  // the lazy layers learn their input sizes
  std::printf("parameters: %lld\n", static_cast<long long>(model.parameter_count()));
  training::OptimizerConfig config = training::adam(0.01);
  config.max_grad_norm = 5.0;
  nn::Optimizer optimizer(model, config);
  HuberMetric huber;
  double first_loss = 0, last_loss = 0;
  const int steps = 200;
  for (int step = 0; step < steps; ++step) {
    std::vector<Tensor> params = optimizer.tensors();
    std::vector<Tensor> grads;
    Tensor loss;
    {
      GradientTape tape;
      for (const Tensor& p : params) tape.watch(p);
      std::vector<Tensor> outputs = model.call({wide, deep});
      // The main output carries the loss; the auxiliary head helps the deep path (Keras' loss weights).
      loss = penalized_mse(outputs[0], target) * 0.9 + penalized_mse(outputs[1], target) * 0.1;
      grads = tape.gradient(loss, params);
    }
    optimizer.apply_gradients(grads, optimizer.parameters());
    last_loss = loss.element_as_double(0);
    if (step == 0) first_loss = last_loss;
    if (step % 50 == 0 || step == steps - 1) std::printf("step %d loss %.4f\n", step, last_loss);
  }
  model.eval();
  std::vector<Tensor> outputs = model.call({wide, deep});
  huber.update_state(outputs[0], target);
  nn::BuiltinMetric mae("mae");
  mae.update_state(outputs[0], target);
  std::printf("first loss %.4f final loss %.4f\n", first_loss, last_loss);
  std::printf("final huber %.4f final mae %.4f\n", huber.result(), mae.result());
  if (argc > 1) {
    nn::export_inference_model(model, {wide, deep}, argv[1],
                               {.input_names = {"wide", "deep"}, .output_names = {"main", "aux"}});
    std::printf("exported %s\n", argv[1]);
  }
  if (argc > 2) {
    huber.save_graph(outputs[0], target, argv[2]);
    std::printf("exported the huber metric %s\n", argv[2]);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "error: " << onyx::user_message(error) << "\n";
    return 1;
  }
}
