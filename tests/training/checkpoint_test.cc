// The checkpoint file: everything round-trips exactly, and bad files fail with one clear error.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <fstream>

#include "onnx/onnx-ml.pb.h"
#include "runtime/ir/model_loader.h"
#include "tests/training/training_test_util.h"
#include "training/checkpoint.h"

namespace onyx::training {
namespace {

using onyx::testing::error_message;

std::filesystem::path temporary_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("onyx_checkpoint_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

Checkpoint sample() {
  Checkpoint checkpoint;
  checkpoint.parameters["fc.weight"] = Tensor::from_vector<float>({2, 2}, {0.1f, -2.5f, 3e-8f, 7.0f});
  checkpoint.parameters["fc.bias"] = Tensor::from_vector<double>({1}, {1.0 / 3.0});
  checkpoint.optimizer_state["exp_avg/fc.weight"] = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  checkpoint.step = 12345;
  checkpoint.hyperparameters["lr/group0"] = 0.1;  // not exact in binary: must still round-trip
  checkpoint.hyperparameters["beta2/group1"] = 0.999;
  checkpoint.rng_state = "5489 123 456";
  checkpoint.metadata["optimizer"] = "adam";
  return checkpoint;
}

TEST(Checkpoint, RoundTripsEveryFieldExactly) {
  const auto path = temporary_path("a.onnx");
  save_checkpoint(sample(), path);
  Checkpoint loaded = load_checkpoint(path);
  const Checkpoint expected = sample();
  ASSERT_EQ(loaded.parameters.size(), 2u);
  for (const auto& [name, tensor] : expected.parameters) {
    const Tensor& got = loaded.parameters.at(name);
    ASSERT_EQ(got.dtype(), tensor.dtype());
    ASSERT_EQ(got.shape(), tensor.shape());
    EXPECT_EQ(std::memcmp(got.raw_data(), tensor.raw_data(), tensor.byte_size()), 0) << name;
  }
  EXPECT_EQ(std::memcmp(loaded.optimizer_state.at("exp_avg/fc.weight").raw_data(),
                        expected.optimizer_state.at("exp_avg/fc.weight").raw_data(), 16),
            0);
  EXPECT_EQ(loaded.step, 12345);
  EXPECT_EQ(loaded.hyperparameters, expected.hyperparameters);  // bit-exact doubles
  EXPECT_EQ(loaded.rng_state, expected.rng_state);
  EXPECT_EQ(loaded.metadata, expected.metadata);
}

TEST(Checkpoint, IsAnOnnxModelProtoWithAFormatVersion) {
  const auto path = temporary_path("b.onnx");
  save_checkpoint(sample(), path);
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(read_file_bytes(path)));
  EXPECT_EQ(proto.graph().initializer_size(), 3);
  bool has_version = false;
  for (const auto& entry : proto.metadata_props()) {
    if (entry.key() == "onyx.checkpoint.format") has_version = entry.value() == std::to_string(kCheckpointFormatVersion);
  }
  EXPECT_TRUE(has_version);
}

TEST(Checkpoint, OverwritingLeavesNoTemporaryFiles) {
  const auto path = temporary_path("c.onnx");
  save_checkpoint(sample(), path);
  Checkpoint second = sample();
  second.step = 7;
  save_checkpoint(second, path);
  EXPECT_EQ(load_checkpoint(path).step, 7);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path())) {
    files += entry.path().filename().string().rfind("c.onnx", 0) == 0;
  }
  EXPECT_EQ(files, 1u);
}

TEST(Checkpoint, BadFilesGiveClearErrors) {
  EXPECT_NE(error_message([] { load_checkpoint(temporary_path("missing.onnx")); }).find("missing.onnx"),
            std::string::npos);
  const auto garbage = temporary_path("garbage.onnx");
  std::ofstream(garbage) << "not a protobuf at all";
  EXPECT_NE(error_message([&] { load_checkpoint(garbage); }).find("is not an onyx checkpoint"), std::string::npos);

  onnx::ModelProto future;
  future.set_producer_name("onyx-checkpoint");
  auto* version = future.add_metadata_props();
  version->set_key("onyx.checkpoint.format");
  version->set_value("99");
  const auto newer = temporary_path("newer.onnx");
  std::ofstream(newer, std::ios::binary) << future.SerializeAsString();
  EXPECT_NE(error_message([&] { load_checkpoint(newer); }).find("format version 99"), std::string::npos);
}

TEST(Checkpoint, FolderHelpersFindTheLatestByStepAndPrune) {
  const auto dir = temporary_path("folder");
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(latest_checkpoint(dir).has_value());  // no folder yet
  std::filesystem::create_directories(dir);
  for (int64_t step : {9, 10, 100}) save_checkpoint(sample(), checkpoint_path(dir, step));
  std::ofstream(dir / "checkpoint-999.onnx.tmp123") << "half written";  // never a candidate
  std::ofstream(dir / "notes.txt") << "kept";
  EXPECT_EQ(latest_checkpoint(dir), checkpoint_path(dir, 100));  // 100 > 10 > 9 numerically
  prune_checkpoints(dir, 2);
  EXPECT_FALSE(std::filesystem::exists(checkpoint_path(dir, 9)));
  EXPECT_TRUE(std::filesystem::exists(checkpoint_path(dir, 10)));
  EXPECT_TRUE(std::filesystem::exists(dir / "notes.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "checkpoint-999.onnx.tmp123"));
}

}  // namespace
}  // namespace onyx::training
