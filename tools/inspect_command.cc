// `onyx inspect MODEL`: what a model is, without running it: IR version, producer, opsets,
// inputs and outputs, an op histogram including subgraphs, and the parameter count.
#include <filesystem>
#include <iostream>
#include <map>

#include "runtime/ir/model_loader.h"
#include "runtime/session/graph_checks.h"
#include "runtime/session/type_inference.h"
#include "tools/commands.h"
#include "runtime/session/inference_session.h"
#include "tools/custom_ops_option.h"
#include "tools/device_option.h"
#include "tools/placement_report.h"

namespace onyx::cli {

namespace {

void count_ops(const Graph& graph, std::map<std::string, int>& histogram, int& subgraphs) {
  for (const Node& node : graph.nodes) {
    std::string key = node.domain.empty() ? node.op_type : node.domain + "." + node.op_type;
    ++histogram[key];
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g) {
        ++subgraphs;
        count_ops(*attribute.g, histogram, subgraphs);
      }
      for (const auto& sub : attribute.graphs) {
        ++subgraphs;
        count_ops(*sub, histogram, subgraphs);
      }
    }
  }
}

std::string human_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit ? "%.1f %s" : "%.0f %s", value, units[unit]);
  return text;
}

int inspect(const std::string& path, const std::string& device) {
  Model model = load_model(path);
  const Graph& graph = model.graph;
  std::cout << "model: " << path << "\n";
  std::cout << "ir_version: " << model.ir_version << "\n";
  std::cout << "producer: " << (model.producer_name.empty() ? "(none)" : model.producer_name)
            << (model.producer_version.empty() ? "" : " " + model.producer_version) << "\n";
  std::cout << "opsets:";
  for (const auto& [domain, version] : model.opsets) std::cout << " " << display_domain(domain) << "=" << version;
  std::cout << "\ninputs:\n";
  for (const ValueInfo& input : graph.inputs) {
    bool has_default = graph.initializers.count(input.name) > 0;
    std::cout << "  " << input.name << ": " << input.type.to_string() << (has_default ? " (has initializer)" : "") << "\n";
  }
  // Inferred types add what the model leaves undeclared; a model that does not validate is
  // still described, with the reason shown instead.
  InferredTypes inferred;
  std::string inference_problem;
  try {
    Model checked = model;
    validate_and_sort_graph(checked.graph);
    inferred = infer_types(checked.graph, checked);
  } catch (const Error& error) {
    inference_problem = error.what();
  }
  std::cout << "outputs:\n";
  for (const ValueInfo& output : graph.outputs) {
    std::cout << "  " << output.name << ": " << output.type.to_string();
    const TypeInfo* type = inferred.find(output.name);
    if (type && type->to_string() != output.type.to_string()) std::cout << " (inferred " << type->to_string() << ")";
    std::cout << "\n";
  }
  if (!inference_problem.empty()) std::cout << "shape inference: " << inference_problem << "\n";
  std::map<std::string, int> histogram;
  int subgraphs = 0;
  count_ops(graph, histogram, subgraphs);
  int total = 0;
  for (const auto& [op, count] : histogram) total += count;
  std::cout << "nodes: " << total << (subgraphs ? " (including " + std::to_string(subgraphs) + " subgraphs)" : "") << "\n";
  std::cout << "ops:\n";
  for (const auto& [op, count] : histogram) std::cout << "  " << op << ": " << count << "\n";
  std::cout << "parameters: " << graph.parameter_count() << " (" << human_bytes(graph.parameter_bytes()) << ")\n";
  if (!device.empty()) {
    // Placement only looks kernels up: it needs no device, so it shows here what a session on
    // that device would run where.
    SessionOptions options;
    options.providers = providers_for_device(device);
    SessionPreview preview = InferenceSession::preview(model, options);
    std::cout << "device: " << device << " (after optimization: " << preview.model.graph.nodes.size() << " nodes)\n";
    print_placement(std::cout, preview.model.graph, preview.placement);
  }
  return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto custom_ops = std::make_shared<std::vector<std::string>>();
  auto device = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "inspect", "Describe a model: opsets, inputs, outputs, ops, parameters; with --device, where its nodes would run");
  command->add_option("model", *path, "the .onnx model")->required();
  add_custom_ops_option(*command, *custom_ops);
  add_device_option(*command, *device);
  return [path, custom_ops, device] {
    load_custom_op_libraries(*custom_ops);
    return inspect(*path, *device);
  };
}

}  // namespace onyx::cli
