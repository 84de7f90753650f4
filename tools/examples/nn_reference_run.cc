// Runs onyx::nn models from given initial weights and batches, for the comparisons with
// PyTorch and onnxruntime in tests/python/test_nn_torch.py (the reference numbers come from
// torch there; this program only produces onyx's side).
//
//   build/onyx_nn_reference_run MODEL OPTIMIZER DIR
//
// MODEL: mlp, cnn, lstm, gru or mha (the layouts torch_models() in the test builds);
// OPTIMIZER: sgd (lr 0.1, momentum 0.9) or adam (lr 0.01). DIR holds init/<name>.npy (the
// state dict), x.npy and y.npy (one batch per step along dim 0). Writes DIR/onyx/<name>.npy
// (the state after the steps), DIR/first_output.npy (the forward of batch 0 before training),
// DIR/model.onnx (the trained model exported) and DIR/final_output.npy (its eager forward of
// batch 0), and prints the loss of every step.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "runtime/common/error.h"
#include "runtime/ir/value_files.h"
#include "training/nn/export.h"
#include "training/nn/nn.h"
#include "training/nn/train_step.h"

namespace {

using namespace onyx;

std::shared_ptr<nn::Layer> make_model(const std::string& kind) {
  if (kind == "mlp") {
    auto model = std::make_shared<nn::Sequential>();
    model->emplace<nn::Linear>(8, 16).emplace<nn::ReLU>().emplace<nn::Linear>(16, 4);
    return model;
  }
  if (kind == "cnn") {
    auto model = std::make_shared<nn::Sequential>();
    nn::Conv2dOptions padded;
    padded.padding = {1, 1};
    model->emplace<nn::Conv2d>(1, 4, 3, padded).emplace<nn::ReLU>().emplace<nn::MaxPool2d>(2);
    model->emplace<nn::Conv2d>(4, 8, 3).emplace<nn::Tanh>().emplace<nn::Flatten>().emplace<nn::Linear>(32, 3);
    return model;
  }
  if (kind == "lstm") return std::make_shared<nn::LSTM>(5, 6);
  if (kind == "gru") return std::make_shared<nn::GRU>(5, 6);
  if (kind == "mha") return std::make_shared<nn::MultiHeadAttention>(8, 2);
  throw_error(ErrorCode::kInvalidArgument, "unknown model '", kind, "' (mlp, cnn, lstm, gru, mha)");
}

Tensor batch(const Tensor& stacked, int64_t index) {
  return ops::gather(stacked, Tensor::scalar<int64_t>(index), {.axis = 0});
}

int run(const std::string& kind, const std::string& optimizer_name, const std::filesystem::path& dir) {
  std::shared_ptr<nn::Layer> model = make_model(kind);
  std::map<std::string, Tensor> initial;
  for (const auto& [name, tensor] : model->state_dict()) initial[name] = read_npy(dir / "init" / (name + ".npy"));
  model->load_state_dict(initial);
  const Tensor xs = read_npy(dir / "x.npy"), ys = read_npy(dir / "y.npy");
  const bool classification = kind == "mlp" || kind == "cnn";
  nn::LossFunction loss = [classification](const std::vector<Tensor>& outputs, const std::vector<Tensor>& targets) {
    return classification ? nn::cross_entropy_loss(outputs[0], targets[0]) : nn::mse_loss(outputs[0], targets[0]);
  };
  write_npy(dir / "first_output.npy", (*model)(batch(xs, 0)));
  nn::Optimizer optimizer(*model, optimizer_name == "adam" ? training::adam(0.01) : training::sgd(0.1, 0.9));
  for (int64_t step = 0; step < xs.dim(0); ++step) {
    nn::StepResult result = nn::eager_train_step(*model, optimizer, loss, {batch(xs, step)}, {batch(ys, step)});
    std::printf("step %lld loss %.6f\n", static_cast<long long>(step), result.loss.element_as_double(0));
  }
  std::filesystem::create_directories(dir / "onyx");
  for (const auto& [name, tensor] : model->state_dict()) write_npy(dir / "onyx" / (name + ".npy"), tensor);
  model->eval();
  write_npy(dir / "final_output.npy", (*model)(batch(xs, 0)));
  nn::export_inference_model(*model, {batch(xs, 0)}, dir / "model.onnx", {.input_names = {"x"}, .output_names = {"y"}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: onyx_nn_reference_run MODEL OPTIMIZER DIR\n";
    return 2;
  }
  try {
    return run(argv[1], argv[2], argv[3]);
  } catch (const std::exception& error) {
    std::cerr << "error: " << onyx::user_message(error) << "\n";
    return 1;
  }
}
