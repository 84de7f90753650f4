// Custom ops defined in C++: the definition API, per-session and global registration,
// conflicts and reserved domains, variadic and optional inputs, type inference, and use inside
// If/Loop bodies and through node calls (the eager path).
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/extensions/op_registry.h"
#include "runtime/session/node_call.h"
#include "tests/extensions/custom_op_test_util.h"

namespace onyx {
namespace {

using namespace testing;

constexpr const char* kDomain = "com.test";

// Y = alpha * X for float or double; a plain-function kernel.
CustomOpDefinition scale_op(const std::string& domain = kDomain) {
  return CustomOpDefinition(domain, "Scale")
      .input("X", "T")
      .output("Y", "T")
      .type_constraint("T", {DataType::kFloat, DataType::kDouble})
      .attribute("alpha", 2.0f)
      .infer_shapes(same_shape_as_input(0))
      .cpu_kernel([](KernelContext& ctx, const NodeAttributes& attributes) {
        const Tensor& x = ctx.input(0);
        float alpha = attributes.require_float("alpha");  // the default when the node has none
        Tensor& y = ctx.output(0, x.dtype(), x.shape());
        if (x.dtype() == DataType::kFloat) {
          for (int64_t i = 0; i < x.element_count(); ++i) y.mutable_data<float>()[i] = alpha * x.data<float>()[i];
        } else {
          for (int64_t i = 0; i < x.element_count(); ++i) y.mutable_data<double>()[i] = alpha * x.data<double>()[i];
        }
      });
}

// Y = X_0 + X_1 + ... (at least two); Count = the number of inputs, an int64 scalar.
CustomOpDefinition sum_all_op() {
  return CustomOpDefinition(kDomain, "SumAll")
      .variadic_input("X", "T", 2)
      .output("Y", "T")
      .output("Count", "int64")
      .type_constraint("T", {DataType::kFloat})
      .infer_shapes([](InferenceContext& ctx) {
        same_shape_as_input(0)(ctx);
        ctx.set_output_type(1, TypeInfo::tensor(DataType::kInt64, std::vector<Dim>{}));
      })
      .cpu_kernel([](KernelContext& ctx, const NodeAttributes&) {
        const Tensor& first = ctx.input(0);
        Tensor& y = ctx.output(0, DataType::kFloat, first.shape());
        for (int64_t i = 0; i < y.element_count(); ++i) y.mutable_data<float>()[i] = 0;
        for (size_t k = 0; k < ctx.input_count(); ++k) {
          for (int64_t i = 0; i < y.element_count(); ++i) y.mutable_data<float>()[i] += ctx.input(k).data<float>()[i];
        }
        ctx.output(1, DataType::kInt64, {}).mutable_data<int64_t>()[0] = static_cast<int64_t>(ctx.input_count());
      });
}

// Y = X + (Bias or 0); Bias is optional and the output type comes from X alone.
CustomOpDefinition add_bias_op() {
  return CustomOpDefinition(kDomain, "AddBias")
      .input("X", "T")
      .optional_input("Bias", "T")
      .output("Y", "T")
      .type_constraint("T", {DataType::kFloat, DataType::kDouble})
      .cpu_kernel([](KernelContext& ctx, const NodeAttributes&) {
        const Tensor& x = ctx.input(0);
        Tensor& y = ctx.output(0, x.dtype(), x.shape());
        for (int64_t i = 0; i < x.element_count(); ++i) {
          y.mutable_data<float>()[i] = x.data<float>()[i] + (ctx.has_input(1) ? ctx.input(1).data<float>()[i] : 0.0f);
        }
      });
}

SessionOptions with_ops(std::vector<CustomOpDefinition> ops) {
  SessionOptions options;
  options.intra_op_threads = 1;
  options.custom_ops = std::move(ops);
  return options;
}

TEST(CustomOps, PerSessionOpRunsWithAttributeDefaultAndGivenValue) {
  Model model = make_model({custom_node(kDomain, "Scale", {"x"}, {"a"}),
                            custom_node(kDomain, "Scale", {"a"}, {"y"}, {make_attribute("alpha", 0.25f)})},
                           {tensor_value("x", DataType::kFloat, {3})}, {tensor_value("y", DataType::kFloat, {3})});
  model.opsets[kDomain] = 1;
  InferenceSession session(model, with_ops({scale_op()}));
  auto y = values_of(session.run({{"x", Tensor::from_vector<float>({3}, {1, -2, 4})}})[0].value);
  EXPECT_EQ(y, (std::vector<float>{0.5f, -1.0f, 2.0f}));  // 2.0 (default) then 0.25
  // The intermediate's type and shape come from the custom op's rule.
  EXPECT_EQ(session.types().find("a")->to_string(), "float[3]");

  // Another session without the op does not see it, and the error names op, domain, opset and
  // the custom ops that are registered (ORT issue 12074).
  std::string message = error_of([&] { InferenceSession other(model); });
  for (const char* part : {"Scale", "com.test", "opset 1", "registered custom ops"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << " missing from: " << message;
  }
}

TEST(CustomOps, WrongDomainOrVersionListsWhatIsRegistered) {
  Model model = single_node_model(custom_node("com.tset", "Scale", {"x"}, {"y"}),
                                  {tensor_value("x", DataType::kFloat, {1})}, {tensor_value("y", DataType::kFloat, {1})});
  std::string message = error_of([&] { InferenceSession session(model, with_ops({scale_op()})); });
  EXPECT_NE(message.find("com.tset"), std::string::npos) << message;
  EXPECT_NE(message.find("com.test: Scale version 1+"), std::string::npos) << message;

  Model versioned = single_node_model(custom_node(kDomain, "Scale", {"x"}, {"y"}),
                                      {tensor_value("x", DataType::kFloat, {1})},
                                      {tensor_value("y", DataType::kFloat, {1})}, 5);
  message = error_of([&] { InferenceSession session(versioned, with_ops({scale_op().versions(1, 3)})); });
  EXPECT_NE(message.find("opset 5"), std::string::npos) << message;
  EXPECT_NE(message.find("opset 1-3"), std::string::npos) << message;
}

TEST(CustomOps, GlobalRegistrationServesEverySession) {
  const std::string domain = "com.test.global";
  OpRegistry::global().add(scale_op(domain));
  Model model = single_node_model(custom_node(domain, "Scale", {"x"}, {"y"}),
                                  {tensor_value("x", DataType::kDouble, {2})}, {tensor_value("y", DataType::kDouble, {2})});
  for (int session_index = 0; session_index < 2; ++session_index) {
    InferenceSession session(model);
    auto y = session.run({{"x", Tensor::from_vector<double>({2}, {1.5, -3})}})[0].value.tensor().values<double>();
    EXPECT_EQ(y[0], 3.0);
    EXPECT_EQ(y[1], -6.0);
  }
  // A session may not register the same op again: conflicts are errors, not silent shadowing.
  std::string message = error_of([&] { InferenceSession session(model, with_ops({scale_op(domain)})); });
  EXPECT_NE(message.find("conflicts with com.test.global::Scale version 1+"), std::string::npos) << message;
}

TEST(CustomOps, ConflictsAndReservedDomainsAreClearErrors) {
  OpRegistry registry(&OpRegistry::global());
  registry.add(scale_op());
  std::string message = error_of([&] { registry.add(scale_op()); });
  EXPECT_NE(message.find("com.test::Scale version 1+ (from C++) conflicts with com.test::Scale version 1+"),
            std::string::npos) << message;
  // An overlapping range conflicts too; a disjoint one is a new version.
  EXPECT_NE(error_of([&] { registry.add(scale_op().versions(3, 4)); }).find("conflicts"), std::string::npos);
  OpRegistry versions(&OpRegistry::global());
  versions.add(scale_op().versions(1, 2));
  EXPECT_EQ(error_of([&] { versions.add(scale_op().versions(3)); }), "");

  for (const char* reserved : {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training", "onyx"}) {
    message = error_of([&] { registry.add(scale_op(reserved)); });
    EXPECT_NE(message.find("is reserved"), std::string::npos) << reserved << ": " << message;
  }
}

TEST(CustomOps, InconsistentDefinitionsAreRejected) {
  OpRegistry registry(&OpRegistry::global());
  auto no_cpu = CustomOpDefinition(kDomain, "NoKernel").input("X", "float").output("Y", "float");
  EXPECT_NE(error_of([&] { registry.add(no_cpu); }).find("a CPU kernel is required"), std::string::npos);
  auto unconstrained = scale_op();
  unconstrained.inputs[0].type = "U";
  EXPECT_NE(error_of([&] { registry.add(unconstrained); }).find("'U'"), std::string::npos);
  auto variadic_first = sum_all_op();
  variadic_first.input("Extra", "T");
  EXPECT_NE(error_of([&] { registry.add(variadic_first); }).find("must be the last input"), std::string::npos);
}

TEST(CustomOps, VariadicInputsTakeAnyCountAboveTheMinimum) {
  for (int count : {2, 3, 5}) {
    std::vector<std::string> names;
    std::vector<ValueInfo> inputs;
    std::map<std::string, Value> feeds;
    for (int k = 0; k < count; ++k) {
      names.push_back("x" + std::to_string(k));
      inputs.push_back(tensor_value(names.back(), DataType::kFloat, {2}));
      feeds[names.back()] = Tensor::from_vector<float>({2}, {float(k), float(10 * k)});
    }
    Model model = single_node_model(custom_node(kDomain, "SumAll", names, {"y", "n"}), inputs,
                                    {{"y", {}, ""}, {"n", {}, ""}});
    InferenceSession session(model, with_ops({sum_all_op()}));
    EXPECT_EQ(session.types().find("n")->to_string(), "int64[]");
    EXPECT_EQ(session.types().find("y")->to_string(), "float[2]");
    auto outputs = session.run(feeds);
    float expected = count * (count - 1) / 2.0f;
    EXPECT_EQ(values_of(outputs[0].value), (std::vector<float>{expected, 10 * expected}));
    EXPECT_EQ(outputs[1].value.tensor().values<int64_t>()[0], count);
  }
  Model one = single_node_model(custom_node(kDomain, "SumAll", {"x"}, {"y", "n"}),
                                {tensor_value("x", DataType::kFloat, {2})}, {{"y", {}, ""}, {"n", {}, ""}});
  std::string message = error_of([&] { InferenceSession session(one, with_ops({sum_all_op()})); });
  EXPECT_NE(message.find("takes at least 2 inputs (X...), got 1"), std::string::npos) << message;
}

TEST(CustomOps, OptionalInputLeftOutStillGivesTheOutputType) {
  // ORT PR 19906: output type inference failed when an optional input was absent.
  for (bool with_bias : {false, true}) {
    Node node = custom_node(kDomain, "AddBias", with_bias ? std::vector<std::string>{"x", "b"}
                                                          : std::vector<std::string>{"x", ""}, {"y"});
    std::vector<ValueInfo> inputs = {tensor_value("x", DataType::kFloat, {2})};
    if (with_bias) inputs.push_back(tensor_value("b", DataType::kFloat, {2}));
    InferenceSession session(single_node_model(node, inputs, {{"y", {}, ""}}), with_ops({add_bias_op()}));
    EXPECT_EQ(session.types().find("y")->elem_type, DataType::kFloat);
    std::map<std::string, Value> feeds = {{"x", Tensor::from_vector<float>({2}, {1, 2})}};
    if (with_bias) feeds["b"] = Tensor::from_vector<float>({2}, {10, 20});
    EXPECT_EQ(values_of(session.run(feeds)[0].value),
              with_bias ? (std::vector<float>{11, 22}) : (std::vector<float>{1, 2}));
  }
}

TEST(CustomOps, TypeConstraintsAndAttributesAreCheckedWithNamedErrors) {
  auto expect_error = [](Node node, std::vector<ValueInfo> inputs, const std::string& part) {
    std::string message =
        error_of([&] { InferenceSession session(single_node_model(node, inputs, {{"y", {}, ""}}), with_ops({add_bias_op(), scale_op()})); });
    EXPECT_NE(message.find(part), std::string::npos) << message;
  };
  expect_error(custom_node(kDomain, "AddBias", {"x", "b"}, {"y"}),
               {tensor_value("x", DataType::kFloat, {2}), tensor_value("b", DataType::kDouble, {2})},
               "input 1 (Bias, 'b') is double but input 0 binds T to float");
  expect_error(custom_node(kDomain, "Scale", {"x"}, {"y"}), {tensor_value("x", DataType::kInt32, {2})},
               "allows T in {float, double}");
  expect_error(custom_node(kDomain, "Scale", {"x"}, {"y"}, {make_attribute("alpha", int64_t{2})}),
               {tensor_value("x", DataType::kFloat, {2})}, "attribute 'alpha' of com.test::Scale version 1+ must be a float");
  expect_error(custom_node(kDomain, "Scale", {"x"}, {"y"}, {make_attribute("gamma", 1.0f)}),
               {tensor_value("x", DataType::kFloat, {2})}, "has no attribute 'gamma' (its attributes: alpha)");
}

// Outer: x -> If(cond) { then: Scale(x) [alpha 3]; else: Scale(x) } -> Loop(3) { body: c = Scale(c) } -> y.
Model control_flow_model() {
  auto branch = [](const std::string& name, std::vector<Attribute> attributes) {
    auto graph = std::make_shared<Graph>();
    graph->name = name;
    graph->nodes = {custom_node(kDomain, "Scale", {"x"}, {name + "_out"}, std::move(attributes))};
    graph->outputs = {tensor_value(name + "_out", DataType::kFloat, {2})};
    return graph;
  };
  Attribute then_branch;
  then_branch.name = "then_branch";
  then_branch.kind = Attribute::Kind::kGraph;
  then_branch.g = branch("then", {make_attribute("alpha", 3.0f)});
  Attribute else_branch = then_branch;
  else_branch.name = "else_branch";
  else_branch.g = branch("else", {});

  auto body = std::make_shared<Graph>();
  body->name = "body";
  body->inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond_in", DataType::kBool, {}),
                  tensor_value("c", DataType::kFloat, {2})};
  body->nodes = {make_node("Identity", {"cond_in"}, {"cond_out"}), custom_node(kDomain, "Scale", {"c"}, {"c_out"})};
  body->outputs = {tensor_value("cond_out", DataType::kBool, {}), tensor_value("c_out", DataType::kFloat, {2})};
  Attribute body_attribute;
  body_attribute.name = "body";
  body_attribute.kind = Attribute::Kind::kGraph;
  body_attribute.g = body;

  Model model = make_model({make_node("If", {"cond"}, {"branched"}, {then_branch, else_branch}),
                            make_node("Loop", {"trips", "", "branched"}, {"y"}, {body_attribute})},
                           {tensor_value("x", DataType::kFloat, {2}), tensor_value("cond", DataType::kBool, {}),
                            tensor_value("trips", DataType::kInt64, {})},
                           {tensor_value("y", DataType::kFloat, {2})});
  model.opsets[kDomain] = 1;
  return model;
}

TEST(CustomOps, SessionOpsServeIfAndLoopBodies) {
  InferenceSession session(control_flow_model(), with_ops({scale_op()}));
  for (bool cond : {true, false}) {
    auto y = values_of(session.run({{"x", Tensor::from_vector<float>({2}, {1, -1})},
                                    {"cond", Tensor::scalar<bool>(cond)},
                                    {"trips", Tensor::scalar<int64_t>(3)}})[0].value);
    float factor = (cond ? 3.0f : 2.0f) * 8.0f;  // the branch, then three Loop iterations of 2x
    EXPECT_EQ(y, (std::vector<float>{factor, -factor}));
  }
  // Without the op, the body's node is reported from inside the subgraph.
  std::string message = error_of([&] { InferenceSession session(control_flow_model()); });
  EXPECT_NE(message.find("Scale"), std::string::npos) << message;
}

TEST(CustomOps, NodeCallsUseTheSameRegistry) {
  // call_node is the path constant folding, eager calls and kernel tests share.
  OpRegistry registry(&OpRegistry::global());
  registry.add(scale_op());
  Node node = custom_node(kDomain, "Scale", {"x"}, {"y"}, {make_attribute("alpha", -1.0f)});
  auto y = call_node_on_cpu(node, 1, {Tensor::from_vector<float>({2}, {4, 5})}, 1, registry);
  EXPECT_EQ(values_of(y[0]), (std::vector<float>{-4, -5}));
  // Node calls check types as sessions do.
  std::string message = error_of([&] { call_node_on_cpu(node, 1, {Tensor::from_vector<int32_t>({1}, {4})}, 1, registry); });
  EXPECT_NE(message.find("allows T in {float, double}"), std::string::npos) << message;
  EXPECT_NE(error_of([&] { call_node_on_cpu(node, 1, {Tensor::from_vector<float>({1}, {4})}); }).find("registered custom ops"),
            std::string::npos);
}

TEST(CustomOps, CudaKernelsAreCarriedByTheDefinition) {
  // No CUDA provider exists yet; the definition still carries the kernel and the registry
  // registers it under "CUDA" for the provider to find.
  OpRegistry registry(&OpRegistry::global());
  auto op = scale_op();
  op.cuda_kernel([](const KernelInfo&) -> std::unique_ptr<Kernel> { return nullptr; });
  registry.add(op);
  EXPECT_NE(registry.kernels().find("CUDA", kDomain, "Scale", 1), nullptr);
  EXPECT_NE(registry.kernels().find("CPU", kDomain, "Scale", 1), nullptr);
  EXPECT_EQ(OpRegistry::global().kernels().find("CUDA", kDomain, "Scale", 1), nullptr);
}

}  // namespace
}  // namespace onyx
