// A custom loss in onyx::nn is a plain C++ function of eager tensors: the GradientTape
// differentiates it like a built-in one. Here the focal loss (Lin et al. 2017), which weighs
// down the examples a classifier already gets right: mean(-(1 - p_t)^gamma * log p_t), p_t the
// softmax probability of the true class; at gamma = 0 it is cross-entropy. The program shows
// that, trains a softmax regression on Fashion-MNIST with it (the loss falls), and with --out
// writes one batch's logits, labels, loss and logit gradient (DIR/*.npy) for
// tests/python/test_nn_examples.py to recompute with numpy.
//
//   build/onyx_nn_custom_loss [--steps N] [--data DIR] [--out DIR]
#include <cstdio>
#include <filesystem>
#include <string>

#include "nn_example_support.h"
#include "runtime/ir/value_files.h"
#include "training/nn/train_step.h"

namespace {

using namespace onyx;

// logits [N, C] float, labels [N] int64 -> the mean focal loss (a scalar).
Tensor focal_loss(const Tensor& logits, const Tensor& labels, double gamma) {
  Tensor log_p = ops::log_softmax(logits, {.axis = 1});
  Tensor log_p_true = ops::gather_elements(log_p, ops::unsqueeze(labels, Tensor::from_vector<int64_t>({1}, {1})),
                                           {.axis = 1});  // [N, 1]
  Tensor weight = ops::pow(1.0 - ops::exp(log_p_true), scalar_like(gamma, log_p_true));
  return ops::reduce_mean(-(weight * log_p_true), {.keepdims = 0, .noop_with_empty_axes = 0});
}

int run(int argc, char** argv) {
  const int64_t steps = std::stoll(examples::option(argc, argv, "--steps", "200"));
  const std::string out = examples::option(argc, argv, "--out", "");
  const double gamma = 2.0;
  const examples::FashionMnist fashion =
      examples::load_fashion_mnist(examples::option(argc, argv, "--data", examples::kFashionMnistFolder));
  const std::vector<int64_t> order = training::data::epoch_order(fashion.train.size(), 1, 0);
  const int64_t batch = 64;

  nn::manual_seed(0);
  nn::Sequential model;
  model.emplace<nn::Flatten>().emplace<nn::Linear>(784, 10);

  // One batch: the loss at gamma 0 is cross-entropy; its gradient with respect to the logits.
  Tensor x = examples::images_of(fashion.train, order, 0, batch);
  Tensor y = examples::labels_of(fashion.train, order, 0, batch);
  Tensor logits = model(x);
  std::printf("focal loss at gamma 0: %.6f, cross-entropy: %.6f\n", focal_loss(logits, y, 0).element_as_double(0),
              nn::cross_entropy_loss(logits, y).element_as_double(0));
  Tensor loss, grad;
  {
    GradientTape tape;
    tape.watch(logits);
    loss = focal_loss(logits, y, gamma);
    grad = tape.gradient(loss, {logits})[0];
  }
  std::printf("focal loss at gamma %g: %.6f, gradient %s\n", gamma, loss.element_as_double(0),
              shape_to_string(grad.shape()).c_str());
  if (!out.empty()) {
    std::filesystem::create_directories(out);
    write_npy(std::filesystem::path(out) / "logits.npy", logits);
    write_npy(std::filesystem::path(out) / "labels.npy", y);
    write_npy(std::filesystem::path(out) / "loss.npy", loss);
    write_npy(std::filesystem::path(out) / "grad.npy", grad);
  }

  // Training with it: the built-in step takes any loss function.
  nn::Optimizer optimizer(model, training::sgd(0.1));
  nn::LossFunction focal = [gamma](const std::vector<Tensor>& outputs, const std::vector<Tensor>& targets) {
    return focal_loss(outputs[0], targets[0], gamma);
  };
  double first_losses = 0, last_losses = 0;
  const int64_t window = std::min<int64_t>(20, steps / 2);
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t begin = (step * batch) % (fashion.train.size() - batch);
    Tensor xb = examples::images_of(fashion.train, order, begin, begin + batch);
    Tensor yb = examples::labels_of(fashion.train, order, begin, begin + batch);
    const double value = nn::eager_train_step(model, optimizer, focal, {xb}, {yb}).loss.element_as_double(0);
    if (step < window) first_losses += value / window;
    if (step >= steps - window) last_losses += value / window;
    if (step % 50 == 0) std::printf("step %lld focal loss %.4f\n", static_cast<long long>(step), value);
  }
  std::printf("mean loss of the first %lld steps %.4f, of the last %lld steps %.4f\n", static_cast<long long>(window),
              first_losses, static_cast<long long>(window), last_losses);
  std::printf("test accuracy: %.4f\n", examples::test_accuracy(model, fashion.test));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return onyx::examples::run_example([&] { return run(argc, argv); });
}
