#include "runtime/common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "runtime/common/error.h"

namespace onyx {

namespace {

// The process's umask, from /proc (reading it with umask() means setting it, which would race
// with other threads creating files); 022 if /proc does not say.
mode_t process_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
  }
  return 022;
}

std::string system_reason(int error_number) {
  if (error_number == ENOSPC) return "no space left on the device";
  return std::strerror(error_number);
}

// Removes the temporary file when the write does not reach its rename.
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::filesystem::path& target) : name_(target.string() + ".tmpXXXXXX") {
    std::vector<char> pattern(name_.begin(), name_.end());
    pattern.push_back('\0');
    fd_ = ::mkstemp(pattern.data());
    if (fd_ < 0) {
      throw_error(ErrorCode::kInvalidArgument, "cannot write ", target.string(), ": ", system_reason(errno));
    }
    name_ = pattern.data();
  }
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(name_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  // Closes the descriptor, reporting what close() reports (NFS defers write errors to it).
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }
  void commit() { committed_ = true; }

 private:
  std::string name_;
  int fd_ = -1;
  bool committed_ = false;
};

void write_all(int fd, const std::string& bytes, const std::filesystem::path& target) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      throw_error(ErrorCode::kRuntimeFailure, "writing ", target.string(), " failed: ", system_reason(errno));
    }
    written += static_cast<size_t>(n);
  }
}

// A rename is durable only once the folder's entry is on disk too.
void sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the file is in place; only its durability across a power cut is unknown
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, const std::string& bytes) {
  TemporaryFile temporary(path);
  write_all(temporary.fd(), bytes, path);
  struct stat existing {};
  const mode_t mode = ::stat(path.c_str(), &existing) == 0 ? (existing.st_mode & 07777)
                                                           : (0666 & ~process_umask());
  if (::fchmod(temporary.fd(), mode) != 0 || ::fsync(temporary.fd()) != 0 || temporary.close() != 0) {
    throw_error(ErrorCode::kRuntimeFailure, "writing ", path.string(), " failed: ", system_reason(errno));
  }
  if (::rename(temporary.name().c_str(), path.c_str()) != 0) {
    throw_error(ErrorCode::kRuntimeFailure, "cannot move ", temporary.name(), " to ", path.string(), ": ",
                system_reason(errno));
  }
  temporary.commit();
  sync_folder(path.parent_path());
}

}  // namespace onyx
