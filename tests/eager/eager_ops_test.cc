// Eager op calls: values checked against NumPy / onnxruntime results computed offline, named
// attributes, multi-output and variadic ops, broadcasting operators, ops called by name, custom
// ops found through the kernel registry, and the generated wrappers covering every kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "providers/kernel_registry.h"
#include "runtime/eager/eager.h"
#include "tests/eager/eager_test_util.h"

namespace onyx {
namespace {

using test::expect_floats_near;

TEST(EagerOps, BroadcastingOperatorsMatchNumpy) {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<float>({3}, {10, 20, 30});
  Tensor sum = a + b;
  EXPECT_EQ(sum.shape(), (Shape{2, 3}));
  expect_floats_near(sum, {11, 22, 33, 14, 25, 36});
  // numpy: a * b - a / b
  expect_floats_near(a * b - a / b, {9.9f, 39.9f, 89.9f, 39.6f, 99.75f, 179.8f}, 1e-4f);
  expect_floats_near(-a + 1.0, {0, -1, -2, -3, -4, -5});
  expect_floats_near(2.0 * a, {2, 4, 6, 8, 10, 12});
  Tensor less = a < 3.5;
  ASSERT_EQ(less.dtype(), DataType::kBool);
  EXPECT_EQ(to_vector<bool>(less), (std::vector<bool>{true, true, true, false, false, false}));
}

TEST(EagerOps, NumberOperandTakesTheTensorsElementType) {
  Tensor counts = Tensor::from_vector<int64_t>({3}, {1, 2, 3});
  Tensor shifted = counts + 2.0;
  ASSERT_EQ(shifted.dtype(), DataType::kInt64);
  EXPECT_EQ(to_vector<int64_t>(shifted), (std::vector<int64_t>{3, 4, 5}));
}

TEST(EagerOps, ConvWithNamedAttributesMatchesOnnxruntime) {
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<size_t>(i)] = static_cast<float>(i);
  Tensor input = Tensor::from_vector<float>({1, 1, 4, 4}, x);
  Tensor weight = ones(DataType::kFloat, {1, 1, 2, 2});
  Tensor y = ops::conv(input, weight, {.strides = {2, 2}});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  expect_floats_near(y, {10, 18, 42, 50});  // onnxruntime 1.32, same inputs
  Tensor bias = Tensor::from_vector<float>({1}, {1});
  expect_floats_near(ops::conv(input, weight, bias, {.strides = {2, 2}}), {11, 19, 43, 51});
}

TEST(EagerOps, SoftmaxAndTopKMatchNumpy) {
  Tensor logits = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 1, 1, 1});
  expect_floats_near(ops::softmax(logits, {.axis = 1}),
                     {0.09003057f, 0.24472846f, 0.66524094f, 1 / 3.f, 1 / 3.f, 1 / 3.f});
  Tensor values = Tensor::from_vector<float>({8}, {3, 1, 4, 1, 5, 9, 2, 6});
  std::vector<Tensor> top = ops::top_k(values, Tensor::from_vector<int64_t>({1}, {3}));
  ASSERT_EQ(top.size(), 2u);
  expect_floats_near(top[0], {9, 6, 5});
  EXPECT_EQ(to_vector<int64_t>(top[1]), (std::vector<int64_t>{5, 7, 4}));
}

TEST(EagerOps, VariadicInputsAndCasts) {
  Tensor a = Tensor::from_vector<float>({1, 2}, {1, 2});
  Tensor b = Tensor::from_vector<float>({1, 2}, {3, 4});
  Tensor joined = ops::concat({a, b}, {.axis = 0});
  EXPECT_EQ(joined.shape(), (Shape{2, 2}));
  expect_floats_near(joined, {1, 2, 3, 4});
  Tensor as_int = ops::cast(joined, {.to = DataType::kInt32});
  EXPECT_EQ(to_vector<int32_t>(as_int), (std::vector<int32_t>{1, 2, 3, 4}));
  expect_floats_near(ops::sum({a, b, a}), {5, 8});
}

TEST(EagerOps, OpsByNameAndPlainBuffers) {
  float data[4] = {1, -2, 3, -4};
  Tensor x = from_buffer(DataType::kFloat, {2, 2}, data, sizeof(data));
  Tensor y = ops::call("", "Relu", {x});
  float out[4];
  copy_to_buffer(y, out, sizeof(out));
  EXPECT_EQ(std::vector<float>(out, out + 4), (std::vector<float>{1, 0, 3, 0}));
  EXPECT_THROW(copy_to_buffer(y, out, 8), Error);
  EXPECT_THROW(from_buffer(DataType::kFloat, {3}, data, sizeof(data)), Error);
}

TEST(EagerOps, BadCallsGiveOneClearError) {
  Tensor a = Tensor::from_vector<float>({2}, {1, 2});
  Tensor b = Tensor::from_vector<float>({3}, {1, 2, 3});
  try {
    (void)(a + b);
    FAIL() << "shapes [2] and [3] do not broadcast";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("Add"), std::string::npos) << error.what();
  }
  try {
    (void)ops::call("", "NoSuchOp", {a});
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kNotImplemented);
    EXPECT_NE(std::string(error.what()).find("NoSuchOp"), std::string::npos);
  }
  EXPECT_THROW(to_device(a, Device{DeviceType::kCuda, 0}), Error);
}

// A custom op, registered as a custom-op library would: y = alpha * x.
class ScaleKernel final : public Kernel {
 public:
  explicit ScaleKernel(const KernelInfo& info) : alpha_(info.attributes().get_float("alpha", 1.0f)) {}
  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    Tensor& y = context.output(0, DataType::kFloat, x.shape());
    for (int64_t i = 0; i < x.element_count(); ++i) y.mutable_data<float>()[i] = alpha_ * x.data<float>()[i];
  }

 private:
  float alpha_;
};
ONYX_REGISTER_KERNEL("CPU", "test.eager", "Scale", 1, kOpsetOpenEnded, ScaleKernel);

TEST(EagerOps, CustomOpsAreCallableByDomainAndName) {
  Tensor x = Tensor::from_vector<float>({3}, {1, 2, 3});
  Tensor y = ops::call("test.eager", "Scale", {x}, {make_attribute("alpha", 0.5f)});
  expect_floats_near(y, {0.5f, 1.0f, 1.5f});
}

TEST(EagerOps, EveryKernelHasAWrapperOrIsLeftToCallValues) {
  std::set<std::pair<std::string, std::string>> covered(ops::generated_ops().begin(), ops::generated_ops().end());
  const auto& left = ops::ops_left_to_call_values();
  for (const KernelDef* def : KernelRegistry::global().all()) {
    if (def->provider != "CPU" || def->domain.rfind("test.", 0) == 0) continue;
    int64_t opset = eager::default_opset(def->domain);
    if (opset == 0 || def->since_version > opset || def->until_version < opset) continue;
    bool known = covered.count({def->domain, def->op_type}) ||
                 std::find(left.begin(), left.end(), def->op_type) != left.end();
    EXPECT_TRUE(known) << def->op_type << " (" << def->domain
                       << ") has a kernel but no eager wrapper: run scripts/generate_eager_ops.py";
  }
  EXPECT_GT(covered.size(), 150u);
}

}  // namespace
}  // namespace onyx
