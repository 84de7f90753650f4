// A custom training loop in onyx::nn, written out instead of calling a fit(): epochs over
// shuffled Fashion-MNIST batches (Debian's package), a GradientTape per batch, the gradients
// clipped by their global norm and applied with apply_gradients, the learning rate halved each
// epoch by hand, running loss and accuracy metrics reset per epoch, and the test accuracy at
// the end. With --out FILE it exports the trained classifier, which
// tests/python/test_nn_examples.py scores on the test set with onnxruntime.
//
//   build/onyx_nn_custom_training_loop [--epochs N] [--train-samples N] [--data DIR] [--out FILE]
#include <cstdio>
#include <string>

#include "nn_example_support.h"
#include "training/nn/export.h"

namespace {

using namespace onyx;

int run(int argc, char** argv) {
  const int64_t epochs = std::stoll(examples::option(argc, argv, "--epochs", "3"));
  const std::string out = examples::option(argc, argv, "--out", "");
  const examples::FashionMnist fashion =
      examples::load_fashion_mnist(examples::option(argc, argv, "--data", examples::kFashionMnistFolder));
  const int64_t samples =
      std::min<int64_t>(fashion.train.size(), std::stoll(examples::option(argc, argv, "--train-samples", "60000")));
  const int64_t batch = 64;

  nn::manual_seed(0);
  nn::Sequential model;
  model.emplace<nn::Flatten>().emplace<nn::Linear>(784, 256).emplace<nn::BatchNorm>(256).emplace<nn::ReLU>();
  model.emplace<nn::Dropout>(0.2).emplace<nn::Linear>(256, 10);
  training::OptimizerConfig config = training::adam(2e-3);
  config.max_grad_norm = 5.0;  // clipping by the global norm happens inside apply_gradients
  nn::Optimizer optimizer(model, config);

  nn::BuiltinMetric accuracy("accuracy");
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    model.train();
    accuracy.reset();
    double loss_sum = 0;
    int64_t batches = 0;
    const std::vector<int64_t> order = training::data::epoch_order(fashion.train.size(), 7, epoch);
    for (int64_t begin = 0; begin + batch <= samples; begin += batch, ++batches) {
      Tensor x = examples::images_of(fashion.train, order, begin, begin + batch);
      Tensor y = examples::labels_of(fashion.train, order, begin, begin + batch);
      const std::vector<Tensor> params = optimizer.tensors();
      Tensor logits, loss;
      std::vector<Tensor> grads;
      {
        GradientTape tape;
        for (const Tensor& p : params) tape.watch(p);
        logits = model(x);
        loss = nn::cross_entropy_loss(logits, y);
        grads = tape.gradient(loss, params);
      }
      optimizer.apply_gradients(grads);
      loss_sum += loss.element_as_double(0);
      accuracy.update_state(logits, y);
    }
    std::printf("epoch %lld lr %.5f train loss %.4f train accuracy %.4f\n", static_cast<long long>(epoch),
                optimizer.learning_rate(), loss_sum / static_cast<double>(batches), accuracy.result());
    optimizer.set_learning_rate(optimizer.learning_rate() * 0.5);
  }
  std::printf("test accuracy: %.4f\n", examples::test_accuracy(model, fashion.test));
  if (!out.empty()) {
    nn::export_inference_model(model, {examples::images_of(fashion.test, {0}, 0, 1)}, out,
                               {.input_names = {"image"}, .output_names = {"logits"}});
    std::printf("exported %s\n", out.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return onyx::examples::run_example([&] { return run(argc, argv); });
}
