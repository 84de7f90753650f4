#include "tests/concurrency/stress_models.h"

#include <random>

#include "runtime/ir/attribute_builders.h"
#include "tests/runtime/model_building.h"

namespace onyx::stress {

using testing::make_model;
using testing::make_node;
using testing::tensor_value;

Tensor random_tensor(Shape shape, unsigned seed, float scale) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-scale, scale);
  std::vector<float> values(static_cast<size_t>(shape_element_count(shape)));
  for (float& v : values) v = uniform(generator);
  return Tensor::from_vector<float>(std::move(shape), values);
}

namespace {

// Initializer seeds stay apart from feed seeds (small numbers), so weights never equal inputs.
constexpr unsigned kWeightSeed = 1000;

Attribute graph_attribute(const std::string& name, std::shared_ptr<Graph> graph) {
  Attribute attribute;
  attribute.name = name;
  attribute.kind = Attribute::Kind::kGraph;
  attribute.g = std::move(graph);
  return attribute;
}

ValueInfo float_output(const std::string& name) { return {name, {}, ""}; }

}  // namespace

StressModel mlp_model() {
  Model model = make_model(
      {make_node("Gemm", {"x", "w1", "b1"}, {"h1"}, {make_attribute("transB", int64_t{1})}),
       make_node("Relu", {"h1"}, {"a1"}),
       make_node("Gemm", {"a1", "w2", "b2"}, {"logits"}, {make_attribute("transB", int64_t{1})}),
       make_node("Softmax", {"logits"}, {"y"}, {make_attribute("axis", int64_t{1})})},
      {tensor_value("x", DataType::kFloat, {64, 784})}, {float_output("y")});
  Graph& g = model.graph;
  g.set_initializer("w1", random_tensor({256, 784}, kWeightSeed + 1, 0.05f));
  g.set_initializer("b1", random_tensor({256}, kWeightSeed + 2, 0.1f));
  g.set_initializer("w2", random_tensor({10, 256}, kWeightSeed + 3, 0.1f));
  g.set_initializer("b2", random_tensor({10}, kWeightSeed + 4, 0.1f));
  return {"MLP", std::move(model), [](unsigned seed) { return Feeds{{"x", random_tensor({64, 784}, seed)}}; }, {}};
}

StressModel matmul_model() {
  Model model = make_model(
      {make_node("MatMul", {"a", "b"}, {"ab"}),  // both fed: no packing, one primitive per shape
       make_node("MatMul", {"x", "w"}, {"xw"}),  // constant B, packed once
       make_node("Tanh", {"xw"}, {"y"})},
      {tensor_value("a", DataType::kFloat, {4, 48, 64}), tensor_value("b", DataType::kFloat, {4, 64, 40}),
       tensor_value("x", DataType::kFloat, {96, 128})},
      {float_output("ab"), float_output("y")});
  model.graph.set_initializer("w", random_tensor({128, 80}, kWeightSeed + 5, 0.1f));
  return {"MatMul", std::move(model),
          [](unsigned seed) {
            return Feeds{{"a", random_tensor({4, 48, 64}, seed)},
                         {"b", random_tensor({4, 64, 40}, seed + 100)},
                         {"x", random_tensor({96, 128}, seed + 200)}};
          },
          {}};
}

