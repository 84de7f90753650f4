// A custom layer in onyx::nn: a Layer subclass that registers its own weights. ResidualDense
// adds a dense transform to its input, y = x + relu(x W + b); its width is the input's, so it
// creates its weights lazily, at the first call (build). The program prints the weights' shapes
// once built, the output's shape and the shapes of the gradients a GradientTape gives for
// sum(y). With --out DIR it writes the layer exported as DIR/layer.onnx, the input DIR/x.npy and
// the gradients DIR/kernel_grad.npy, DIR/bias_grad.npy, which tests/python/test_nn_examples.py
// checks with onnxruntime and numpy.
//
//   build/onyx_nn_custom_layer [--out DIR]
#include <cstdio>
#include <filesystem>
#include <string>

#include "nn_example_support.h"
#include "runtime/common/portable_random.h"
#include "runtime/ir/value_files.h"
#include "training/nn/export.h"

namespace {

using namespace onyx;

class ResidualDense : public nn::Layer {
 public:
  ResidualDense() : Layer("ResidualDense") { set_built(false); }
  const nn::Parameter& kernel() const { return *kernel_; }
  const nn::Parameter& bias() const { return *bias_; }

 protected:
  void build(const Tensor& x) override {
    const int64_t width = x.dim(x.rank() - 1);
    const Shape shape{width, width};
    kernel_ = &register_parameter("kernel", nn::glorot_uniform()(shape, nn::fans_of(shape)));
    bias_ = &register_parameter("bias", nn::normal_init(0.0, 0.1)({width}, nn::fans_of({width})));
  }
  Tensor forward(const Tensor& x) override { return x + ops::relu(ops::matmul(x, kernel_->value) + bias_->value); }

 private:
  nn::Parameter* kernel_ = nullptr;
  nn::Parameter* bias_ = nullptr;
};

int run(int argc, char** argv) {
  const std::string out = examples::option(argc, argv, "--out", "");
  nn::manual_seed(3);
  portable_random::Engine engine(11);
  Tensor x = examples::random_normal({4, 6}, engine);

  ResidualDense layer;
  std::printf("parameters before the first call: %lld\n", static_cast<long long>(layer.parameter_count()));
  Tensor y = layer(x);
  std::printf("input %s output %s\n", shape_to_string(x.shape()).c_str(), shape_to_string(y.shape()).c_str());
  for (const auto& [name, parameter] : layer.named_parameters()) {
    std::printf("parameter %s %s\n", name.c_str(), shape_to_string(parameter->value.shape()).c_str());
  }
  std::vector<Tensor> grads;
  {
    GradientTape tape;
    const std::vector<Tensor> weights{layer.kernel().value, layer.bias().value};
    for (const Tensor& w : weights) tape.watch(w);
    grads = tape.gradient(ops::reduce_sum(layer(x), {.keepdims = 0, .noop_with_empty_axes = 0}), weights);
  }
  std::printf("gradient of sum(y): kernel %s bias %s\n", shape_to_string(grads[0].shape()).c_str(),
              shape_to_string(grads[1].shape()).c_str());
  if (!out.empty()) {
    const std::filesystem::path dir(out);
    std::filesystem::create_directories(dir);
    nn::export_inference_model(layer, {x}, dir / "layer.onnx", {.input_names = {"x"}, .output_names = {"y"}});
    write_npy(dir / "x.npy", x);
    write_npy(dir / "kernel_grad.npy", grads[0]);
    write_npy(dir / "bias_grad.npy", grads[1]);
    std::printf("exported %s\n", (dir / "layer.onnx").c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return onyx::examples::run_example([&] { return run(argc, argv); });
}
