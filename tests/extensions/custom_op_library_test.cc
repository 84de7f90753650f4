// Custom-op plug-in libraries: the example library (build/libonyx_example_ops.so, C++ wrapper)
// and a plain-C library run against reference formulas; the load errors name what was looked
// for and what was found; a library stays loaded exactly as long as something uses it.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/extensions/custom_op_library.h"
#include "tests/extensions/custom_op_test_util.h"

namespace onyx {
namespace {

using namespace testing;

constexpr const char* kExample = "com.example";

SessionOptions with_library(const std::string& path) {
  SessionOptions options;
  options.intra_op_threads = 1;
  options.custom_op_libraries = {path};
  return options;
}

std::vector<float> sample(size_t n, float scale) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = scale * (static_cast<float>(i) - static_cast<float>(n) / 2);
  return values;
}

bool library_is_loaded(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle) dlclose(handle);
  return handle != nullptr;
}

TEST(CustomOpLibrary, ExampleOpsMatchTheirFormulas) {
  // X -> Swish(beta 0.5) -> WeightedSum(s, X; weights 2, -1) -> ShiftAndNorm(., shift) -> Y, Norm;
  //      HuberLoss(Y, target; delta 0.75) -> loss.
  Model model = make_model(
      {custom_node(kExample, "Swish", {"x"}, {"s"}, {make_attribute("beta", 0.5f)}),
       custom_node(kExample, "WeightedSum", {"s", "x"}, {"w"}, {make_attribute("weights", std::vector<float>{2, -1})}),
       custom_node(kExample, "ShiftAndNorm", {"w", "shift"}, {"y", "norm"}),
       custom_node(kExample, "HuberLoss", {"y", "target"}, {"loss"}, {make_attribute("delta", 0.75f)})},
      {tensor_value("x", DataType::kFloat, {2, 3}), tensor_value("shift", DataType::kFloat, {2, 3}),
       tensor_value("target", DataType::kFloat, {2, 3})},
      {{"y", {}, ""}, {"norm", {}, ""}, {"loss", {}, ""}});
  model.opsets[kExample] = 1;
  InferenceSession session(model, with_library(example_library()));
  EXPECT_EQ(session.types().find("y")->to_string(), "float[2,3]");
  EXPECT_EQ(session.types().find("norm")->to_string(), "float[]");
  EXPECT_EQ(session.types().find("loss")->to_string(), "float[]");

  std::vector<float> x = sample(6, 0.9f), shift = sample(6, -0.3f), target = sample(6, 0.2f);
  auto outputs = session.run({{"x", Tensor::from_vector<float>({2, 3}, x)},
                              {"shift", Tensor::from_vector<float>({2, 3}, shift)},
                              {"target", Tensor::from_vector<float>({2, 3}, target)}});
  auto y = values_of(outputs[0].value);
  double sum_squares = 0, huber = 0;
  for (size_t i = 0; i < 6; ++i) {
    double swish = x[i] / (1 + std::exp(-0.5 * x[i]));
    double expected = 2 * swish - x[i] + shift[i];
    EXPECT_NEAR(y[i], expected, 1e-5) << i;
    sum_squares += expected * expected;
    double d = std::fabs(expected - target[i]);
    huber += d <= 0.75 ? 0.5 * d * d : 0.75 * (d - 0.375);
  }
  EXPECT_NEAR(values_of(outputs[1].value)[0], std::sqrt(sum_squares), 1e-4);
  EXPECT_NEAR(values_of(outputs[2].value)[0], huber / 6, 1e-5);
}

TEST(CustomOpLibrary, OptionalShiftAndSecondOutputMayBeLeftOut) {
  Model model = single_node_model(custom_node(kExample, "ShiftAndNorm", {"x"}, {"y"}),
                                  {tensor_value("x", DataType::kFloat, {-1, 2})}, {{"y", {}, ""}});
  InferenceSession session(model, with_library(example_library()));
  EXPECT_EQ(session.types().find("y")->to_string(), "float[N,2]");  // symbolic dims survive the C ABI
  auto y = values_of(session.run({{"x", Tensor::from_vector<float>({1, 2}, {3, 4})}})[0].value);
  EXPECT_EQ(y, (std::vector<float>{3, 4}));
}

