// The one profiler of onyx: spans of session creation (load, optimize, plan, kernel creation),
// runs, plan steps (nodes and device copies) and subgraph runs (Loop iterations, If branches),
// written as a Chrome trace-event JSON file (the format Perfetto and chrome://tracing open, and
// onnxruntime's enable_profiling writes). `SessionOptions::enable_profiling` gives a session
// one; `onyx run|bench --profile-json`, `onyx bench --profile` and the Python package's
// end_profiling() all read it.
//
// Code reports to the profiler active on its thread (ProfilingScope sets it), so the plans of
// subgraphs, which run inside their Loop's or If's kernel, need no pointer passed down. With no
// profiler active a run reads one thread-local pointer and takes no time stamps.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace onyx {

struct TraceEvent {
  std::string name;
  std::string category;  // "Session", "Run", "Node", "Copy", "Subgraph"
  int64_t start_ns = 0;  // since the profiler was made
  int64_t duration_ns = 0;
  int thread = 0;  // the profiler's own small number for the recording thread
  int depth = 0;   // subgraph nesting: 0 for the session's own graph and its creation
  // Values already rendered as JSON (json_quote for strings), so numbers and lists stay typed.
  std::vector<std::pair<std::string, std::string>> args;
};

class Profiler {
 public:
  Profiler();
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  // Nanoseconds since this profiler was made.
  int64_t now_ns() const;
  // Thread-safe. The event's thread is filled in from the calling thread.
  void record(TraceEvent event);
  // A copy of the events recorded so far, in the order they ended.
  std::vector<TraceEvent> events() const;
  size_t event_count() const;

  // The Chrome trace JSON of the events: {"traceEvents": [...]} with "X" (complete) events,
  // ts/dur in microseconds, plus process and thread names.
  std::string trace_json() const;
  // Writes trace_json() to `path` atomically (temporary file + rename); throws an onyx::Error
  // naming the path when its folder is missing or not writable.
  void write(const std::filesystem::path& path) const;

 private:
  int thread_number();  // under mutex_

  std::chrono::steady_clock::time_point origin_;
  mutable std::mutex mutex_;
  std::vector<TraceEvent> events_;
  std::vector<std::pair<std::size_t, int>> threads_;  // std::thread::id hash -> number
};

// The profiler the calling thread reports to (null: none).
Profiler* active_profiler();

// Makes `profiler` the calling thread's active one for the scope's life (null leaves the
// current one in place), then restores the previous one.
class ProfilingScope {
 public:
  explicit ProfilingScope(Profiler* profiler);
  ~ProfilingScope();
  ProfilingScope(const ProfilingScope&) = delete;
  ProfilingScope& operator=(const ProfilingScope&) = delete;

 private:
  Profiler* previous_;
};

// Records one span from construction to destruction on the active profiler (if any). Used for
// the coarse phases (session creation, a run), not per step, where the plan times by hand.
class ProfiledSpan {
 public:
  ProfiledSpan(std::string name, std::string category);
  ~ProfiledSpan();
  ProfiledSpan(const ProfiledSpan&) = delete;
  ProfiledSpan& operator=(const ProfiledSpan&) = delete;
  void add_arg(std::string key, std::string json_value);

 private:
  Profiler* profiler_;
  TraceEvent event_;
};

// `text` as a JSON string literal, quotes included.
std::string json_quote(const std::string& text);
// The value of `event`'s argument `key` as text (a string argument without its quotes); empty
// when the event has none.
std::string trace_arg_text(const TraceEvent& event, const std::string& key);

// The nesting the plan's steps report through: which node's kernel is running on this thread
// (so a subgraph's run knows its Loop/If and its iteration number) and how deep.
struct RunningNode {
  std::string name;     // the node's trace name
  std::string op_type;
  int depth = 0;        // of the node's own plan
  int64_t subgraph_runs = 0;  // runs of its subgraphs so far, in this execution of the node
  RunningNode* outer = nullptr;
};
RunningNode* running_node();
void set_running_node(RunningNode* node);

}  // namespace onyx
