// training/data/archives: zip (.npz) and gzip reading with untrusted headers. The archives are
// built byte by byte here (the zip format's records: APPNOTE.TXT 4.3), so each can lie in one
// field: a claimed size, an offset, a zip64 value. Each lie ends in an onyx::Error naming what
// is wrong, never a crash or an allocation of the claimed size.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <zlib.h>

#include <fstream>

#include "tests/training/training_test_util.h"
#include "training/data/archives.h"

namespace onyx::training::data {
namespace {

using onyx::testing::error_message;
using ::testing::HasSubstr;

void put(std::string& bytes, uint64_t value, int width) {
  for (int i = 0; i < width; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

std::string raw_deflate(const std::string& data) {
  z_stream stream{};
  deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// One entry; every header field can be overridden to lie. With zip64, the central directory
// stores 0xFFFFFFFF for both sizes and the offset, the real values in its zip64 extra field.
struct ZipEntry {
  std::string name = "x.npy";
  std::string content = std::string(5000, 'a') + "onyx";
  bool deflated = true;
  bool zip64 = false;
  std::optional<uint64_t> claimed_uncompressed, claimed_compressed, claimed_local_offset;
};

std::string zip_archive(const ZipEntry& entry) {
  const std::string stored = entry.deflated ? raw_deflate(entry.content) : entry.content;
  const uint32_t crc = static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(entry.content.data()),
                                                     entry.content.size()));
  const uint64_t uncompressed = entry.claimed_uncompressed.value_or(entry.content.size());
  const uint64_t compressed = entry.claimed_compressed.value_or(stored.size());
  const uint64_t local_offset = entry.claimed_local_offset.value_or(0);
  std::string bytes;
  put(bytes, 0x04034b50, 4);  // local file header
  put(bytes, 20, 2), put(bytes, 0, 2), put(bytes, entry.deflated ? 8 : 0, 2), put(bytes, 0, 4);
  put(bytes, crc, 4), put(bytes, stored.size(), 4), put(bytes, entry.content.size(), 4);
  put(bytes, entry.name.size(), 2), put(bytes, 0, 2);
  bytes += entry.name + stored;
  const uint64_t directory = bytes.size();
  put(bytes, 0x02014b50, 4);  // central directory header
  put(bytes, 45, 2), put(bytes, 45, 2), put(bytes, 0, 2), put(bytes, entry.deflated ? 8 : 0, 2), put(bytes, 0, 4);
  put(bytes, crc, 4);
  put(bytes, entry.zip64 ? 0xFFFFFFFF : compressed, 4), put(bytes, entry.zip64 ? 0xFFFFFFFF : uncompressed, 4);
  put(bytes, entry.name.size(), 2), put(bytes, entry.zip64 ? 28 : 0, 2), put(bytes, 0, 2);
  put(bytes, 0, 2), put(bytes, 0, 2), put(bytes, 0, 4);
  put(bytes, entry.zip64 ? 0xFFFFFFFF : local_offset, 4);
  bytes += entry.name;
  if (entry.zip64) {
    put(bytes, 1, 2), put(bytes, 24, 2);  // the zip64 extended information field
    put(bytes, uncompressed, 8), put(bytes, compressed, 8), put(bytes, local_offset, 8);
  }
  const uint64_t directory_size = bytes.size() - directory;
  put(bytes, 0x06054b50, 4);  // end of central directory
  put(bytes, 0, 2), put(bytes, 0, 2), put(bytes, 1, 2), put(bytes, 1, 2);
  put(bytes, directory_size, 4), put(bytes, directory, 4), put(bytes, 0, 2);
  return bytes;
}

class Archives : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() / ("onyx_archives_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder_);
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }
  std::filesystem::path write(const std::string& bytes) {
    const auto path = folder_ / "data.npz";
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string read_error(const ZipEntry& entry) {
    return error_message([&] { read_zip_archive(write(zip_archive(entry))); });
  }
  std::filesystem::path folder_;
};

TEST_F(Archives, StoredDeflatedAndZip64EntriesRead) {
  for (bool deflated : {false, true}) {
    for (bool zip64 : {false, true}) {
      ZipEntry entry;
      entry.deflated = deflated;
      entry.zip64 = zip64;
      const auto files = read_zip_archive(write(zip_archive(entry)));
      ASSERT_EQ(files.size(), 1u);
      EXPECT_EQ(files.at("x.npy"), entry.content) << "deflated " << deflated << " zip64 " << zip64;
    }
  }
}

// zlib counts in 32 bits: entries of 4 GiB and more are inflated in pieces. Pieces of 7 bytes
// take the same path on a small entry.
TEST_F(Archives, InflatingInSmallPiecesGivesTheWholeContent) {
  std::string content;
  for (int i = 0; i < 20000; ++i) content += std::to_string(i * 7919 % 10007) + ",";
  const std::string deflated = raw_deflate(content);
  EXPECT_EQ(inflate_data(deflated, -MAX_WBITS, content.size(), "test", 7), content);
  EXPECT_EQ(inflate_data(deflated, -MAX_WBITS, std::nullopt, "test", 7), content);
  EXPECT_THAT(error_message([&] { inflate_data(deflated.substr(0, deflated.size() / 2), -MAX_WBITS,
                                               std::nullopt, "test", 7); }),
              HasSubstr("test: compressed data is truncated"));
  EXPECT_THAT(error_message([&] { inflate_data(deflated, -MAX_WBITS, content.size() - 1, "test", 7); }),
              HasSubstr("inflates to more than the " + std::to_string(content.size() - 1) + " bytes its header says"));
}

// A header claiming 5 GiB for a 5 KB entry: refused by what actually inflates, without first
// allocating the claim.
TEST_F(Archives, AClaimedSizeOver4GiBThatIsNotThereIsRefused) {
  ZipEntry entry;
  entry.zip64 = true;
  entry.claimed_uncompressed = uint64_t{5} << 30;
  EXPECT_THAT(read_error(entry), HasSubstr("zip entry 'x.npy' has 5004 bytes, its header says 5368709120"));
  entry.deflated = false;
  EXPECT_THAT(read_error(entry), HasSubstr("stored zip entry 'x.npy' has 5004 bytes, its header says 5368709120"));
}

TEST_F(Archives, SizesAndOffsetsPastTheFileAreRefusedWithoutOverflowing) {
  ZipEntry entry;
  entry.zip64 = true;
  entry.claimed_compressed = ~uint64_t{0} - 10;  // data + compressed wraps past 2^64
  EXPECT_THAT(read_error(entry), HasSubstr("truncated zip entry 'x.npy'"));
  entry.claimed_compressed.reset();
  entry.claimed_local_offset = ~uint64_t{0} - 2;
  EXPECT_THAT(read_error(entry), HasSubstr("truncated zip archive"));
  entry.zip64 = false;
  entry.claimed_local_offset = 0xFFFFFFF0;
  EXPECT_THAT(read_error(entry), HasSubstr("truncated zip archive"));
}

TEST_F(Archives, AFlippedContentByteFailsTheCrc) {
  ZipEntry entry;
  entry.deflated = false;
  std::string bytes = zip_archive(entry);
  bytes[30 + entry.name.size() + 10] ^= 1;  // inside the stored content
  EXPECT_THAT(error_message([&] { read_zip_archive(write(bytes)); }),
              HasSubstr("zip entry 'x.npy' is corrupt (CRC mismatch)"));
}

TEST_F(Archives, ADirectoryClaimingMoreEntriesThanFitIsRefused) {
  std::string bytes = zip_archive(ZipEntry{});
  const size_t end = bytes.size() - 22;
  bytes[end + 8] = bytes[end + 10] = static_cast<char>(0xFE);  // 0xFFFE entries
  bytes[end + 9] = bytes[end + 11] = static_cast<char>(0xFF);
  EXPECT_THAT(error_message([&] { read_zip_archive(write(bytes)); }), HasSubstr("claims 65534 entries"));
}

}  // namespace
}  // namespace onyx::training::data
