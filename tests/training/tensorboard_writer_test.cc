// The TensorBoard event writer's framing, checked from the TFRecord spec: the CRC-32C check
// value, the length and data CRCs of each record, and the first event's file_version. (The
// Python test reads whole files with TensorBoard's own reader.)
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "runtime/common/error.h"
#include "training/tensorboard_writer.h"

namespace onyx::training {
namespace {

uint32_t masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

uint64_t little_endian(const std::string& bytes, size_t at, int count) {
  uint64_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = value << 8 | static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)]);
  return value;
}

TEST(TensorBoardWriter, Crc32cCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the standard check value of CRC-32C
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(TensorBoardWriter, RecordsAreFramedWithMaskedCrcs) {
  const auto folder = std::filesystem::temp_directory_path() / ("onyx_tb_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(folder);
  std::filesystem::path path;
  {
    TensorBoardWriter writer(folder / "nested");
    writer.write_scalars({{"loss", 0.25}, {"lr", 0.001}}, 7);
    path = writer.path();
  }
  EXPECT_EQ(path.filename().string().rfind("events.out.tfevents.", 0), 0u);
  std::ifstream file(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t at = 0;
  std::vector<std::string> records;
  while (at < bytes.size()) {
    ASSERT_LE(at + 12, bytes.size());
    const uint64_t length = little_endian(bytes, at, 8);
    EXPECT_EQ(little_endian(bytes, at + 8, 4), masked(crc32c(std::string_view(bytes).substr(at, 8))));
    ASSERT_LE(at + 12 + length + 4, bytes.size());
    const std::string data = bytes.substr(at + 12, length);
    EXPECT_EQ(little_endian(bytes, at + 12 + length, 4), masked(crc32c(data)));
    records.push_back(data);
    at += 12 + length + 4;
  }
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].find("brain.Event:2"), std::string::npos);
  EXPECT_NE(records[1].find("loss"), std::string::npos);
  float quarter = 0.25f;
  std::string quarter_bytes(reinterpret_cast<const char*>(&quarter), 4);
  EXPECT_NE(records[1].find(quarter_bytes), std::string::npos);
  std::filesystem::remove_all(folder);
}

TEST(TensorBoardWriter, AFolderThatCannotBeMadeFailsWithItsName) {
  const auto file = std::filesystem::temp_directory_path() / ("onyx_tb_file_" + std::to_string(::getpid()));
  std::ofstream(file) << "x";
  try {
    TensorBoardWriter writer(file / "logs");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("cannot create the TensorBoard folder"), std::string::npos) << error.what();
  }
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace onyx::training
