// Placement, copy insertion and per-provider run state, tested with the emulated device
// (providers/emulated/): CPU kernels on memory the runtime must treat as a device's, whose
// kernels fail when an input is not where they read it.
#include <gtest/gtest.h>

#include <map>

#include "providers/emulated/emulated_provider.h"
#include "providers/provider_factory.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"

namespace onyx {
namespace {

using testing::make_model;
using testing::make_node;
using testing::tensor_value;

struct EmulatedSession {
  std::shared_ptr<EmulatedDeviceProvider> device = std::make_shared<EmulatedDeviceProvider>();
  std::unique_ptr<InferenceSession> session;
  explicit EmulatedSession(Model model) {
    SessionOptions options;
    options.providers = {device};
    session = std::make_unique<InferenceSession>(std::move(model), options);
  }
  const NodePlacement& node(const std::string& op) const {
    const auto& nodes = session->model().graph.nodes;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].op_type == op) return session->plan().placement().nodes[i];
    }
    throw std::runtime_error("no node " + op);
  }
};

std::vector<float> values_of(const Value& value) {
  auto span = value.tensor().values<float>();
  return {span.begin(), span.end()};
}

// y = Neg(Reshape(Relu(x), Concat(Unsqueeze(Gather(Shape(x), 0)), [2, 3]))) with x [N, 6]: the
// shape chain cannot fold (N is dynamic).
Model reshape_by_shape_chain() {
  Model model = make_model(
      {make_node("Relu", {"x"}, {"r"}), make_node("Shape", {"x"}, {"s"}),
       make_node("Gather", {"s", "zero"}, {"n"}), make_node("Unsqueeze", {"n", "axis0"}, {"n1"}),
       make_node("Concat", {"n1", "tail"}, {"shape"}, {make_attribute("axis", int64_t{0})}),
       make_node("Reshape", {"r", "shape"}, {"y"}), make_node("Neg", {"y"}, {"z"})},
      {tensor_value("x", DataType::kFloat, {-1, 6})}, {tensor_value("z", DataType::kFloat, {-1, 2, 3})});
  model.graph.set_initializer("zero", Tensor::scalar<int64_t>(0));
  model.graph.set_initializer("axis0", Tensor::from_vector<int64_t>({1}, {0}));
  model.graph.set_initializer("tail", Tensor::from_vector<int64_t>({2}, {2, 3}));
  return model;
}

TEST(Placement, ShapeChainsStayOnTheHostAndCostNoCopies) {
  EmulatedSession emulated(reshape_by_shape_chain());
  for (const char* op : {"Shape", "Gather", "Unsqueeze", "Concat"}) {
    EXPECT_EQ(emulated.node(op).provider->name(), "CPU") << op;
    EXPECT_EQ(emulated.node(op).host_reason, "shape computation") << op;
  }
  for (const char* op : {"Relu", "Reshape", "Neg"}) EXPECT_EQ(emulated.node(op).provider->name(), "EMULATED") << op;
  const GraphPlacement& placement = emulated.session->plan().placement();
  EXPECT_EQ(placement.inner_copy_count(), 0u) << "Shape reads only metadata and Reshape's shape is read on the host";
  ASSERT_EQ(placement.output_copies.size(), 1u);

  for (int64_t n : {2, 3}) {
    std::vector<float> x(static_cast<size_t>(n * 6));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 4) - 1.5f;
    auto outputs = emulated.session->run({{"x", Tensor::from_vector<float>({n, 6}, x)}});
    const Tensor& z = outputs[0].value.tensor();
    EXPECT_EQ(z.shape(), (Shape{n, 2, 3}));
    EXPECT_TRUE(z.device().is_cpu()) << "graph outputs come back to the host";
    std::vector<float> expected;
    for (float v : x) expected.push_back(-std::max(v, 0.0f));
    EXPECT_EQ(values_of(outputs[0].value), expected);
  }
  EXPECT_EQ(emulated.device->copies_from_host(), 2) << "x, once per run";
  EXPECT_EQ(emulated.device->copies_to_host(), 2) << "z, once per run";
}

