#include <gtest/gtest.h>

#include <cmath>

#include "providers/cpu/cpu_provider.h"
#include "providers/emulated/emulated_provider.h"
#include "providers/execution_provider.h"
#include "runtime/session/inference_session.h"
#include "runtime/tensor/caching_allocator.h"
#include "tests/runtime/model_building.h"

namespace onyx {
namespace {

using testing::make_model;
using testing::make_node;
using testing::neg_abs_chain;
using testing::tensor_value;

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(InferenceSession, RunsAChainAndReusesBuffers) {
  InferenceSession session(neg_abs_chain(10, {256}));
  // Ten intermediates of 1 KiB each, but only two are ever alive at once.
  EXPECT_EQ(session.plan().memory_plan().planned_value_count(), 9u);
  EXPECT_LE(session.plan().memory_plan().arena_bytes(), 2u * 1024u);
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = static_cast<float>(i - 128);
  for (int run = 0; run < 3; ++run) {  // arenas are reused across runs
    auto outputs = session.run({{"x", Tensor::from_vector<float>({256}, x)}});
    auto y = outputs[0].value.tensor().values<float>();
    for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], std::abs(x[i])) << i;
  }
}

TEST(InferenceSession, OutputsDoNotAliasTheArenaAcrossRuns) {
  Model model = make_model({make_node("Neg", {"x"}, {"t"}), make_node("Identity", {"t"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {2})}, {tensor_value("y", DataType::kFloat, {2})});
  InferenceSession session(std::move(model));
  auto first = session.run({{"x", Tensor::from_vector<float>({2}, {1, 2})}});
  auto second = session.run({{"x", Tensor::from_vector<float>({2}, {5, 6})}});
  EXPECT_EQ(first[0].value.tensor().values<float>()[0], -1.0f);
  EXPECT_EQ(second[0].value.tensor().values<float>()[0], -5.0f);
}

// One value listed as two graph outputs reaches both (each run, not only the first).
TEST(InferenceSession, AValueListedAsTwoOutputsFillsBoth) {
  Model model = make_model({make_node("Neg", {"x"}, {"y"})}, {tensor_value("x", DataType::kFloat, {2})},
                           {tensor_value("y", DataType::kFloat, {2}), tensor_value("y", DataType::kFloat, {2})});
  InferenceSession session(std::move(model));
  for (int run = 0; run < 2; ++run) {
    auto outputs = session.run({{"x", Tensor::from_vector<float>({2}, {1, -2})}});
    ASSERT_EQ(outputs.size(), 2u);
    for (const auto& output : outputs) {
      EXPECT_EQ(output.value.tensor().shape(), Shape({2}));
      EXPECT_EQ(std::vector<float>(output.value.tensor().values<float>().begin(), output.value.tensor().values<float>().end()),
                std::vector<float>({-1, 2}));
    }
  }
}

TEST(InferenceSession, WrongFeedsGiveClearErrors) {
  InferenceSession session(neg_abs_chain(2, {2, 3}));
  Tensor good(DataType::kFloat, {2, 3});
  EXPECT_NE(error_of([&] { session.run({{"z", good}}); }).find("unknown input 'z'"), std::string::npos);
  EXPECT_NE(error_of([&] { session.run({}); }).find("missing input 'x'"), std::string::npos);
  EXPECT_NE(error_of([&] { session.run({{"x", Tensor(DataType::kFloat, {3, 2})}}); }).find("expects shape"),
            std::string::npos);
  EXPECT_NE(error_of([&] { session.run({{"x", Tensor(DataType::kInt32, {2, 3})}}); }).find("element type float"),
            std::string::npos);
}

TEST(InferenceSession, SymbolicDimsAcceptAnySize) {
  InferenceSession session(neg_abs_chain(3, {-1, 2}));
  for (int64_t batch : {1, 5}) {
    auto outputs = session.run({{"x", Tensor(DataType::kFloat, {batch, 2})}});
    EXPECT_EQ(outputs[0].value.tensor().shape(), (Shape{batch, 2}));
  }
}

TEST(InferenceSession, UnknownOpsNameOpDomainOpsetAndNode) {
  Model model = make_model({make_node("FancyOp", {"x"}, {"y"}, {}, "the_node")},
                           {tensor_value("x", DataType::kFloat, {1})}, {tensor_value("y", DataType::kFloat, {1})});
  model.graph.nodes[0].domain = "com.acme";
  model.opsets["com.acme"] = 3;
  std::string message = error_of([&] { InferenceSession session(std::move(model)); });
  for (const char* part : {"FancyOp", "com.acme", "opset 3", "the_node"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << " missing from: " << message;
  }
}

TEST(InferenceSession, DanglingReferencesAndCyclesAreInvalidModels) {
  Model dangling = make_model({make_node("Relu", {"nowhere"}, {"y"})}, {tensor_value("x", DataType::kFloat, {1})},
                              {tensor_value("y", DataType::kFloat, {1})});
  EXPECT_NE(error_of([&] { InferenceSession s(std::move(dangling)); }).find("'nowhere'"), std::string::npos);
  Model cycle = make_model({make_node("Add", {"x", "b"}, {"a"}), make_node("Relu", {"a"}, {"b"})},
                           {tensor_value("x", DataType::kFloat, {1})}, {tensor_value("b", DataType::kFloat, {1})});
  EXPECT_NE(error_of([&] { InferenceSession s(std::move(cycle)); }).find("cycle"), std::string::npos);
}

TEST(InferenceSession, NodesOutOfOrderAreSorted) {
  Model model = make_model({make_node("Relu", {"t"}, {"y"}), make_node("Neg", {"x"}, {"t"})},
                           {tensor_value("x", DataType::kFloat, {1})}, {tensor_value("y", DataType::kFloat, {1})});
  InferenceSession session(std::move(model));
  auto outputs = session.run({{"x", Tensor::from_vector<float>({1}, {-4})}});
  EXPECT_EQ(outputs[0].value.tensor().values<float>()[0], 4.0f);
}

TEST(InferenceSession, ConstantSubgraphsAreFoldedAtCreation) {
  // y = Reshape(x, Shape(w)) where w is a constant: the shape chain folds away.
  Model model = make_model({make_node("Shape", {"w"}, {"s"}), make_node("Reshape", {"x", "s"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {6})}, {tensor_value("y", DataType::kFloat, {2, 3})});
  model.graph.set_initializer("w", Tensor(DataType::kFloat, {2, 3}));
  InferenceSession session(std::move(model));
  EXPECT_EQ(session.plan().steps().size(), 1u);
  EXPECT_TRUE(session.types().find("y")->has_static_shape());
}

// The emulated device, claiming only Neg, so that a Neg/Abs chain alternates between it and
// the CPU and every border needs a copy.
class NegOnlyDevice final : public ExecutionProvider {
 public:
  std::string name() const override { return device_.name(); }
  Device device() const override { return device_.device(); }
  std::shared_ptr<Allocator> allocator() override { return device_.allocator(); }
  const KernelDef* find_kernel(const Node& node, int64_t opset, const KernelRegistry& kernels) const override {
    return node.op_type == "Neg" ? device_.find_kernel(node, opset, kernels) : nullptr;
  }
  Tensor to_host(const Tensor& tensor, DeviceRunState* run) override { return device_.to_host(tensor, run); }
  Tensor from_host(const Tensor& tensor, DeviceRunState* run) override { return device_.from_host(tensor, run); }
  EmulatedDeviceProvider device_;
};

TEST(InferenceSession, PartitionsAcrossProvidersWithCopiesAtTheBorders) {
  auto device = std::make_shared<NegOnlyDevice>();
  SessionOptions options;
  options.providers = {device};
  InferenceSession session(neg_abs_chain(4, {3}), options);  // Neg(dev) Abs(cpu) Neg(dev) Abs(cpu)
  EXPECT_EQ(session.plan().steps().size(), 8u);            // 4 nodes + 4 transfers
  auto outputs = session.run({{"x", Tensor::from_vector<float>({3}, {-1, 0, 2})}});
  auto y = outputs[0].value.tensor().values<float>();
  EXPECT_EQ(std::vector<float>(y.begin(), y.end()), (std::vector<float>{1, 0, 2}));
  EXPECT_EQ(device->device_.copies_from_host(), 2);  // x (fed on the host) and v1
  EXPECT_EQ(device->device_.copies_to_host(), 2);    // v0 and v2
}

}  // namespace
}  // namespace onyx

namespace onyx {
namespace {

TEST(CachingAllocator, ReusesFreedBlocksOfTheSameSizeClass) {
  CachingAllocator pool(cpu_allocator());
  void* first;
  {
    Tensor a(DataType::kFloat, {1000}, pool);
    first = a.mutable_raw_data();
  }
  EXPECT_EQ(pool.cached_bytes(), 4096u);
  Tensor b(DataType::kFloat, {900}, pool);  // 3600 bytes: same 4 KiB class
  EXPECT_EQ(b.mutable_raw_data(), first);
  EXPECT_EQ(pool.cached_bytes(), 0u);
}

TEST(CachingAllocator, SizeClassesWasteLittleAndBlocksOutliveThePool) {
  EXPECT_EQ(CachingAllocator::size_class(1), 256u);
  EXPECT_EQ(CachingAllocator::size_class(5000), 8192u);
  size_t big = (size_t{3} << 20) + 1;
  EXPECT_LE(CachingAllocator::size_class(big), big + big / 8);
  Tensor survivor;
  {
    CachingAllocator pool(cpu_allocator());
    survivor = Tensor(DataType::kInt64, {16}, pool);
  }
  survivor.mutable_data<int64_t>()[15] = 7;  // still valid: the block holds the pool alive
  EXPECT_EQ(survivor.data<int64_t>()[15], 7);
}

// The CPU provider, counting what its allocator hands out.
class CountingCpuProvider final : public ExecutionProvider {
 public:
  class CountingAllocator final : public Allocator {
   public:
    void* allocate(size_t bytes) override {
      ++allocations;
      return cpu_allocator()->allocate(bytes);
    }
    void deallocate(void* pointer) override { cpu_allocator()->deallocate(pointer); }
    Device device() const override { return {}; }
    int allocations = 0;
  };
  std::string name() const override { return kCpuProvider; }
  Device device() const override { return {}; }
  std::shared_ptr<Allocator> allocator() override { return counting_; }
  Tensor to_host(const Tensor& tensor, DeviceRunState*) override { return tensor; }
  Tensor from_host(const Tensor& tensor, DeviceRunState*) override { return tensor; }
  std::shared_ptr<CountingAllocator> counting_ = std::make_shared<CountingAllocator>();
  CountingAllocator& counting = *counting_;
};

TEST(InferenceSession, DynamicShapesReachASteadyStateWithoutNewAllocations) {
  auto provider = std::make_shared<CountingCpuProvider>();
  SessionOptions options;
  options.providers = {provider};
  InferenceSession session(neg_abs_chain(4, {-1, 64}), options);
  std::vector<int> allocations;
  for (int run = 0; run < 4; ++run) {
    auto outputs = session.run({{"x", Tensor::from_vector<float>({2, 64}, std::vector<float>(128, -3.0f))}});
    EXPECT_EQ(outputs[0].value.tensor().values<float>()[127], 3.0f);
    allocations.push_back(provider->counting.allocations);
  }
  EXPECT_GT(allocations[0], 0);
  EXPECT_EQ(allocations[1], allocations[3]) << "runs after the first should allocate nothing new";
}

}  // namespace
}  // namespace onyx

namespace onyx {
namespace {

TEST(InferenceSession, ViewsOfArenaValuesSurviveTheReuseOfTheirBytes) {
  // Reshape returns a view of t; t's arena bytes are free again once Reshape ran, and the
  // next values may take them. The plan must have given the view its own copy.
  Model model = make_model({make_node("Neg", {"x"}, {"t"}),
                            make_node("Reshape", {"t", "shape"}, {"r"}),
                            make_node("Neg", {"r"}, {"u"}),
                            make_node("Abs", {"u"}, {"w"}),
                            make_node("Add", {"w", "r"}, {"y"})},
                           {tensor_value("x", DataType::kFloat, {2, 3})}, {tensor_value("y", DataType::kFloat, {3, 2})});
  model.graph.set_initializer("shape", Tensor::from_vector<int64_t>({2}, {3, 2}));
  InferenceSession session(std::move(model));
  auto outputs = session.run({{"x", Tensor::from_vector<float>({2, 3}, {1, -2, 3, -4, 5, -6})}});
  auto y = outputs[0].value.tensor().values<float>();
  // r = -x; w = |x|; y = |x| - x
  EXPECT_EQ(std::vector<float>(y.begin(), y.end()), (std::vector<float>{0, 4, 0, 8, 0, 12}));
}

}  // namespace
}  // namespace onyx
