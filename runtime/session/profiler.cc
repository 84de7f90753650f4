#include "runtime/session/profiler.h"

#include <unistd.h>

#include <cstdio>
#include <functional>
#include <thread>

#include "runtime/common/atomic_file.h"
#include "runtime/common/error.h"

namespace onyx {

namespace {

thread_local Profiler* tls_active_profiler = nullptr;
thread_local RunningNode* tls_running_node = nullptr;

// Microseconds with nanosecond digits: Chrome's trace format counts in µs and takes fractions.
std::string trace_microseconds(int64_t ns) {
  char text[32];
  std::snprintf(text, sizeof(text), "%lld.%03lld", static_cast<long long>(ns / 1000),
                static_cast<long long>(ns % 1000));
  return text;
}

}  // namespace

std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string trace_arg_text(const TraceEvent& event, const std::string& key) {
  for (const auto& [name, value] : event.args) {
    if (name != key) continue;
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') return value.substr(1, value.size() - 2);
    return value;
  }
  return {};
}

Profiler::Profiler() : origin_(std::chrono::steady_clock::now()) {}

int64_t Profiler::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - origin_).count();
}

int Profiler::thread_number() {
  const std::size_t id = std::hash<std::thread::id>{}(std::this_thread::get_id());
  for (const auto& [hash, number] : threads_) {
    if (hash == id) return number;
  }
  threads_.emplace_back(id, static_cast<int>(threads_.size()) + 1);
  return threads_.back().second;
}

void Profiler::record(TraceEvent event) {
  std::lock_guard<std::mutex> lock(mutex_);
  event.thread = thread_number();
  events_.push_back(std::move(event));
}

std::vector<TraceEvent> Profiler::events() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_;
}

size_t Profiler::event_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_.size();
}

std::string Profiler::trace_json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string pid = std::to_string(::getpid());
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  out += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + pid + ",\"tid\":0,\"args\":{\"name\":\"onyx\"}}";
  for (const auto& [hash, number] : threads_) {
    out += ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + pid + ",\"tid\":" + std::to_string(number) +
           ",\"args\":{\"name\":\"onyx thread " + std::to_string(number) + "\"}}";
  }
  for (const TraceEvent& event : events_) {
    out += ",\n{\"ph\":\"X\",\"name\":" + json_quote(event.name) + ",\"cat\":" + json_quote(event.category) +
           ",\"pid\":" + pid + ",\"tid\":" + std::to_string(event.thread) +
           ",\"ts\":" + trace_microseconds(event.start_ns) + ",\"dur\":" + trace_microseconds(event.duration_ns) +
           ",\"args\":{\"depth\":" + std::to_string(event.depth);
    for (const auto& [key, value] : event.args) out += "," + json_quote(key) + ":" + value;
    out += "}}";
  }
  return out + "\n]}\n";
}

void Profiler::write(const std::filesystem::path& path) const {
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code error;
  ONYX_CHECK(std::filesystem::is_directory(folder, error), ErrorCode::kInvalidArgument, "cannot write the profile '",
             path.string(), "': the folder '", folder.string(), "' does not exist");
  write_file_atomically(path, trace_json());
}

Profiler* active_profiler() { return tls_active_profiler; }

ProfilingScope::ProfilingScope(Profiler* profiler) : previous_(tls_active_profiler) {
  if (profiler != nullptr) tls_active_profiler = profiler;
}

ProfilingScope::~ProfilingScope() { tls_active_profiler = previous_; }

ProfiledSpan::ProfiledSpan(std::string name, std::string category) : profiler_(tls_active_profiler) {
  if (profiler_ == nullptr) return;
  event_.name = std::move(name);
  event_.category = std::move(category);
  event_.depth = tls_running_node ? tls_running_node->depth + 1 : 0;
  event_.start_ns = profiler_->now_ns();
}

ProfiledSpan::~ProfiledSpan() {
  if (profiler_ == nullptr) return;
  event_.duration_ns = profiler_->now_ns() - event_.start_ns;
  profiler_->record(std::move(event_));
}

void ProfiledSpan::add_arg(std::string key, std::string json_value) {
  if (profiler_ != nullptr) event_.args.emplace_back(std::move(key), std::move(json_value));
}

RunningNode* running_node() { return tls_running_node; }
void set_running_node(RunningNode* node) { tls_running_node = node; }

}  // namespace onyx
