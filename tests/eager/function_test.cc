// onyx::function and control flow: traced results equal eager results, loops and branches
// become Loop / If nodes, a new signature retraces, dynamic dims serve many shapes with one
// trace, saved models load and run, and misuse of symbolic tensors is one clear error.
#include <gtest/gtest.h>

#include <filesystem>

#include "runtime/eager/eager.h"
#include "runtime/ir/model_loader.h"
#include "tests/eager/eager_test_util.h"

namespace onyx {
namespace {

using test::expect_floats_near;

int count_ops(const Graph& graph, const std::string& op_type) {
  int count = 0;
  for (const Node& node : graph.nodes) {
    count += node.op_type == op_type;
    for (const Attribute& attribute : node.attributes) {
      if (attribute.g) count += count_ops(*attribute.g, op_type);
    }
  }
  return count;
}

// sum of 0..n-1, written once, run eagerly or traced.
Tensor sum_below(const Tensor& n) {
  return for_range(n, [](const Tensor& i, const std::vector<Tensor>& v) {
    return std::vector<Tensor>{v[0] + i};
  }, {Tensor::scalar<int64_t>(0)})[0];
}

TEST(EagerFunction, ForRangeTracesToOneLoopAndMatchesEager) {
  Tensor n = Tensor::scalar<int64_t>(1000);
  Tensor eager_sum = sum_below(n);
  EXPECT_EQ(eager_sum.values<int64_t>()[0], 499500);
  auto traced = onyx::function(sum_below);
  Tensor graph_sum = traced(n);
  EXPECT_EQ(graph_sum.values<int64_t>()[0], 499500);
  EXPECT_EQ(traced(Tensor::scalar<int64_t>(10)).values<int64_t>()[0], 45);
  EXPECT_EQ(traced.trace_count(), 1u);  // same signature: no retrace
  const Model& model = traced.concrete(n).model();
  EXPECT_EQ(count_ops(model.graph, "Loop"), 1);
  EXPECT_EQ(count_ops(model.graph, "Add"), 1);
}

TEST(EagerFunction, WhileLoopAndCondMatchEager) {
  // Collatz steps of x: a data-dependent while loop with a branch inside.
  auto collatz_steps = [](const Tensor& x) {
    return while_loop([](const std::vector<Tensor>& v) { return v[0] > 1.0; },
                      [](const std::vector<Tensor>& v) {
                        Tensor odd = ops::mod(v[0], Tensor::scalar<int64_t>(2)) > 0.0;
                        Tensor next = cond(odd, [&] { return std::vector<Tensor>{v[0] * 3.0 + 1.0}; },
                                           [&] { return std::vector<Tensor>{v[0] / 2.0}; })[0];
                        return std::vector<Tensor>{next, v[1] + 1.0};
                      },
                      {x, Tensor::scalar<int64_t>(0)})[1];
  };
  auto traced = onyx::function(collatz_steps);
  for (int64_t start : {1, 6, 27}) {
    Tensor x = Tensor::scalar<int64_t>(start);
    int64_t eager_steps = collatz_steps(x).values<int64_t>()[0];
    EXPECT_EQ(traced(x).values<int64_t>()[0], eager_steps) << start;
  }
  EXPECT_EQ(collatz_steps(Tensor::scalar<int64_t>(27)).values<int64_t>()[0], 111);
  const Model& model = traced.concrete(Tensor::scalar<int64_t>(1)).model();
  EXPECT_EQ(count_ops(model.graph, "Loop"), 1);
  EXPECT_EQ(count_ops(model.graph, "If"), 1);
}

TEST(EagerFunction, NewSignatureRetracesAndDynamicDimsDoNot) {
  auto scale = [](const Tensor& x) { return ops::relu(x * 2.0 - 1.0); };
  auto per_shape = onyx::function(scale);
  expect_floats_near(per_shape(Tensor::from_vector<float>({2}, {1, 0})), {1, 0});
  expect_floats_near(per_shape(Tensor::from_vector<float>({3}, {1, 2, 3})), {1, 3, 5});
  EXPECT_EQ(per_shape.trace_count(), 2u);
  (void)per_shape(Tensor::from_vector<double>({2}, {1, 2}));
  EXPECT_EQ(per_shape.trace_count(), 3u);

  FunctionOptions options;
  options.input_signature = {{DataType::kFloat, {-1, 2}}};
  auto dynamic = onyx::function(scale, options);
  expect_floats_near(dynamic(Tensor::from_vector<float>({1, 2}, {1, 2})), {1, 3});
  expect_floats_near(dynamic(Tensor::from_vector<float>({3, 2}, {0, 1, 2, 3, 4, 5})), {0, 1, 3, 5, 7, 9});
  EXPECT_EQ(dynamic.trace_count(), 1u);
  const ValueInfo& input = dynamic.concrete(TensorSpec{DataType::kFloat, {-1, 2}}).model().graph.inputs[0];
  ASSERT_TRUE(input.type.shape);
  EXPECT_FALSE((*input.type.shape)[0].is_known());
  EXPECT_EQ((*input.type.shape)[1].value, 2);
  EXPECT_THROW(dynamic(Tensor::from_vector<float>({2, 3}, {0, 1, 2, 3, 4, 5})), Error);
}

TEST(EagerFunction, TracedShapesComeFromTheShapeRules) {
  auto f = [](const Tensor& x) {
    Tensor flat = ops::reshape(x, Tensor::from_vector<int64_t>({1}, {-1}));
    EXPECT_TRUE(flat.is_symbolic());
    EXPECT_EQ(flat.shape(), (Shape{6}));
    return flat;
  };
  auto traced = onyx::function(f);
  expect_floats_near(traced(Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6})), {1, 2, 3, 4, 5, 6});
}

