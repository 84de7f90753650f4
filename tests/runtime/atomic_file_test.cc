// write_file_atomically: whole content or the old one, a temporary of each writer's own, no
// temporary left behind, clear errors.
#include "runtime/common/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "runtime/common/error.h"

namespace onyx {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("onyx_atomic_file_test_" + std::to_string(::getpid()));
    fs::remove_all(folder_);
    fs::create_directories(folder_);
  }
  void TearDown() override {
    fs::permissions(folder_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(folder_);
  }
  static std::string read(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    return content.str();
  }
  std::vector<std::string> names() const {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(folder_)) found.push_back(entry.path().filename());
    return found;
  }
  fs::path folder_;
};

TEST_F(AtomicFile, WritesAndReplacesKeepingTheOldPermissions) {
  const fs::path target = folder_ / "model.onnx";
  write_file_atomically(target, "first");
  EXPECT_EQ(read(target), "first");
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  write_file_atomically(target, std::string("second\0with a zero", 18));
  EXPECT_EQ(read(target), std::string("second\0with a zero", 18));
  EXPECT_EQ(fs::status(target).permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(names(), std::vector<std::string>{"model.onnx"});
}

TEST_F(AtomicFile, ANewFileGetsTheUmasksPermissionsNotMkstempsPrivateOnes) {
  const mode_t previous = ::umask(027);
  write_file_atomically(folder_ / "report.json", "{}");
  ::umask(previous);
  struct stat info {};
  ASSERT_EQ(::stat((folder_ / "report.json").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0666u & ~027u);
}

// Writers of one target each have their own temporary: the file always holds one writer's
// whole content (a temporary named after the process alone was shared by its threads).
TEST_F(AtomicFile, ConcurrentWritersNeverTearTheFile) {
  const fs::path target = folder_ / "checkpoint.onnx";
  std::vector<std::string> contents;
  for (char c : {'a', 'b', 'c', 'd'}) contents.push_back(std::string(1 << 18, c));
  std::vector<std::thread> writers;
  std::vector<std::string> failures(contents.size());
  for (size_t w = 0; w < contents.size(); ++w) {
    writers.emplace_back([&, w] {
      try {
        for (int i = 0; i < 25; ++i) write_file_atomically(target, contents[w]);
      } catch (const std::exception& e) {
        failures[w] = e.what();
      }
    });
  }
  for (auto& writer : writers) writer.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
  const std::string final_content = read(target);
  EXPECT_NE(std::find(contents.begin(), contents.end(), final_content), contents.end())
      << "torn file of " << final_content.size() << " bytes";
  EXPECT_EQ(names(), std::vector<std::string>{"checkpoint.onnx"});
}

TEST_F(AtomicFile, AnUnwritableFolderIsAClearErrorAndTheOldFileStays) {
  if (::geteuid() == 0) {
    // root writes anywhere: a folder that does not exist is the unwritable case then.
    try {
      write_file_atomically(folder_ / "missing" / "model.onnx", "x");
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                "cannot write " + (folder_ / "missing" / "model.onnx").string() + ": No such file or directory");
    }
    return;
  }
  const fs::path target = folder_ / "model.onnx";
  write_file_atomically(target, "old");
  fs::permissions(folder_, fs::perms::owner_write, fs::perm_options::remove);
  try {
    write_file_atomically(target, "new");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + target.string() + ": Permission denied");
  }
  fs::permissions(folder_, fs::perms::owner_write, fs::perm_options::add);
  EXPECT_EQ(read(target), "old");
  EXPECT_EQ(names(), std::vector<std::string>{"model.onnx"});
}

// When the last step fails (here the target is a folder), the temporary is removed and the
// message names both paths and the reason.
TEST_F(AtomicFile, AFailedRenameLeavesNoTemporary) {
  const fs::path target = folder_ / "a_directory";
  fs::create_directories(target / "inside");
  try {
    write_file_atomically(target, "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot move "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(" to " + target.string() + ": Is a directory"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(names(), std::vector<std::string>{"a_directory"});
}

}  // namespace
}  // namespace onyx
