// The onyx-only backward ops TrainingSession's gradient graphs use (com.onyx.training::MaxPoolGrad
// and ReluGrad) against the portable standard-op gradients, in float, on inputs large enough to
// run in parallel chunks; and their errors on bad input. (The finite-difference harness checks
// both forms in double: GradientRulesPool.*, GradientRulesElementwise.Activations.)
#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/ir/attribute_builders.h"
#include "runtime/session/inference_session.h"
#include "tests/training/gradient_check.h"
#include "tests/training/training_test_util.h"
#include "training/gradient_builder.h"

namespace onyx::testing {
namespace {

TypeInfo float_tensor(Shape shape) { return TypeInfo::tensor_of_shape(DataType::kFloat, std::move(shape)); }

// x -> Relu -> MaxPool 2x2/2 (disjoint windows) and MaxPool 3x3/2 padded (overlapping), each
// weighted by a fixed random tensor and summed into the loss.
Model relu_pool_model(const Shape& x_shape) {
  Model model;
  model.opsets[""] = 18;
  Graph& g = model.graph;
  g.inputs = {{"x", float_tensor(x_shape), ""}};
  const int64_t h = x_shape[2], w = x_shape[3];
  const Shape disjoint{x_shape[0], x_shape[1], h / 2, w / 2}, overlapping{x_shape[0], x_shape[1], (h - 1) / 2 + 1, (w - 1) / 2 + 1};
  g.set_initializer("wa", random_tensor(DataType::kFloat, disjoint, -1, 1, 11));
  g.set_initializer("wb", random_tensor(DataType::kFloat, overlapping, -1, 1, 12));
  auto ints = [](const char* name, std::vector<int64_t> v) { return make_attribute(name, std::move(v)); };
  g.nodes = {
      Node{"relu", "Relu", "", {"x"}, {"r"}, {}, ""},
      Node{"pool_a", "MaxPool", "", {"r"}, {"pa"}, {ints("kernel_shape", {2, 2}), ints("strides", {2, 2})}, ""},
      Node{"pool_b", "MaxPool", "", {"r"}, {"pb"},
           {ints("kernel_shape", {3, 3}), ints("strides", {2, 2}), ints("pads", {1, 1, 1, 1})}, ""},
      Node{"mul_a", "Mul", "", {"pa", "wa"}, {"ya"}, {}, ""},
      Node{"mul_b", "Mul", "", {"pb", "wb"}, {"yb"}, {}, ""},
      Node{"sum_a", "ReduceSum", "", {"ya"}, {"la"}, {make_attribute("keepdims", int64_t{0})}, ""},
      Node{"sum_b", "ReduceSum", "", {"yb"}, {"lb"}, {make_attribute("keepdims", int64_t{0})}, ""},
      Node{"loss", "Add", "", {"la", "lb"}, {"loss"}, {}, ""},
  };
  g.outputs = {{"loss", float_tensor({}), ""}};
  return model;
}

size_t count_ops(const Model& model, const std::string& domain, const std::string& op) {
  return static_cast<size_t>(std::count_if(model.graph.nodes.begin(), model.graph.nodes.end(), [&](const Node& n) {
    return n.op_type == op && n.domain == domain;
  }));
}

TEST(OnyxTrainingOps, MaxPoolGradAndReluGradMatchThePortableGradient) {
  const Shape x_shape{8, 16, 28, 28};
  Model model = relu_pool_model(x_shape);
  training::GradientGraph portable = training::build_gradient_graph(model, {.loss = "loss", .trainable = {"x"}});
  training::GradientGraph onyx = training::build_gradient_graph(model, {.loss = "loss", .trainable = {"x"}, .onyx_ops = true});
  EXPECT_EQ(count_ops(onyx.model, "com.onyx.training", "MaxPoolGrad"), 2u);
  EXPECT_EQ(count_ops(onyx.model, "com.onyx.training", "ReluGrad"), 1u);
  EXPECT_EQ(count_ops(onyx.model, "", "ScatterElements") + count_ops(onyx.model, "", "Where"), 0u);
  EXPECT_EQ(count_ops(portable.model, "com.onyx.training", "MaxPoolGrad") +
                count_ops(portable.model, "com.onyx.training", "ReluGrad"),
            0u);

  // Values on a coarse grid: exact zeros at Relu's kink and equal values within windows.
  Tensor x = random_tensor(DataType::kFloat, x_shape, -1, 1, 5);
  for (float& v : std::span(x.mutable_data<float>(), x.element_count())) v = std::round(v * 8) / 8;
  SessionOptions options;
  options.intra_op_threads = 2;
  auto gradient = [&](const training::GradientGraph& graph) {
    InferenceSession session(graph.model, options);
    for (const NamedValue& output : session.run({{"x", x}})) {
      if (output.name == graph.gradients.at(0).second) return output.value.tensor();
    }
    throw std::runtime_error("no gradient output");
  };
  EXPECT_TRUE(tensors_close(gradient(onyx), gradient(portable), 1e-6, 1e-6));
}

// One MaxPoolGrad node over dY [2, 3, 2, 2] and X [2, 3, 4, 4], fed Indices.
Model max_pool_grad_model() {
  Model model;
  model.opsets[""] = 18;
  model.opsets["com.onyx.training"] = 1;
  Graph& g = model.graph;
  g.inputs = {{"dy", float_tensor({2, 3, 2, 2}), ""},
              {"indices", TypeInfo::tensor_of_shape(DataType::kInt64, Shape{2, 3, 2, 2}), ""},
              {"x", float_tensor({2, 3, 4, 4}), ""}};
  g.nodes = {Node{"grad", "MaxPoolGrad", "com.onyx.training", {"dy", "indices", "x"}, {"dx"}, {}, ""}};
  g.outputs = {{"dx", float_tensor({2, 3, 4, 4}), ""}};
  return model;
}

TEST(OnyxTrainingOps, MaxPoolGradScattersIntoEachPlaneAndRefusesIndicesOutsideIt) {
  SessionOptions options;
  options.intra_op_threads = 2;
  InferenceSession session(max_pool_grad_model(), options);
  // Output o of plane p points at element (o % 4) * 5 of that plane; two outputs share one.
  std::vector<int64_t> indices(24);
  for (int64_t o = 0; o < 24; ++o) indices[o] = o / 4 * 16 + (o % 4 == 3 ? 0 : (o % 4) * 5);
  std::vector<float> dy(24);
  for (int64_t o = 0; o < 24; ++o) dy[o] = static_cast<float>(o + 1);
  Tensor dx = session
                  .run({{"dy", Tensor::from_vector<float>({2, 3, 2, 2}, dy)},
                        {"indices", Tensor::from_vector<int64_t>({2, 3, 2, 2}, indices)},
                        {"x", Tensor(DataType::kFloat, {2, 3, 4, 4})}})
                  .at(0)
                  .value.tensor();
  for (int64_t p = 0; p < 6; ++p) {
    const float* plane = dx.data<float>() + p * 16;
    for (int64_t i = 0; i < 16; ++i) {
      float expected = 0;
      if (i == 0) expected = dy[p * 4] + dy[p * 4 + 3];
      if (i == 5) expected = dy[p * 4 + 1];
      if (i == 10) expected = dy[p * 4 + 2];
      EXPECT_EQ(plane[i], expected) << "plane " << p << " element " << i;
    }
  }
  indices[9] = 3;  // plane 2's output pointing into plane 0
  const std::string message = error_message([&] {
    session.run({{"dy", Tensor::from_vector<float>({2, 3, 2, 2}, dy)},
                 {"indices", Tensor::from_vector<int64_t>({2, 3, 2, 2}, indices)},
                 {"x", Tensor(DataType::kFloat, {2, 3, 4, 4})}});
  });
  EXPECT_NE(message.find("MaxPoolGrad: index 3 of output 9 is outside its plane [32, 48)"), std::string::npos)
      << message;
}

TEST(OnyxTrainingOps, ReluGradRefusesMismatchedShapes) {
  Model model;
  model.opsets[""] = 18;
  model.opsets["com.onyx.training"] = 1;
  model.graph.inputs = {{"dy", float_tensor({2, 3}), ""}, {"x", TypeInfo::tensor(DataType::kFloat), ""}};
  model.graph.nodes = {Node{"grad", "ReluGrad", "com.onyx.training", {"dy", "x"}, {"dx"}, {}, ""}};
  model.graph.outputs = {{"dx", float_tensor({2, 3}), ""}};
  InferenceSession session(model);
  const Tensor dy = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor dx = session.run({{"dy", dy}, {"x", Tensor::from_vector<float>({2, 3}, {-1, 0, 1, 2, -3, 0.5f})}}).at(0).value.tensor();
  const auto values = dx.values<float>();
  EXPECT_EQ(std::vector<float>(values.begin(), values.end()), (std::vector<float>{0, 0, 3, 4, 0, 6}));
  const std::string message = error_message([&] { session.run({{"dy", dy}, {"x", Tensor::from_vector<float>({6}, {1, 2, 3, 4, 5, 6})}}); });
  EXPECT_NE(message.find("ReluGrad: dY float[2,3] and X float[6] must have one type and shape"), std::string::npos)
      << message;
}

}  // namespace
}  // namespace onyx::testing
