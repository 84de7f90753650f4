// Graph vs eager on one training step: an MLP on Fashion-MNIST (Debian's package) trained with
// the same code eagerly (nn::eager_train_step: tape, loss, optimizer op by op) and traced into
// one graph (nn::TracedTrainStep), from the same initial weights on the same batches. Prints the
// time per step of both, the largest parameter difference between them, and the test accuracy.
//
//   build/onyx_nn_fashion_step [--steps N] [--data DIR]   (default 200 steps, /usr/share/datasets/fashion-mnist)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "nn_example_support.h"
#include "training/nn/train_step.h"

namespace {

using namespace onyx;
using examples::images_of;
using examples::labels_of;

std::shared_ptr<nn::Sequential> mlp() {
  nn::manual_seed(0);
  auto model = std::make_shared<nn::Sequential>();
  model->emplace<nn::Flatten>().emplace<nn::Linear>(784, 128).emplace<nn::ReLU>().emplace<nn::Dropout>(0.1);
  model->emplace<nn::Linear>(128, 10);
  return model;
}

int run(int argc, char** argv) {
  const int64_t steps = std::stoll(examples::option(argc, argv, "--steps", "200"));
  const examples::FashionMnist fashion =
      examples::load_fashion_mnist(examples::option(argc, argv, "--data", examples::kFashionMnistFolder));
  const training::data::Dataset& train = fashion.train;
  const int64_t batch = 64;
  const std::vector<int64_t> order = training::data::epoch_order(train.size(), 0, 0);

  auto eager_model = mlp(), traced_model = mlp();
  nn::Optimizer eager_optimizer(*eager_model, training::sgd(0.1, 0.9));
  nn::Optimizer traced_optimizer(*traced_model, training::sgd(0.1, 0.9));
  nn::LossFunction loss = [](const std::vector<Tensor>& outputs, const std::vector<Tensor>& targets) {
    return nn::cross_entropy_loss(outputs[0], targets[0]);
  };
  nn::TracedTrainStep traced_step(*traced_model, traced_optimizer, loss);

  using Clock = std::chrono::steady_clock;
  double eager_seconds = 0, traced_seconds = 0, eager_loss = 0, traced_loss = 0;
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t begin = (step * batch) % (train.size() - batch);
    Tensor x = images_of(train, order, begin, begin + batch), y = labels_of(train, order, begin, begin + batch);
    auto start = Clock::now();
    eager_loss = nn::eager_train_step(*eager_model, eager_optimizer, loss, {x}, {y}).loss.element_as_double(0);
    auto middle = Clock::now();
    traced_loss = traced_step({x}, {y}).loss.element_as_double(0);
    auto end = Clock::now();
    if (step > 0) {  // step 0 traces and compiles the graph: timed apart below
      eager_seconds += std::chrono::duration<double>(middle - start).count();
      traced_seconds += std::chrono::duration<double>(end - middle).count();
    }
  }
  double max_difference = 0;
  auto traced_state = traced_model->state_dict();
  for (const auto& [name, tensor] : eager_model->state_dict()) {
    auto a = tensor.values<float>(), b = traced_state.at(name).values<float>();
    for (size_t i = 0; i < a.size(); ++i) max_difference = std::max(max_difference, std::fabs(double(a[i]) - b[i]));
  }
  const double timed = static_cast<double>(std::max<int64_t>(steps - 1, 1));
  std::printf("steps %lld batch %lld\n", static_cast<long long>(steps), static_cast<long long>(batch));
  std::printf("eager ms per step: %.3f\n", 1e3 * eager_seconds / timed);
  std::printf("traced ms per step: %.3f\n", 1e3 * traced_seconds / timed);
  std::printf("speedup: %.2f\n", eager_seconds / std::max(traced_seconds, 1e-12));
  std::printf("last loss eager %.5f traced %.5f\n", eager_loss, traced_loss);
  std::printf("max parameter difference: %.3g\n", max_difference);
  std::printf("test accuracy: %.4f\n", examples::test_accuracy(*eager_model, fashion.test));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return onyx::examples::run_example([&] { return run(argc, argv); });
}
