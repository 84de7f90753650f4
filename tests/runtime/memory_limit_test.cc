// SessionOptions::memory_limit from C++: checked at session creation for outputs whose size the
// shape rules know, and when a kernel allocates an output whose size only the run decides.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "runtime/session/inference_session.h"
#include "tests/runtime/model_building.h"

namespace onyx {
namespace {

using testing::make_model;
using testing::make_node;
using testing::tensor_value;

constexpr size_t kOneMiB = size_t{1} << 20;

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(MemoryLimit, RuntimeSizedOutputsAreCheckedBeforeAllocating) {
  Model model = make_model({make_node("ConstantOfShape", {"shape"}, {"Y"}, {}, "fill")},
                           {tensor_value("shape", DataType::kInt64, {2})}, {tensor_value("Y", DataType::kFloat, {-1, -1})});
  SessionOptions options;
  options.memory_limit = kOneMiB;
  InferenceSession session(model, options);
  EXPECT_EQ(session.memory_limit(), kOneMiB);
  auto run_with = [&](std::vector<int64_t> dims) {
    Tensor shape(DataType::kInt64, {2});
    shape.mutable_data<int64_t>()[0] = dims[0];
    shape.mutable_data<int64_t>()[1] = dims[1];
    return session.run({{"shape", Value(shape)}});
  };
  EXPECT_EQ(run_with({512, 512})[0].value.tensor().element_count(), 512 * 512);  // exactly 1 MiB
  EXPECT_EQ(error_of([&] { run_with({512, 513}); }),
            "node 'fill' (ConstantOfShape): output 0 needs 1050624 bytes, over the limit of 1048576 bytes "
            "(the session's memory limit, --memory-limit)");
}

TEST(MemoryLimit, StaticallyKnownOutputsFailAtSessionCreation) {
  Model model = make_model({make_node("Tile", {"X", "repeats"}, {"Y"}, {}, "tile")},
                           {tensor_value("X", DataType::kFloat, {4, 4})}, {tensor_value("Y", DataType::kFloat, {-1, -1})});
  Tensor repeats(DataType::kInt64, {2});
  repeats.mutable_data<int64_t>()[0] = 1 << 20;
  repeats.mutable_data<int64_t>()[1] = 1;
  model.graph.set_initializer("repeats", repeats);
  SessionOptions options;
  options.memory_limit = kOneMiB;
  std::string message = error_of([&] { InferenceSession session(model, options); });
  EXPECT_NE(message.find("node 'tile' (Tile): output 0 needs 67108864 bytes, over the limit of 1048576"),
            std::string::npos)
      << message;
}

TEST(MemoryLimit, TheDefaultIsTheMachinesMemory) {
  Model model = make_model({make_node("Relu", {"X"}, {"Y"})}, {tensor_value("X", DataType::kFloat, {2})},
                           {tensor_value("Y", DataType::kFloat, {2})});
  InferenceSession session(model, SessionOptions{});
  EXPECT_EQ(session.memory_limit(), default_memory_limit());
  EXPECT_EQ(default_memory_limit(), physical_memory_bytes());
}

}  // namespace
}  // namespace onyx
