// `onyx gradient MODEL --loss NAME --output FILE`: writes the gradient model that
// build_gradient_graph makes (forward outputs, the loss, then d loss / d each trainable value),
// so it can be inspected, run by `onyx run` or by onnxruntime.
#include <iostream>

#include "runtime/ir/model_loader.h"
#include "runtime/ir/model_saver.h"
#include "tools/commands.h"
#include "tools/custom_ops_option.h"
#include "training/gradient_builder.h"

namespace onyx::cli {

Command add_gradient_command(CLI::App& app) {
  auto* command = app.add_subcommand("gradient", "write the model's gradient graph as an ONNX model");
  auto model_path = std::make_shared<std::string>();
  auto output_path = std::make_shared<std::string>();
  auto options = std::make_shared<training::GradientGraphOptions>();
  auto inference_mode = std::make_shared<bool>(false);
  command->add_option("model", *model_path, "forward model (.onnx)")->required();
  command->add_option("--loss", options->loss, "name of the scalar loss value")->required();
  command->add_option("--output,-o", *output_path, "where to write the gradient model")->required();
  command->add_option("--trainable", options->trainable,
                      "values to differentiate (default: every float initializer with a gradient path)");
  command->add_option("--frozen", options->frozen, "values never differentiated");
  command->add_flag("--inference-mode", *inference_mode,
                    "keep Dropout and BatchNormalization in inference mode");
  auto custom_ops = std::make_shared<std::vector<std::string>>();
  add_custom_ops_option(*command, *custom_ops);
  return [=] {
    load_custom_op_libraries(*custom_ops);
    options->training_mode = !*inference_mode;
    training::GradientGraph gradient = training::build_gradient_graph(load_model(*model_path), *options);
    save_model(gradient.model, *output_path);
    for (const auto& [value, name] : gradient.gradients) std::cout << "gradient " << value << " " << name << "\n";
    for (const auto& [value, name] : gradient.state_updates) std::cout << "state " << value << " " << name << "\n";
    return 0;
  };
}

}  // namespace onyx::cli
