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
  return onyx::testing::scratch_folder("onyx_checkpoint_test_") / name;
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
  bool has_version = false, has_header = false;
  for (const auto& entry : proto.metadata_props()) {
    if (entry.key() == "onyx.checkpoint.format") has_version = entry.value() == std::to_string(kCheckpointFormatVersion);
    has_header = has_header || entry.key() == "onyx.checkpoint.header";  // the checksummed header is one entry
  }
  EXPECT_TRUE(has_version);
  EXPECT_TRUE(has_header);
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
  EXPECT_NE(error_message([&] { load_checkpoint(garbage); }).find("garbage.onnx is damaged: it does not start with"),
            std::string::npos);
  const auto empty = temporary_path("empty.onnx");
  std::ofstream{empty};
  EXPECT_NE(error_message([&] { load_checkpoint(empty); }).find("is damaged: the file is empty"), std::string::npos);
}

// The bytes of a good checkpoint file, and a helper that writes a variant and loads it.
std::string good_bytes() {
  const auto path = temporary_path("good.onnx");
  save_checkpoint(sample(), path);
  return read_file_bytes(path);
}

std::string load_error(const std::string& bytes, const std::string& name) {
  const auto path = temporary_path(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    load_checkpoint(path);
  } catch (const CheckpointDamaged& damaged) {
    return damaged.what();
  } catch (const std::exception& other) {
    return std::string("not CheckpointDamaged: ") + other.what();
  }
  return "loaded";
}

TEST(Checkpoint, TruncatedAtAnyOffsetIsDamaged) {
  const std::string bytes = good_bytes();
  const size_t header = checkpoint_header_size();
  for (size_t size : {size_t{1}, size_t{2}, header / 2, header - 1, header, header + 1, bytes.size() / 2,
                      bytes.size() - 1}) {
    const std::string message = load_error(bytes.substr(0, size), "cut.onnx");
    EXPECT_EQ(message.rfind("checkpoint ", 0), 0u) << size << ": " << message;
    EXPECT_NE(message.find("cut.onnx is damaged: "), std::string::npos) << size << ": " << message;
    EXPECT_NE(message.find("truncated"), std::string::npos) << size << ": " << message;
  }
}

TEST(Checkpoint, OneFlippedByteAnywhereIsDamaged) {
  const std::string bytes = good_bytes();
  const size_t header = checkpoint_header_size();
  // Every byte of the header (magic, version, length, checksum) and a spread over the payload.
  std::vector<size_t> offsets;
  for (size_t i = 0; i < header; ++i) offsets.push_back(i);
  for (size_t i = header; i < bytes.size(); i += 7) offsets.push_back(i);
  offsets.push_back(bytes.size() - 1);
  for (size_t offset : offsets) {
    for (unsigned char mask : {0x01, 0x80}) {
      std::string flipped = bytes;
      flipped[offset] = static_cast<char>(flipped[offset] ^ mask);
      const std::string message = load_error(flipped, "flipped.onnx");
      EXPECT_NE(message.find("flipped.onnx is damaged: "), std::string::npos) << offset << ": " << message;
    }
  }
  EXPECT_NE(load_error(bytes.substr(0, header) + bytes.substr(header + 1) + "x", "swap.onnx").find("checksum mismatch"),
            std::string::npos);
  EXPECT_NE(load_error(bytes + "x", "longer.onnx").find("promises"), std::string::npos);
}

TEST(Checkpoint, WrongMagicOrVersionIsRefused) {
  const std::string bytes = good_bytes();
  std::string magic = bytes;
  const size_t at = magic.find("ONYXCKPT");
  ASSERT_NE(at, std::string::npos);
  magic[at + 7] = 'X';
  EXPECT_NE(load_error(magic, "magic.onnx")
                .find("magic.onnx is damaged: it does not start with the onyx checkpoint header"),
            std::string::npos);
  // A newer version with a valid checksum: a file this onyx cannot read, not damage.
  const std::string payload = bytes.substr(checkpoint_header_size());
  for (int64_t version : {3, 0}) {
    const std::string message = load_error(wrap_checkpoint_payload(payload, version), "version.onnx");
    EXPECT_NE(message.find("has format version " + std::to_string(version) + "; this onyx reads versions 1 to 2"),
              std::string::npos)
        << message;
  }
}

TEST(Checkpoint, FormatOneFilesWithoutAHeaderStillLoad) {
  // Format 1 was the payload alone; its format entry said 1.
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(good_bytes().substr(checkpoint_header_size())));
  for (auto& entry : *proto.mutable_metadata_props()) {
    if (entry.key() == "onyx.checkpoint.format") entry.set_value("1");
  }
  const auto path = temporary_path("v1.onnx");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << proto.SerializeAsString();
  EXPECT_EQ(load_checkpoint(path).step, 12345);
}

TEST(Checkpoint, ResumeFallsBackPastDamagedCheckpointsOnly) {
  const auto dir = temporary_path("resume");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (int64_t step : {10, 20, 30}) {
    Checkpoint checkpoint = sample();
    checkpoint.step = step;
    save_checkpoint(checkpoint, checkpoint_path(dir, step));
  }
  std::filesystem::resize_file(checkpoint_path(dir, 30), 100);
  int64_t loaded_step = 0;
  auto load = [&](const std::filesystem::path& path) { loaded_step = load_checkpoint(path).step; };
  auto resumed = load_newest_intact_checkpoint(dir, load);
  ASSERT_TRUE(resumed.has_value());
  EXPECT_EQ(resumed->path, checkpoint_path(dir, 20));
  EXPECT_EQ(loaded_step, 20);
  ASSERT_EQ(resumed->skipped.size(), 1u);
  EXPECT_NE(resumed->skipped[0].find("checkpoint-30.onnx is damaged"), std::string::npos);

  // Another error (a checkpoint of another model) is not skipped.
  auto refuse = [](const std::filesystem::path&) { throw Error(ErrorCode::kInvalidArgument, "wrong model"); };
  EXPECT_EQ(error_message([&] { load_newest_intact_checkpoint(dir, refuse); }), "wrong model");

  for (int64_t step : {10, 20}) std::filesystem::resize_file(checkpoint_path(dir, step), 50);
  const std::string all = error_message([&] { load_newest_intact_checkpoint(dir, load); });
  EXPECT_NE(all.find("checkpoint-30.onnx is damaged"), std::string::npos) << all;
  EXPECT_NE(all.find("the 2 older checkpoints in"), std::string::npos) << all;
  EXPECT_FALSE(load_newest_intact_checkpoint(temporary_path("no-such-folder"), load).has_value());
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
  EXPECT_EQ(checkpoints_newest_first(dir),
            (std::vector<std::filesystem::path>{checkpoint_path(dir, 100), checkpoint_path(dir, 10),
                                                checkpoint_path(dir, 9)}));
  prune_checkpoints(dir, 2);
  EXPECT_FALSE(std::filesystem::exists(checkpoint_path(dir, 9)));
  EXPECT_TRUE(std::filesystem::exists(checkpoint_path(dir, 10)));
  EXPECT_TRUE(std::filesystem::exists(dir / "notes.txt"));
  // A write killed before its rename leaves its temporary; pruning (after a write of our own) removes it.
  EXPECT_FALSE(std::filesystem::exists(dir / "checkpoint-999.onnx.tmp123"));
}

}  // namespace
}  // namespace onyx::training
