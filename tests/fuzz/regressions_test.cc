// Replays every stored fuzzer reproducer (tests/fuzz/regressions/<target>/*) through the same
// entry function the fuzz target runs: each must end in success or a clean onyx::Error. None is
// skipped: a reproducer lands with its fix.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tests/fuzz/fuzz_entries.h"

namespace onyx::fuzz {
namespace {

const std::filesystem::path kRegressionDir = std::filesystem::path(ONYX_SOURCE_DIR) / "tests/fuzz/regressions";

TEST(FuzzRegressions, EveryStoredReproducerEndsInSuccessOrAnOnyxError) {
  int replayed = 0;
  for (const FuzzTarget& target : fuzz_targets()) {
    const auto dir = kRegressionDir / target.name;
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      SCOPED_TRACE(entry.path().string());
      EXPECT_NO_THROW(target.entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0) << "no reproducer found under " << kRegressionDir;
  RecordProperty("replayed", replayed);
}

TEST(FuzzRegressions, EveryTargetHandlesEmptyAndTinyInputs) {
  const uint8_t bytes[] = {0, 1, 2, 3, 4, 0xff};
  for (const FuzzTarget& target : fuzz_targets()) {
    SCOPED_TRACE(target.name);
    for (size_t size = 0; size <= sizeof(bytes); ++size) EXPECT_NO_THROW(target.entry(bytes, size));
  }
}

}  // namespace
}  // namespace onyx::fuzz