TEST(EagerFunction, SavedModelLoadsAndRuns) {
  auto traced = onyx::function([](const Tensor& x, const Tensor& w) {
    return ops::matmul(x, w) + 1.0;
  });
  Tensor x = Tensor::from_vector<float>({1, 2}, {1, 2});
  Tensor w = Tensor::from_vector<float>({2, 2}, {1, 0, 0, 1});
  std::filesystem::path path = std::filesystem::temp_directory_path() / "onyx_eager_saved_test.onnx";
  traced.concrete(x, w).save(path);
  InferenceSession session(path);
  auto outputs = session.run({{"input_0", x}, {"input_1", w}});
  expect_floats_near(outputs[0].value.tensor(), {2, 3});
  std::filesystem::remove(path);
}

TEST(EagerFunction, SymbolicMisuseIsOneClearError) {
  auto reads_values = onyx::function([](const Tensor& x) {
    (void)x.values<float>();
    return x;
  });
  try {
    (void)reads_values(Tensor::from_vector<float>({1}, {1}));
    FAIL() << "reading a symbolic tensor's values must fail";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("symbolic"), std::string::npos) << error.what();
  }
  Tensor leaked;
  auto leaks = onyx::function([&](const Tensor& x) {
    leaked = x * 2.0;
    return x;
  });
  (void)leaks(Tensor::from_vector<float>({1}, {1}));
  EXPECT_THROW((void)(leaked + 1.0), Error);  // a symbolic tensor outside its trace
  auto escapes_body = onyx::function([](const Tensor& x) {
    Tensor inner;
    (void)for_range(2, [&](const Tensor&, const std::vector<Tensor>& v) {
      inner = v[0] + 1.0;
      return std::vector<Tensor>{inner};
    }, {x});
    return inner * 2.0;  // computed inside the loop body: must come out through its results
  });
  EXPECT_THROW((void)escapes_body(Tensor::from_vector<float>({1}, {1})), Error);
}

}  // namespace
}  // namespace onyx