StressModel cnn_model() {
  Model model = make_model(
      {make_node("Conv", {"x", "w1", "b1"}, {"c1"}, {make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})}),
       make_node("BatchNormalization", {"c1", "scale", "shift", "mean", "var"}, {"n1"}),
       make_node("Relu", {"n1"}, {"r1"}),
       make_node("MaxPool", {"r1"}, {"p1"},
                 {make_attribute("kernel_shape", std::vector<int64_t>{2, 2}),
                  make_attribute("strides", std::vector<int64_t>{2, 2})}),
       make_node("Conv", {"p1", "w2"}, {"c2"},  // depthwise, as in MobileNet
                 {make_attribute("group", int64_t{16}), make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})}),
       make_node("Relu", {"c2"}, {"r2"}),
       make_node("Conv", {"r2", "w3", "b3"}, {"c3"}, {make_attribute("strides", std::vector<int64_t>{2, 2})}),
       make_node("AveragePool", {"c3"}, {"p3"},
                 {make_attribute("kernel_shape", std::vector<int64_t>{2, 2}),
                  make_attribute("strides", std::vector<int64_t>{2, 2})}),
       make_node("GlobalAveragePool", {"p3"}, {"g"}),
       make_node("Flatten", {"g"}, {"f"}),
       make_node("Gemm", {"f", "w4", "b4"}, {"y"}, {make_attribute("transB", int64_t{1})})},
      {tensor_value("x", DataType::kFloat, {4, 3, 32, 32})}, {float_output("y"), float_output("p1")});
  Graph& g = model.graph;
  g.set_initializer("w1", random_tensor({16, 3, 3, 3}, kWeightSeed + 10, 0.3f));
  g.set_initializer("b1", random_tensor({16}, kWeightSeed + 11, 0.1f));
  g.set_initializer("scale", random_tensor({16}, kWeightSeed + 12, 1.0f));
  g.set_initializer("shift", random_tensor({16}, kWeightSeed + 13, 0.2f));
  g.set_initializer("mean", random_tensor({16}, kWeightSeed + 14, 0.2f));
  g.set_initializer("var", Tensor::from_vector<float>({16}, std::vector<float>(16, 0.5f)));
  g.set_initializer("w2", random_tensor({16, 1, 3, 3}, kWeightSeed + 15, 0.3f));
  g.set_initializer("w3", random_tensor({32, 16, 3, 3}, kWeightSeed + 16, 0.1f));
  g.set_initializer("b3", random_tensor({32}, kWeightSeed + 17, 0.1f));
  g.set_initializer("w4", random_tensor({10, 32}, kWeightSeed + 18, 0.3f));
  g.set_initializer("b4", random_tensor({10}, kWeightSeed + 19, 0.1f));
  return {"CNN", std::move(model), [](unsigned seed) { return Feeds{{"x", random_tensor({4, 3, 32, 32}, seed)}}; }, {}};
}

StressModel recurrent_model(const std::string& op_type) {
  const int64_t seq = 12, batch = 8, input = 32, hidden = 48;
  const int64_t gates = op_type == "LSTM" ? 4 : op_type == "GRU" ? 3 : 1;
  // LSTM both ways, GRU with the reset gate applied before the recurrent product, RNN reversed:
  // between them every loop of the kernel runs.
  const int64_t directions = op_type == "LSTM" ? 2 : 1;
  std::vector<Attribute> attributes{make_attribute("hidden_size", hidden)};
  if (op_type == "LSTM") attributes.push_back(make_attribute("direction", "bidirectional"));
  if (op_type == "RNN") attributes.push_back(make_attribute("direction", "reverse"));
  std::vector<std::string> outputs{"y", "y_h"};
  if (op_type == "LSTM") outputs.push_back("y_c");
  Model model = make_model({make_node(op_type, {"x", "w", "r", "b", "", "h0"}, outputs, attributes)},
                           {tensor_value("x", DataType::kFloat, {seq, batch, input}),
                            tensor_value("h0", DataType::kFloat, {directions, batch, hidden})},
                           {});
  for (const auto& name : outputs) model.graph.outputs.push_back(float_output(name));
  Graph& g = model.graph;
  g.set_initializer("w", random_tensor({directions, gates * hidden, input}, kWeightSeed + 20, 0.2f));
  g.set_initializer("r", random_tensor({directions, gates * hidden, hidden}, kWeightSeed + 21, 0.2f));
  g.set_initializer("b", random_tensor({directions, 2 * gates * hidden}, kWeightSeed + 22, 0.1f));
  return {op_type, std::move(model),
          [=](unsigned seed) {
            return Feeds{{"x", random_tensor({seq, batch, input}, seed)},
                         {"h0", random_tensor({directions, batch, hidden}, seed + 100, 0.5f)}};
          },
          {}};
}