TEST(Placement, ShapeValuesReadAsDataAreComputedOnTheDevice) {
  // positions = Range(0, N, 1) with N from Shape(x): the positions index an embedding table on
  // the device, so Range runs there (its scalar inputs are host inputs) rather than on the
  // host with a copy of its result.
  Model model = make_model(
      {make_node("Shape", {"x"}, {"s"}), make_node("Gather", {"s", "zero"}, {"n"}),
       make_node("Range", {"start", "n", "one"}, {"positions"}),
       make_node("Gather", {"table", "positions"}, {"embedded"}, {}, "embed"),
       make_node("Add", {"x", "embedded"}, {"y"})},
      {tensor_value("x", DataType::kFloat, {-1, 3})}, {tensor_value("y", DataType::kFloat, {-1, 3})});
  model.graph.set_initializer("zero", Tensor::scalar<int64_t>(0));
  model.graph.set_initializer("start", Tensor::scalar<int64_t>(0));
  model.graph.set_initializer("one", Tensor::scalar<int64_t>(1));
  std::vector<float> table(24);
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<float>(i);
  model.graph.set_initializer("table", Tensor::from_vector<float>({8, 3}, table));
  EmulatedSession emulated(std::move(model));
  const auto& nodes = emulated.session->plan().placement().nodes;
  EXPECT_EQ(nodes[0].provider->name(), "CPU");  // Shape
  EXPECT_EQ(nodes[1].provider->name(), "CPU");  // Gather of the shape
  EXPECT_EQ(nodes[2].provider->name(), "EMULATED") << "Range: " << nodes[2].host_reason;
  EXPECT_EQ(emulated.session->plan().placement().inner_copy_count(), 0u);
  auto outputs = emulated.session->run({{"x", Tensor::from_vector<float>({2, 3}, {0, 0, 0, 1, 1, 1})}});
  EXPECT_EQ(values_of(outputs[0].value), (std::vector<float>{0, 1, 2, 4, 5, 6}));
}

