#include "tests/training/gradient_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "runtime/ir/attribute_builders.h"
#include "runtime/ir/model_loader.h"
#include "runtime/ir/model_saver.h"
#include "runtime/session/inference_session.h"
#include "training/gradient_builder.h"

namespace onyx::testing {

Tensor random_tensor(DataType dtype, const Shape& shape, double low, double high, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(low, high);
  std::vector<double> values(static_cast<size_t>(shape_element_count(shape)));
  for (double& v : values) v = dist(rng);
  if (dtype == DataType::kDouble) return Tensor::from_vector<double>(shape, values);
  return Tensor::from_vector<float>(shape, std::vector<float>(values.begin(), values.end()));
}

Tensor int64_tensor(const Shape& shape, std::vector<int64_t> values) {
  return Tensor::from_vector<int64_t>(shape, values);
}

namespace {

double element(const Tensor& t, int64_t i) { return t.element_as_double(i); }

void set_element(Tensor& t, int64_t i, double value) {
  if (t.dtype() == DataType::kDouble) {
    t.mutable_data<double>()[i] = value;
  } else {
    t.mutable_data<float>()[i] = static_cast<float>(value);
  }
}

std::vector<Dim> known_dims(const Shape& shape) {
  std::vector<Dim> dims;
  for (int64_t d : shape) dims.push_back(Dim::known(d));
  return dims;
}

Node node_of(std::string op, std::vector<std::string> inputs, std::vector<std::string> outputs,
             std::vector<Attribute> attributes = {}) {
  Node node;
  node.op_type = std::move(op);
  node.name = "harness_" + node.op_type + "_" + outputs[0];
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attributes = std::move(attributes);
  return node;
}

// Appends loss = sum_k ReduceSum(y_k * w_k) over the model's outputs; w_k random, shaped like
// the outputs of a first run. Differentiable inputs stay graph inputs (fed), fixed ones become
// initializers.
Model with_weighted_loss(Model model, const std::map<std::string, Value>& feeds, DataType dtype) {
  InferenceSession probe(model);
  std::vector<NamedValue> outputs = probe.run(feeds);
  Graph& graph = model.graph;
  std::vector<std::string> terms;
  uint32_t seed = 1000;
  for (const NamedValue& output : outputs) {
    const Tensor& y = output.value.tensor();
    std::string w = "harness_weight_" + output.name;
    graph.set_initializer(w, random_tensor(y.dtype(), y.shape(), -1.0, 1.0, seed++));
    std::string product = "harness_product_" + output.name;
    std::string term = "harness_term_" + output.name;
    graph.nodes.push_back(node_of("Mul", {output.name, w}, {product}));
    graph.nodes.push_back(node_of("ReduceSum", {product}, {term}, {make_attribute("keepdims", int64_t{0})}));
    terms.push_back(term);
  }
  // Outputs of another float type (LayerNormalization's stash type) enter the loss cast to the first's.
  DataType loss_type = outputs.empty() ? dtype : outputs[0].value.tensor().dtype();
  for (size_t k = 0; k < terms.size(); ++k) {
    if (outputs[k].value.tensor().dtype() == loss_type) continue;
    std::string cast = terms[k] + "_cast";
    graph.nodes.push_back(node_of("Cast", {terms[k]}, {cast}, {make_attribute("to", static_cast<int64_t>(loss_type))}));
    terms[k] = cast;
  }
  graph.nodes.push_back(node_of("Sum", terms, {"loss"}));
  graph.outputs.push_back({"loss", TypeInfo::tensor(loss_type, std::vector<Dim>{}), ""});
  return model;
}

void run_check(Model model, const std::vector<InputSpec>& inputs, DataType dtype, double tolerance,
               bool training_mode, bool onyx_ops = false) {
  if (tolerance == 0) tolerance = dtype == DataType::kDouble ? 1e-6 : 2e-2;
  const double eps = dtype == DataType::kDouble ? 1e-6 : 1e-2;

  std::map<std::string, Value> feeds;
  std::vector<std::string> trainable;
  uint32_t seed = 1;
  for (const InputSpec& input : inputs) {
    if (input.name.empty()) continue;
    if (!input.differentiable) {  // a fixed graph input (graph cases)
      if (input.value) feeds[input.name] = *input.value;
      continue;
    }
    feeds[input.name] = input.value ? *input.value
                                    : random_tensor(dtype, input.shape, input.low, input.high, seed++);
    trainable.push_back(input.name);
  }
  Model forward = with_weighted_loss(std::move(model), feeds, dtype);
  training::GradientGraph gradient =
      training::build_gradient_graph(forward, {.loss = "loss", .trainable = trainable, .training_mode = training_mode, .onyx_ops = onyx_ops});

  // The gradient model must survive saving: run the reloaded copy.
  std::string bytes = serialize_model(gradient.model);
  InferenceSession session(load_model_from_bytes(bytes.data(), bytes.size()));
  std::map<std::string, size_t> output_index;
  for (size_t i = 0; i < session.outputs().size(); ++i) output_index[session.outputs()[i].name] = i;

  auto run_loss = [&](const std::map<std::string, Value>& f) {
    return element(session.run(f)[output_index.at("loss")].value.tensor(), 0);
  };
  std::vector<NamedValue> results = session.run(feeds);
  std::string mismatches;
  int mismatch_count = 0;
  for (const auto& [name, gradient_name] : gradient.gradients) {
    const Tensor& analytic = results[output_index.at(gradient_name)].value.tensor();
    Tensor base = feeds[name].tensor();
    ASSERT_EQ(analytic.shape(), base.shape()) << "gradient of " << name;
    for (int64_t i = 0; i < base.element_count(); ++i) {
      std::map<std::string, Value> perturbed = feeds;
      Tensor probe = base.clone();
      set_element(probe, i, element(base, i) + eps);
      perturbed[name] = probe;
      double up = run_loss(perturbed);
      probe = base.clone();
      set_element(probe, i, element(base, i) - eps);
      perturbed[name] = probe;
      double down = run_loss(perturbed);
      double numeric = (up - down) / (2 * eps);
      double a = element(analytic, i);
      double allowed = tolerance * (1.0 + std::max(std::abs(a), std::abs(numeric)));
      if (std::abs(a - numeric) > allowed || std::isnan(a)) {
        if (++mismatch_count <= 5) {
          mismatches += "\n  d loss / d " + name + "[" + std::to_string(i) + "]: analytic " +
                        std::to_string(a) + ", numeric " + std::to_string(numeric);
        }
      }
    }
  }
  // One failure per case (listing the first mismatches), so a wrong rule is one clear report.
  if (mismatch_count > 0) {
    ADD_FAILURE() << mismatch_count << " gradient elements differ from finite differences:" << mismatches;
  }
}

}  // namespace

void check_op_gradient(const OpGradientCase& c) {
  Model model;
  model.ir_version = 8;
  model.producer_name = "onyx-gradient-check";
  model.opsets[""] = c.opset;
  if (!c.domain.empty()) model.opsets[c.domain] = 1;
  model.graph.name = "gradient_check";
  Node node;
  node.op_type = c.op;
  node.domain = c.domain;
  node.name = "checked_" + c.op;
  node.attributes = c.attributes;
  uint32_t seed = 500;
  for (const InputSpec& input : c.inputs) {
    node.inputs.push_back(input.name);
    if (input.name.empty()) continue;
    if (input.differentiable) {
      model.graph.inputs.push_back({input.name, TypeInfo::tensor(c.dtype, known_dims(input.shape)), ""});
    } else {
      model.graph.set_initializer(input.name, input.value ? *input.value
                                                          : random_tensor(c.dtype, input.shape, input.low,
                                                                          input.high, seed++));
    }
  }
  for (size_t k = 0; k < c.outputs; ++k) {
    node.outputs.push_back("y" + std::to_string(k));
    model.graph.outputs.push_back({node.outputs.back(), TypeInfo{}, ""});
  }
  for (size_t k = 0; k < c.unused_outputs; ++k) node.outputs.push_back("unused" + std::to_string(k));
  model.graph.nodes.push_back(std::move(node));
  std::vector<InputSpec> fed;  // fixed inputs became initializers
  for (const InputSpec& input : c.inputs) {
    if (input.differentiable) fed.push_back(input);
  }
  run_check(std::move(model), fed, c.dtype, c.tolerance, c.training_mode, c.onyx_ops);
}

void check_graph_gradient(const GraphGradientCase& c) {
  run_check(c.model, c.inputs, c.dtype, c.tolerance, c.training_mode);
}

}  // namespace onyx::testing
