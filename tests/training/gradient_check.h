// The one finite-difference harness for gradient rules: builds loss = sum_k sum(y_k * w_k)
// (random fixed weights w_k) over an op's outputs (or a small graph's), differentiates it with
// build_gradient_graph, saves and reloads the gradient model, runs it, and compares every
// gradient element with a central difference of the loss computed by the same model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/ir/graph.h"

namespace onyx::testing {

struct InputSpec {
  std::string name{};  // "" omits the input
  Shape shape{};
  bool differentiable = true;     // a graph input the gradient is checked for
  std::optional<Tensor> value{};    // fixed value (indices, axes, shapes): becomes an initializer
  double low = -1.0, high = 1.0;  // range of the random values of a differentiable input
};

struct OpGradientCase {
  std::string op{};
  std::vector<InputSpec> inputs{};
  std::vector<Attribute> attributes{};
  size_t outputs = 1;  // outputs that enter the loss
  size_t unused_outputs = 0;  // further outputs, named but left out of the loss
  int64_t opset = 18;
  std::string domain{};
  // Double by default; float for ops whose kernels lack double (with a looser tolerance).
  DataType dtype = DataType::kDouble;
  double tolerance = 0;  // 0: 1e-6 for double, 2e-2 for float
  bool training_mode = true;  // GradientGraphOptions::training_mode
  bool onyx_ops = false;      // GradientGraphOptions::onyx_ops (TrainingSession's graphs)
};

struct GraphGradientCase {
  Model model{};  // outputs enter the loss; differentiable graph inputs are listed below
  std::vector<InputSpec> inputs{};  // every graph input, with its shape (fixed ones too)
  DataType dtype = DataType::kDouble;
  double tolerance = 0;
  bool training_mode = true;
};

// GoogleTest assertions: one failure per mismatching element (at most a few reported).
void check_op_gradient(const OpGradientCase& c);
void check_graph_gradient(const GraphGradientCase& c);

// Random tensor of `dtype` (float or double) with values in [low, high).
Tensor random_tensor(DataType dtype, const Shape& shape, double low, double high, uint32_t seed);
Tensor int64_tensor(const Shape& shape, std::vector<int64_t> values);

}  // namespace onyx::testing