StressModel loop_model() {
  auto body = std::make_shared<Graph>();
  body->name = "body";
  body->inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond_in", DataType::kBool, {}),
                  tensor_value("h", DataType::kFloat, {16, 64})};
  // W is read from the enclosing graph, so the body's MatMul sees a fed operand every iteration.
  body->nodes = {make_node("Identity", {"cond_in"}, {"cond_out"}), make_node("MatMul", {"h", "w"}, {"hw"}),
                 make_node("Tanh", {"hw"}, {"h_out"}), make_node("ReduceSum", {"h_out"}, {"total"})};
  body->outputs = {tensor_value("cond_out", DataType::kBool, {}), tensor_value("h_out", DataType::kFloat, {16, 64}),
                   tensor_value("total", DataType::kFloat, {})};
  Model model = make_model({make_node("Loop", {"trips", "", "h0"}, {"h", "totals"}, {graph_attribute("body", body)})},
                           {tensor_value("trips", DataType::kInt64, {}), tensor_value("h0", DataType::kFloat, {16, 64})},
                           {float_output("h"), float_output("totals")});
  model.graph.set_initializer("w", random_tensor({64, 64}, kWeightSeed + 30, 0.3f));
  return {"Loop", std::move(model),
          [](unsigned seed) {
            return Feeds{{"trips", Tensor::scalar<int64_t>(5 + seed % 3)}, {"h0", random_tensor({16, 64}, seed)}};
          },
          {}};
}

StressModel if_model() {
  auto branch = [](const std::string& name, const std::string& weights, const std::string& activation) {
    auto graph = std::make_shared<Graph>();
    graph->name = name;
    graph->nodes = {make_node("Conv", {"x", weights}, {name + "_conv"}, {make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})}),
                    make_node(activation, {name + "_conv"}, {name + "_out"})};
    graph->outputs = {tensor_value(name + "_out", DataType::kFloat, {8, 8, 16, 16})};
    return graph;
  };
  Model model = make_model({make_node("If", {"cond"}, {"y"},
                                      {graph_attribute("then_branch", branch("then", "w_then", "Relu")),
                                       graph_attribute("else_branch", branch("else", "w_else", "Sigmoid"))})},
                           {tensor_value("cond", DataType::kBool, {}), tensor_value("x", DataType::kFloat, {8, 3, 16, 16})},
                           {float_output("y")});
  model.graph.set_initializer("w_then", random_tensor({8, 3, 3, 3}, kWeightSeed + 40, 0.3f));
  model.graph.set_initializer("w_else", random_tensor({8, 3, 3, 3}, kWeightSeed + 41, 0.3f));
  return {"If", std::move(model),
          [](unsigned seed) {
            return Feeds{{"cond", Tensor::scalar<bool>(seed % 2 == 0)}, {"x", random_tensor({8, 3, 16, 16}, seed)}};
          },
          {}};
}

StressModel custom_op_model(const std::filesystem::path& example_library) {
  const std::string domain = "com.example";
  auto custom = [&](std::string op, std::vector<std::string> inputs, std::vector<std::string> outputs,
                    std::vector<Attribute> attributes = {}) {
    Node node = make_node(std::move(op), std::move(inputs), std::move(outputs), std::move(attributes));
    node.domain = domain;
    return node;
  };
  Model model = make_model(
      {custom("Swish", {"x"}, {"s"}, {make_attribute("beta", 0.5f)}),
       custom("WeightedSum", {"s", "x"}, {"w"}, {make_attribute("weights", std::vector<float>{2, -1})}),
       custom("ShiftAndNorm", {"w", "shift"}, {"y", "norm"}), make_node("MatMul", {"y", "proj"}, {"z"})},
      {tensor_value("x", DataType::kFloat, {64, 256}), tensor_value("shift", DataType::kFloat, {64, 256})},
      {float_output("z"), float_output("norm")});
  model.opsets[domain] = 1;
  model.graph.set_initializer("proj", random_tensor({256, 32}, kWeightSeed + 50, 0.1f));
  return {"CustomOp", std::move(model),
          [](unsigned seed) {
            return Feeds{{"x", random_tensor({64, 256}, seed)}, {"shift", random_tensor({64, 256}, seed + 100)}};
          },
          {example_library}};
}

}  // namespace onyx::stress
