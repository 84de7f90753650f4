// A custom model in onyx::nn: a Module subclass with its own call(), here wide & deep
// regression with two inputs, two outputs and a skip connection (the wide input goes straight
// to the output layer beside the deep path; a second head predicts from the deep path alone),
// its layers lazily sized at the first call. It trains with the built-in step and a loss that
// weighs its two outputs, and is scored with a custom streaming metric (Huber, a MeanMetric
// of eager ops), which also exports as a graph that `onyx train --metric-graph huber=FILE`
// evaluates. With --out DIR it writes DIR/wide_deep.onnx, DIR/huber.onnx and its data
// (DIR/wide.npy, deep.npy, target.npy), which tests/python/test_nn_examples.py checks with
// onnxruntime and numpy.
//
//   build/onyx_nn_custom_model [--out DIR]
#include <cstdio>
#include <filesystem>
#include <string>

#include "nn_example_support.h"
#include "runtime/common/portable_random.h"
#include "runtime/ir/value_files.h"
#include "training/nn/export.h"
#include "training/nn/train_step.h"

namespace {

using namespace onyx;

// The mean Huber loss over every sample seen since reset().
class HuberMetric : public nn::MeanMetric {
 public:
  explicit HuberMetric(double delta = 1.0)
      : MeanMetric("huber", [delta](const Tensor& prediction, const Tensor& target) {
          Tensor error = ops::abs(prediction - target);
          Tensor quadratic = ops::min({error, scalar_like(delta, error)});
          return ops::reduce_mean(quadratic * quadratic * 0.5 + (error - quadratic) * delta, {.keepdims = 0, .noop_with_empty_axes = 0});
        }) {}
};

class WideAndDeep : public nn::Module {
 public:
  WideAndDeep() : Module("WideAndDeep") {
    deep_ = register_module("deep", std::make_shared<nn::Sequential>());
    deep_->emplace<nn::Linear>(16).emplace<nn::ReLU>().emplace<nn::Linear>(16).emplace<nn::ReLU>();
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

// target = |sum of wide| + (first deep feature)^2: non-negative, partly linear, partly not.
Tensor target_of(const Tensor& wide, const Tensor& deep) {
  Tensor first = ops::slice(deep, Tensor::from_vector<int64_t>({1}, {0}), Tensor::from_vector<int64_t>({1}, {1}),
                            Tensor::from_vector<int64_t>({1}, {1}));
  return ops::abs(ops::reduce_sum(wide, Tensor::from_vector<int64_t>({1}, {1}))) + first * first;
}

int run(int argc, char** argv) {
  const std::string out = examples::option(argc, argv, "--out", "");
  nn::manual_seed(42);
  portable_random::Engine engine(7);
  Tensor wide = examples::random_normal({256, 5}, engine), deep = examples::random_normal({256, 6}, engine);
  Tensor target = target_of(wide, deep);

  WideAndDeep model;
  std::vector<Tensor> outputs = model.call({wide, deep});  // the lazy layers learn their input sizes
  std::printf("parameters: %lld, outputs %s and %s\n", static_cast<long long>(model.parameter_count()),
              shape_to_string(outputs[0].shape()).c_str(), shape_to_string(outputs[1].shape()).c_str());
  nn::Optimizer optimizer(model, training::adam(0.01));
  // The main output carries the loss; the auxiliary head helps the deep path (Keras' loss weights).
  nn::LossFunction weighted_mse = [](const std::vector<Tensor>& outputs, const std::vector<Tensor>& targets) {
    return nn::mse_loss(outputs[0], targets[0]) * 0.9 + nn::mse_loss(outputs[1], targets[0]) * 0.1;
  };
  double first_loss = 0, last_loss = 0;
  const int steps = 300;
  for (int step = 0; step < steps; ++step) {
    last_loss = nn::eager_train_step(model, optimizer, weighted_mse, {wide, deep}, {target}).loss.element_as_double(0);
    if (step == 0) first_loss = last_loss;
    if (step % 100 == 0) std::printf("step %d loss %.4f\n", step, last_loss);
  }
  model.eval();
  outputs = model.call({wide, deep});
  HuberMetric huber;
  nn::BuiltinMetric mae("mae");
  for (int64_t begin = 0; begin < 256; begin += 64) {  // streaming: four batches of 64
    auto rows = [&](const Tensor& t) {
      return ops::slice(t, Tensor::from_vector<int64_t>({1}, {begin}), Tensor::from_vector<int64_t>({1}, {begin + 64}),
                        Tensor::from_vector<int64_t>({1}, {0}));
    };
    huber.update_state(rows(outputs[0]), rows(target));
    mae.update_state(rows(outputs[0]), rows(target));
  }
  std::printf("first loss %.4f final loss %.4f\n", first_loss, last_loss);
  std::printf("final huber %.6f final mae %.6f over %lld samples\n", huber.result(), mae.result(),
              static_cast<long long>(huber.count()));
  if (!out.empty()) {
    const std::filesystem::path dir(out);
    std::filesystem::create_directories(dir);
    nn::export_inference_model(model, {wide, deep}, dir / "wide_deep.onnx",
                               {.input_names = {"wide", "deep"}, .output_names = {"main", "aux"}});
    huber.save_graph(outputs[0], target, dir / "huber.onnx");
    write_npy(dir / "wide.npy", wide);
    write_npy(dir / "deep.npy", deep);
    write_npy(dir / "target.npy", target);
    std::printf("exported %s and the huber metric %s\n", (dir / "wide_deep.onnx").c_str(),
                (dir / "huber.onnx").c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return onyx::examples::run_example([&] { return run(argc, argv); });
}
