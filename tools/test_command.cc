// `onyx test DIR...`: runs ONNX backend-test folders, each in a forked child process so that a
// crash or a hang in one test is reported as that test's ERROR and the run goes on.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "providers/cpu/cpu_precision.h"
#include "runtime/common/atomic_file.h"
#include "tools/cli_checks.h"
#include "tools/backend_test.h"
#include "tools/commands.h"
#include "tools/custom_ops_option.h"
#include "tools/device_option.h"
#include "tools/precision_option.h"

namespace onyx::cli {

namespace fs = std::filesystem;

namespace {

struct TestOptions {
  std::vector<std::string> folders;
  std::string json_path;
  int jobs = 1;
  int timeout_seconds = 300;
  std::vector<std::string> custom_ops;
  std::string device;
  Precision precision = Precision::kFp32;
};

struct TestCase {
  std::string name;
  fs::path path;
  TestOutcome outcome{TestStatus::kError, "not run"};
  bool done = false;
};

std::vector<TestCase> discover(const std::vector<std::string>& folders) {
  std::vector<TestCase> cases;
  for (const std::string& folder : folders) {
    fs::path root = fs::absolute(folder);
    if (!fs::is_directory(root)) throw_error(ErrorCode::kInvalidArgument, "not a folder: ", folder);
    if (fs::exists(root / "model.onnx")) {
      cases.push_back({root.filename().string(), root});
      continue;
    }
    std::vector<fs::path> children;
    for (const auto& entry : fs::directory_iterator(root)) {
      if (entry.is_directory()) children.push_back(entry.path());
    }
    std::sort(children.begin(), children.end());
    for (const fs::path& child : children) cases.push_back({child.filename().string(), child});
  }
  return cases;
}

// Runs in the child: executes the test and writes "<status char><message>" to the pipe.
[[noreturn]] void child_main(const fs::path& path, int threads, const std::string& device, Precision precision,
                             int fd) {
  TestOutcome outcome{TestStatus::kError, ""};
  try {
    outcome = run_backend_test(path, threads, device, precision);
  } catch (const std::exception& error) {
    outcome = {TestStatus::kError, user_message(error)};
  }
  std::string message = std::string(1, static_cast<char>('0' + static_cast<int>(outcome.status))) + outcome.message;
  size_t written = 0;
  while (written < message.size()) {
    ssize_t n = ::write(fd, message.data() + written, message.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::close(fd);
  std::fflush(nullptr);
  ::_exit(0);
}

struct Running {
  size_t index;
  pid_t pid;
  int fd;
  std::string buffer;
  std::chrono::steady_clock::time_point started;
};

TestOutcome finish(Running& running, bool timed_out, int timeout_seconds) {
  int status = 0;
  if (timed_out) ::kill(running.pid, SIGKILL);
  ::waitpid(running.pid, &status, 0);
  ::close(running.fd);
  if (timed_out) return {TestStatus::kError, "timed out after " + std::to_string(timeout_seconds) + " s"};
  if (WIFSIGNALED(status)) {
    return {TestStatus::kError, std::string("crashed with signal ") + std::to_string(WTERMSIG(status)) +
                                    " (" + strsignal(WTERMSIG(status)) + ")"};
  }
  if (running.buffer.empty()) return {TestStatus::kError, "the test process exited without a result"};
  auto status_code = static_cast<TestStatus>(running.buffer[0] - '0');
  std::string message = running.buffer.substr(1);
  std::replace(message.begin(), message.end(), '\n', ' ');
  return {status_code, message};
}

void run_all(std::vector<TestCase>& cases, const TestOptions& options) {
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int threads = std::max(1, cores / std::max(1, options.jobs));
  std::vector<Running> running;
  size_t next = 0;
  size_t printed = 0;
  auto print_ready = [&] {
    while (printed < cases.size() && cases[printed].done) {
      const TestCase& test = cases[printed++];
      std::cout << test_status_word(test.outcome.status) << " " << test.name;
      if (!test.outcome.message.empty()) std::cout << ": " << test.outcome.message;
      std::cout << std::endl;
    }
  };
  while (next < cases.size() || !running.empty()) {
    while (next < cases.size() && static_cast<int>(running.size()) < std::max(1, options.jobs)) {
      int pipe_fds[2];
      if (::pipe(pipe_fds) != 0) throw_error(ErrorCode::kRuntimeFailure, "pipe() failed");
      std::cout.flush();
      pid_t pid = ::fork();
      if (pid < 0) throw_error(ErrorCode::kRuntimeFailure, "fork() failed");
      if (pid == 0) {
        ::close(pipe_fds[0]);
        child_main(cases[next].path, threads, options.device, options.precision, pipe_fds[1]);
      }
      ::close(pipe_fds[1]);
      running.push_back({next++, pid, pipe_fds[0], "", std::chrono::steady_clock::now()});
    }
    std::vector<pollfd> fds;
    for (const Running& r : running) fds.push_back({r.fd, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 100);
    for (size_t i = running.size(); i-- > 0;) {
      Running& r = running[i];
      bool closed = false;
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        char chunk[4096];
        ssize_t n = ::read(r.fd, chunk, sizeof chunk);
        if (n > 0) r.buffer.append(chunk, static_cast<size_t>(n));
        else closed = true;
      }
      bool timed_out = std::chrono::steady_clock::now() - r.started > std::chrono::seconds(options.timeout_seconds);
      if (closed || timed_out) {
        cases[r.index].outcome = finish(r, timed_out && !closed, options.timeout_seconds);
        cases[r.index].done = true;
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    print_ready();
  }
  print_ready();
}

void write_json(const std::vector<TestCase>& cases, const std::string& path) {
  nlohmann::json results = nlohmann::json::array();
  for (const TestCase& test : cases) {
    std::string status = test_status_word(test.outcome.status);
    std::transform(status.begin(), status.end(), status.begin(), ::tolower);
    results.push_back({{"name", test.name}, {"path", test.path.string()}, {"status", status},
                       {"message", test.outcome.message}});
  }
  write_file_atomically(path, nlohmann::json{{"results", results}}.dump(1) + "\n");
}

int run_tests(TestOptions options) {
  load_custom_op_libraries(options.custom_ops);  // before forking: every test's process has them
  // Resolved before forking too, so a CPU without bf16 prints its notice once, not per test.
  options.precision = resolve_precision(options.precision);
  std::vector<TestCase> cases = discover(options.folders);
  run_all(cases, options);
  int passed = 0, failed = 0, skipped = 0;
  for (const TestCase& test : cases) {
    if (test.outcome.status == TestStatus::kPass) ++passed;
    else if (test.outcome.status == TestStatus::kSkip) ++skipped;
    else ++failed;
  }
  if (!options.json_path.empty()) write_json(cases, options.json_path);
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped" << std::endl;
  return failed == 0 ? 0 : 1;
}

}  // namespace

Command add_test_command(CLI::App& app) {
  auto options = std::make_shared<TestOptions>();
  CLI::App* command = app.add_subcommand("test", "Run ONNX backend-test folders (model.onnx + test_data_set_*)");
  command->add_option("folders", options->folders, "test folders, or folders of test folders")->required();
  command->add_option("--json", options->json_path, "also write the results as JSON here");
  command->add_option("--jobs,-j", options->jobs, "tests run at once, each in its own process")->check(positive());
  command->add_option("--timeout", options->timeout_seconds, "seconds before a test is stopped and reported as ERROR")
      ->check(positive());
  add_custom_ops_option(*command, options->custom_ops);
  add_device_option(*command, options->device);
  add_precision_option(*command, options->precision,
                       "bf16 runs convolutions and matrix products on bf16 and compares floats within bf16's tolerance (rtol 3e-2, atol 1e-2)");
  return [options] { return run_tests(*options); };
}

}  // namespace onyx::cli
