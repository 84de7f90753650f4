#include "tests/training/torch_reference.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "runtime/common/error.h"
#include "runtime/ir/value_files.h"

namespace onyx::testing {

namespace {

std::filesystem::path generate() {
  const std::filesystem::path script = std::filesystem::path(ONYX_SOURCE_DIR) / "tests/training/torch_reference.py";
  std::ifstream in(script, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  ONYX_CHECK(in.good() || in.eof(), ErrorCode::kInvalidArgument, "cannot read ", script);
  std::ostringstream hash;
  hash << std::hex << std::hash<std::string>{}(content.str());
  const std::filesystem::path dir = std::filesystem::path(ONYX_SOURCE_DIR) / ".cache/torch_reference" / hash.str();
  if (std::filesystem::exists(dir / "done")) return dir;
  // Generate beside the final folder and rename, so concurrent test processes never see half.
  const std::filesystem::path temporary = dir.string() + ".tmp" + std::to_string(::getpid());
  const char* python = std::getenv("ONYX_TORCH_PYTHON");
  const std::string command = std::string(python ? python : "/usr/bin/python3") + " " + script.string() +
                              " --out " + temporary.string() + " > " + temporary.string() + ".log 2>&1";
  std::filesystem::create_directories(temporary.parent_path());
  const int status = std::system(command.c_str());
  ONYX_CHECK(status == 0, ErrorCode::kRuntimeFailure, "the PyTorch reference script failed (", command,
             "); it needs Debian's python3-torch");
  std::error_code error;
  std::filesystem::rename(temporary, dir, error);
  if (error) std::filesystem::remove_all(temporary);  // another process got there first
  std::filesystem::remove(temporary.string() + ".log");
  return dir;
}

}  // namespace

const std::filesystem::path& torch_reference_dir() {
  static const std::filesystem::path dir = generate();
  return dir;
}

Tensor torch_reference(const std::string& name) { return read_npy(torch_reference_dir() / (name + ".npy")); }

}  // namespace onyx::testing