TEST(CustomOpLibrary, KernelErrorsCarryTheLibrarysMessageAndTheNode) {
  Model model = single_node_model(custom_node(kExample, "HuberLoss", {"p", "t"}, {"loss"}, {make_attribute("delta", -1.0f)}),
                                  {tensor_value("p", DataType::kFloat, {2}), tensor_value("t", DataType::kFloat, {2})},
                                  {{"loss", {}, ""}});
  std::string message = error_of([&] { InferenceSession session(model, with_library(example_library())); });
  EXPECT_NE(message.find("delta must be positive"), std::string::npos) << message;
  EXPECT_NE(message.find("HuberLoss"), std::string::npos) << message;

  Model weighted = single_node_model(
      custom_node(kExample, "WeightedSum", {"a", "b"}, {"y"}, {make_attribute("weights", std::vector<float>{1})}),
      {tensor_value("a", DataType::kFloat, {1}), tensor_value("b", DataType::kFloat, {1})}, {{"y", {}, ""}});
  InferenceSession session(weighted, with_library(example_library()));
  message = error_of([&] {
    session.run({{"a", Tensor::from_vector<float>({1}, {1})}, {"b", Tensor::from_vector<float>({1}, {2})}});
  });
  EXPECT_NE(message.find("weights has 1 entries for 2 inputs"), std::string::npos) << message;
}

TEST(CustomOpLibrary, PlainCLibraryLoads) {
  Model model = single_node_model(custom_node("com.example.c", "AddScalar", {"x"}, {"y"}, {make_attribute("value", 2.5f)}),
                                  {tensor_value("x", DataType::kFloat, {2})}, {{"y", {}, ""}});
  InferenceSession session(model, with_library(library_path("onyx_test_c_ops")));
  EXPECT_EQ(session.types().find("y")->to_string(), "float[2]");
  EXPECT_EQ(values_of(session.run({{"x", Tensor::from_vector<float>({2}, {1, -1})}})[0].value),
            (std::vector<float>{3.5f, 1.5f}));
}

TEST(CustomOpLibrary, LoadErrorsSayWhatWasLookedForAndFound) {
  std::string missing = std::string(ONYX_BINARY_DIR) + "/libno_such_ops.so";
  std::string message = error_of([&] { load_custom_op_library(missing); });
  EXPECT_NE(message.find("custom-op library not found: looked for " + missing + " (no such file)"), std::string::npos)
      << message;

  std::string not_a_library = std::string(ONYX_SOURCE_DIR) + "/README.md";
  message = error_of([&] { load_custom_op_library(not_a_library); });
  EXPECT_NE(message.find("cannot load custom-op library"), std::string::npos) << message;

  message = error_of([&] { load_custom_op_library(library_path("onyx_test_no_entry")); });
  for (const char* part : {"has no entry symbol 'onyx_custom_op_library'", "it exports RegisterCustomOps",
                           "onnxruntime custom-op library"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << " missing from: " << message;
  }

  message = error_of([&] { load_custom_op_library(library_path("onyx_test_wrong_abi")); });
  for (const char* part : {"was built for onyx custom-op ABI version 99", "this onyx provides ABI version 1",
                           "onyx_custom_op_abi.h"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << " missing from: " << message;
  }
}

TEST(CustomOpLibrary, LoadingTwiceIntoOneRegistryIsAConflict) {
  OpRegistry registry(&OpRegistry::global());
  register_custom_op_library(registry, example_library());
  std::string message = error_of([&] { register_custom_op_library(registry, example_library()); });
  EXPECT_NE(message.find("conflicts with com.example::Swish version 1+ already registered (from " + example_library()),
            std::string::npos) << message;
}

TEST(CustomOpLibrary, StaysLoadedExactlyAsLongAsASessionUsesIt) {
  const std::string path = library_path("onyx_test_c_ops");
  ASSERT_FALSE(library_is_loaded(path));
  Model model = single_node_model(custom_node("com.example.c", "AddScalar", {"x"}, {"y"}),
                                  {tensor_value("x", DataType::kFloat, {1})}, {{"y", {}, ""}});
  {
    auto session = std::make_unique<InferenceSession>(model, with_library(path));
    auto second = std::make_unique<InferenceSession>(model, with_library(path));
    EXPECT_TRUE(library_is_loaded(path));
    session.reset();
    EXPECT_TRUE(library_is_loaded(path));  // the second session still uses it
    EXPECT_EQ(values_of(second->run({{"x", Tensor::from_vector<float>({1}, {1})}})[0].value),
              (std::vector<float>{2}));  // default value 1
  }
  EXPECT_FALSE(library_is_loaded(path));
}

}  // namespace
}  // namespace onyx