TEST(Placement, AValueIsCopiedOncePerDeviceHoweverManyNodesReadIt) {
  Model model = make_model({make_node("Neg", {"x"}, {"a"}), make_node("Abs", {"x"}, {"b"}),
                            make_node("Relu", {"x"}, {"c"}), make_node("Sum", {"a", "b", "c"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {3})}, {tensor_value("y", DataType::kFloat, {3})});
  EmulatedSession emulated(std::move(model));
  size_t copies_of_x = 0;
  for (const NodePlacement& node : emulated.session->plan().placement().nodes) {
    for (const PlannedCopy& copy : node.copies_before) copies_of_x += copy.value == "x";
  }
  EXPECT_EQ(copies_of_x, 1u);
  auto outputs = emulated.session->run({{"x", Tensor::from_vector<float>({3}, {-1, 0, 2})}});
  EXPECT_EQ(values_of(outputs[0].value), (std::vector<float>{2, 0, 2}));  // -x + |x| + relu(x)
  EXPECT_EQ(emulated.device->copies_from_host(), 1);
}

TEST(Placement, InitializersAreUploadedOnceAtSessionCreation) {
  Model model = make_model({make_node("Add", {"x", "w"}, {"y"})}, {tensor_value("x", DataType::kFloat, {2})},
                           {tensor_value("y", DataType::kFloat, {2})});
  model.graph.set_initializer("w", Tensor::from_vector<float>({2}, {10, 20}));
  EmulatedSession emulated(std::move(model));
  EXPECT_EQ(emulated.device->copies_from_host(), 1) << "w, when the session was made";
  EXPECT_EQ(emulated.session->plan().placement().constant_upload_count(), 1u);
  EXPECT_EQ(emulated.session->plan().placement().inner_copy_count(), 0u);
  for (int run = 0; run < 3; ++run) {
    auto outputs = emulated.session->run({{"x", Tensor::from_vector<float>({2}, {1, 2})}});
    EXPECT_EQ(values_of(outputs[0].value), (std::vector<float>{11, 22}));
  }
  EXPECT_EQ(emulated.device->copies_from_host(), 1 + 3) << "then only x, once per run";
}

TEST(Placement, InputsBoundOnTheDeviceAreNotCopied) {
  Model model = make_model({make_node("Neg", {"x"}, {"y"})}, {tensor_value("x", DataType::kFloat, {2})},
                           {tensor_value("y", DataType::kFloat, {2})});
  EmulatedSession emulated(std::move(model));
  Tensor on_device = emulated.device->from_host(Tensor::from_vector<float>({2}, {1, -2}), nullptr);
  ASSERT_EQ(emulated.device->copies_from_host(), 1);
  auto outputs = emulated.session->run({{"x", on_device}});
  EXPECT_EQ(values_of(outputs[0].value), (std::vector<float>{-1, 2}));
  EXPECT_EQ(emulated.device->copies_from_host(), 1) << "the bound input went straight to Neg";
}

TEST(Placement, OutputsCanStayOnTheDevice) {
  Model model = make_model({make_node("Neg", {"x"}, {"y"})}, {tensor_value("x", DataType::kFloat, {2})},
                           {tensor_value("y", DataType::kFloat, {2})});
  EmulatedSession emulated(std::move(model));
  auto outputs = emulated.session->run({{"x", Tensor::from_vector<float>({2}, {1, -2})}}, RunOptions{.outputs_on_device = true});
  EXPECT_EQ(outputs[0].value.tensor().device(), emulated.device->device());
  EXPECT_EQ(emulated.device->copies_to_host(), 0);
  EXPECT_EQ(values_of(Value(emulated.device->to_host(outputs[0].value.tensor(), nullptr))), (std::vector<float>{-1, 2}));
  auto on_host = emulated.session->run({{"x", Tensor::from_vector<float>({2}, {1, -2})}});
  EXPECT_TRUE(on_host[0].value.tensor().device().is_cpu());
}

TEST(Placement, ControlFlowRunsOnTheHostWithItsBodyOnTheDevice) {
  auto branch = [](const std::string& op) {
    auto graph = std::make_shared<Graph>();
    graph->name = op;
    graph->nodes = {make_node(op, {"x"}, {op + "_out"})};
    graph->outputs = {tensor_value(op + "_out", DataType::kFloat, {2})};
    return graph;
  };
  Attribute then_branch;
  then_branch.name = "then_branch";
  then_branch.kind = Attribute::Kind::kGraph;
  then_branch.g = branch("Neg");
  Attribute else_branch = then_branch;
  else_branch.name = "else_branch";
  else_branch.g = branch("Abs");
  Model model = make_model({make_node("If", {"c"}, {"y"}, {then_branch, else_branch})},
                           {tensor_value("c", DataType::kBool, {}), tensor_value("x", DataType::kFloat, {2})},
                           {tensor_value("y", DataType::kFloat, {2})});
  EmulatedSession emulated(std::move(model));
  EXPECT_EQ(emulated.node("If").provider->name(), "CPU");
  EXPECT_NE(emulated.node("If").host_reason.find("no EMULATED kernel for If"), std::string::npos);
  Tensor x = Tensor::from_vector<float>({2}, {-3, 4});
  auto negated = emulated.session->run({{"c", Tensor::scalar<bool>(true)}, {"x", x}});
  EXPECT_EQ(values_of(negated[0].value), (std::vector<float>{3, -4}));
  auto absolute = emulated.session->run({{"c", Tensor::scalar<bool>(false)}, {"x", x}});
  EXPECT_EQ(values_of(absolute[0].value), (std::vector<float>{3, 4}));
  EXPECT_EQ(emulated.device->copies_from_host(), 2) << "the branch's Neg/Abs read x on the device";
}

// The emulated device with kernels that take float inputs only, as a device kernel may.
class FloatOnlyDevice final : public ExecutionProvider {
 public:
  std::string name() const override { return device_.name(); }
  Device device() const override { return device_.device(); }
  std::shared_ptr<Allocator> allocator() override { return device_.allocator(); }
  const KernelDef* find_kernel(const Node& node, int64_t opset, const KernelRegistry& kernels) const override {
    const KernelDef* def = device_.find_kernel(node, opset, kernels);
    if (def == nullptr) return nullptr;
    auto& picky = picky_[def];
    if (!picky) {
      picky = std::make_unique<KernelDef>(*def);
      picky->supports = [](const KernelInfo& info) { return info.input_type(0).elem_type == DataType::kFloat; };
    }
    return picky.get();
  }
  Tensor to_host(const Tensor& tensor, DeviceRunState* run) override { return device_.to_host(tensor, run); }
  Tensor from_host(const Tensor& tensor, DeviceRunState* run) override { return device_.from_host(tensor, run); }
  EmulatedDeviceProvider device_;
  mutable std::map<const KernelDef*, std::unique_ptr<KernelDef>> picky_;
};

TEST(Placement, NodesADeviceKernelDoesNotTakeFallBackToTheCpu) {
  Model model = make_model({make_node("Neg", {"f"}, {"nf"}), make_node("Neg", {"i"}, {"ni"})},
                           {tensor_value("f", DataType::kFloat, {2}), tensor_value("i", DataType::kInt32, {2})},
                           {tensor_value("nf", DataType::kFloat, {2}), tensor_value("ni", DataType::kInt32, {2})});
  auto device = std::make_shared<FloatOnlyDevice>();
  SessionOptions options;
  options.providers = {device};
  InferenceSession session(std::move(model), options);
  const auto& nodes = session.plan().placement().nodes;
  EXPECT_EQ(nodes[0].provider->name(), "EMULATED");
  EXPECT_EQ(nodes[1].provider->name(), "CPU");
  EXPECT_NE(nodes[1].host_reason.find("does not take these inputs"), std::string::npos) << nodes[1].host_reason;
  auto outputs = session.run({{"f", Tensor::from_vector<float>({2}, {1, -2})}, {"i", Tensor::from_vector<int32_t>({2}, {3, -4})}});
  EXPECT_EQ(values_of(outputs[0].value), (std::vector<float>{-1, 2}));
  EXPECT_EQ(outputs[1].value.tensor().values<int32_t>()[1], 4);
}

// y = x, then `trip` times y = y * y + y (as a Loop whose body runs on the device).
Model loop_model() {
  auto body = std::make_shared<Graph>();
  body->name = "body";
  body->nodes = {make_node("Mul", {"y_in", "y_in"}, {"squared"}), make_node("Add", {"squared", "y_in"}, {"y_out"}),
                 make_node("Identity", {"cond_in"}, {"cond_out"})};
  body->inputs = {tensor_value("i", DataType::kInt64, {}), tensor_value("cond_in", DataType::kBool, {}),
                  tensor_value("y_in", DataType::kFloat, {2})};
  body->outputs = {tensor_value("cond_out", DataType::kBool, {}), tensor_value("y_out", DataType::kFloat, {2})};
  Attribute attribute;
  attribute.name = "body";
  attribute.kind = Attribute::Kind::kGraph;
  attribute.g = body;
  return make_model({make_node("Loop", {"trip", "", "x"}, {"y"}, {attribute}), make_node("Neg", {"y"}, {"z"})},
                    {tensor_value("trip", DataType::kInt64, {}), tensor_value("x", DataType::kFloat, {2})},
                    {tensor_value("z", DataType::kFloat, {2})});
}

TEST(Placement, ALoopKeepsItsStateOnTheDevice) {
  EmulatedSession emulated(loop_model());
  auto outputs = emulated.session->run({{"trip", Tensor::scalar<int64_t>(3)}, {"x", Tensor::from_vector<float>({2}, {1, -0.5f})}});
  std::vector<float> expected;
  for (float y : {1.0f, -0.5f}) {
    for (int i = 0; i < 3; ++i) y = y * y + y;
    expected.push_back(-y);
  }
  EXPECT_EQ(values_of(outputs[0].value), expected);
  // x goes to the device once and the state stays there for the three iterations and for Neg;
  // z comes back once. Only the condition crosses each iteration: the body's Identity runs on
  // the device (in from the host, out to the host). Were the state brought back after every
  // iteration, that would be 7 copies each way.
  EXPECT_EQ(emulated.device->copies_from_host(), 1 + 3);
  EXPECT_EQ(emulated.device->copies_to_host(), 1 + 3);
}

// Scan (opset 9+): sum = 0; for each row r of x: sum = sum + r, emitting sum each step.
Model scan_model() {
  auto body = std::make_shared<Graph>();
  body->name = "body";
  body->nodes = {make_node("Add", {"sum_in", "row"}, {"sum_out"}), make_node("Neg", {"sum_out"}, {"emitted"})};
  body->inputs = {tensor_value("sum_in", DataType::kFloat, {2}), tensor_value("row", DataType::kFloat, {2})};
  body->outputs = {tensor_value("sum_out", DataType::kFloat, {2}), tensor_value("emitted", DataType::kFloat, {2})};
  Attribute attribute;
  attribute.name = "body";
  attribute.kind = Attribute::Kind::kGraph;
  attribute.g = body;
  return make_model({make_node("Scan", {"initial", "x"}, {"sum", "sums"}, {attribute, make_attribute("num_scan_inputs", int64_t{1})})},
                    {tensor_value("initial", DataType::kFloat, {2}), tensor_value("x", DataType::kFloat, {4, 2})},
                    {tensor_value("sum", DataType::kFloat, {2}), tensor_value("sums", DataType::kFloat, {4, 2})});
}

TEST(Placement, AScanKeepsItsStateOnTheDevice) {
  EmulatedSession emulated(scan_model());
  auto outputs = emulated.session->run({{"initial", Tensor::from_vector<float>({2}, {1, 2})},
                                        {"x", Tensor::from_vector<float>({4, 2}, {1, 1, 2, 2, 3, 3, 4, 4})}});
  EXPECT_EQ(values_of(outputs[0].value), (std::vector<float>{11, 12}));
  EXPECT_EQ(values_of(outputs[1].value), (std::vector<float>{-2, -3, -4, -5, -7, -8, -11, -12}));
  // In: the initial state once and each of the 4 rows (sliced on the host). Out: each step's
  // emitted row (stacked on the host) and the final state once. A state brought back every
  // step would add 3 copies each way.
  EXPECT_EQ(emulated.device->copies_from_host(), 1 + 4);
  EXPECT_EQ(emulated.device->copies_to_host(), 4 + 1);
}

TEST(Placement, WorksWithoutCreatingKernels) {
  SessionOptions options;
  options.providers = make_providers({"emulated"});
  SessionPreview preview = InferenceSession::preview(reshape_by_shape_chain(), options);
  ASSERT_EQ(preview.placement.nodes.size(), 7u);
  EXPECT_EQ(preview.placement.inner_copy_count(), 0u);
}

TEST(ProviderSpec, ParsesNamesDeviceIdsAndOptions) {
  ProviderSpec spec = ProviderSpec::parse("CUDA:1,memory_limit=2000000000,tf32=1");
  EXPECT_EQ(spec.name, "cuda");
  EXPECT_EQ(spec.device_id, 1);
  EXPECT_EQ(spec.options.at("memory_limit"), "2000000000");
  EXPECT_EQ(spec.options.at("tf32"), "1");
  EXPECT_EQ(ProviderSpec::parse("cpu").device_id, 0);
  for (const char* bad : {"cuda:x", "cuda:-1", "cuda:0,tf32", ":0"}) {
    EXPECT_THROW(ProviderSpec::parse(bad), Error) << bad;
  }
}

TEST(ProviderSpec, UnknownProvidersAreClearErrors) {
  try {
    make_provider(ProviderSpec::parse("tpu"));
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("unknown execution provider 'tpu'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("cpu"), std::string::npos) << error.what();
  }
  auto providers = make_providers({"emulated:2"});
  ASSERT_EQ(providers.size(), 2u);
  EXPECT_EQ(providers[0]->device().to_string(), "emulated:2");
  EXPECT_TRUE(providers[1]->device().is_cpu());
#ifndef ONYX_WITH_CUDA
  try {
    make_provider(ProviderSpec::parse("cuda"));
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("no CUDA provider"), std::string::npos) << error.what();
  }
#endif
}

}  // namespace
}  // namespace onyx
